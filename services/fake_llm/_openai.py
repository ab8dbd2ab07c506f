"""The OpenAI Chat Completions dialect: `POST /v1/chat/completions`, as documented by OpenAI.

Requests carry `Authorization: Bearer <key>`. Unknown request fields are ignored, as OpenAI ignores the options
a model does not use; only text content is understood (string content or `{"type": "text"}` parts).

Function calling: `tools` of type `function` and `tool_choice` (`"none"` means text only) are read; the model's
calls come back as `message.tool_calls` with `finish_reason: "tool_calls"`, or streamed as `delta.tool_calls`
pieces (the first with `index`, `id`, `type` and `function.name`, then `function.arguments` fragments); results
go back as `role: "tool"` messages with `tool_call_id`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._dialect import (
    ChatRequest,
    Completion,
    ErrorKind,
    FakeVendorError,
    Frames,
    check_tool_results,
    dumps,
    join_text,
    split_arguments,
)
from ._models import ChatTurn, Role, ToolCall

_ERROR_TYPES: Mapping[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "invalid_request_error",
    "not_found": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server_error": "server_error",
}
_ROLES: Mapping[str, Role] = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant",
                              "tool": "tool"}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TextPart(_Wire):
    type: Literal["text"]
    text: str


class _Function(_Wire):
    name: str = Field(min_length=1)
    arguments: str = ""


class _ToolCall(_Wire):
    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: _Function


class _Message(_Wire):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[_TextPart] | None = None
    tool_calls: list[_ToolCall] | None = None
    tool_call_id: str | None = None


class _FunctionDefinition(_Wire):
    name: str = Field(min_length=1)
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)


class _Tool(_Wire):
    type: Literal["function"]
    function: _FunctionDefinition


class _StreamOptions(_Wire):
    include_usage: bool = False


class _Request(_Wire):
    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: bool | None = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    tools: list[_Tool] | None = None
    tool_choice: Literal["none", "auto", "required"] | dict[str, Any] | None = None


class OpenAIDialect:
    """Chat Completions requests, responses, stream chunks and errors (see `Dialect`)."""

    id_prefix = "chatcmpl-"
    tool_id_prefix = "call_"
    path = "/v1/chat/completions"

    def credential(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return key.strip() or None if scheme.lower() == "bearer" else None

    def check_headers(self, headers: Mapping[str, str]) -> None:
        return None

    def parse(self, body: Any) -> ChatRequest:
        request = _Request.model_validate(body)
        turns = tuple(_turn(message) for message in request.messages)
        check_tool_results(turns)
        include_usage = request.stream_options is not None and request.stream_options.include_usage
        offered = tuple(tool.function.name for tool in request.tools or ()) if request.tool_choice != "none" else ()
        return ChatRequest(model=request.model, turns=turns, stream=bool(request.stream),
                           include_usage=include_usage,
                           max_tokens=request.max_completion_tokens or request.max_tokens, tools=offered,
                           tools_chars=_size(request.tools))

    def error_body(self, error: FakeVendorError) -> dict[str, Any]:
        return {"error": {"message": error.message, "type": _ERROR_TYPES[error.kind], "param": None,
                          "code": error.code}}

    def body(self, completion: Completion) -> dict[str, Any]:
        return {
            "id": completion.id,
            "object": "chat.completion",
            "created": completion.created,
            "model": completion.model,
            "choices": [{
                "index": 0,
                "message": _message(completion),
                "logprobs": None,
                "finish_reason": completion.finish,
            }],
            "usage": _usage(completion),
            "system_fingerprint": None,
        }

    def frames(self, completion: Completion, request: ChatRequest) -> Frames:
        usage: dict[str, Any] = {"usage": None} if request.include_usage else {}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _event(_chunk(completion, [choice], **usage))

        tail = [chunk({}, completion.finish)]
        if request.include_usage:
            tail.append(_event(_chunk(completion, [], usage=_usage(completion))))
        tail.append("data: [DONE]\n\n")
        calls: list[str] = []
        for index, call in enumerate(completion.tool_calls):
            calls.append(chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function",
                                                "function": {"name": call.name, "arguments": ""}}]}))
            calls.extend(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
                         for piece in split_arguments(call))
        silent = completion.tool_calls and not completion.text
        return Frames(
            head=[chunk({"role": "assistant", "content": None if silent else "", "refusal": None})],
            content=[chunk({"content": piece}) for piece in completion.chunks] + calls,
            tail=tail,
        )


def _turn(message: _Message) -> ChatTurn:
    calls = tuple(ToolCall(call.function.name, _arguments(call.function.arguments), call.id)
                  for call in message.tool_calls or ())
    text = join_text(message.content)
    # Chat Completions has no error flag on tool results; clients say "Error…" in the text, as MCP's do.
    failed = message.role == "tool" and text.lstrip().lower().startswith("error")
    return ChatTurn(_ROLES[message.role], text, tool_calls=calls, tool_call_id=message.tool_call_id,
                    is_error=failed)


def _arguments(text: str) -> dict[str, Any]:
    """The arguments a client sends back as it got them; unreadable ones are kept as no arguments."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _message(completion: Completion) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": completion.text or None if completion.tool_calls
                               else completion.text, "refusal": None}
    if completion.tool_calls:
        message["tool_calls"] = [{"id": call.id, "type": "function",
                                  "function": {"name": call.name, "arguments": dumps(call.arguments)}}
                                 for call in completion.tool_calls]
    return message


def _chunk(completion: Completion, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": completion.id, "object": "chat.completion.chunk", "created": completion.created,
            "model": completion.model, "system_fingerprint": None, "choices": choices, **extra}


def _usage(completion: Completion) -> dict[str, Any]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _size(tools: list[_Tool] | None) -> int:
    """Characters of the tool definitions as sent."""
    return len(dumps([tool.model_dump() for tool in tools])) if tools else 0


def _event(data: dict[str, Any]) -> str:
    return f"data: {dumps(data)}\n\n"
