"""The OpenAI Chat Completions dialect: `POST /v1/chat/completions`, as documented by OpenAI.

Requests carry `Authorization: Bearer <key>`. Unknown request fields are ignored, as OpenAI ignores the options
a model does not use; only text content is understood (string content or `{"type": "text"}` parts).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._dialect import ChatRequest, Completion, ErrorKind, Frames, VendorError, dumps, join_text
from ._models import ChatTurn, Role

_ERROR_TYPES: Mapping[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "invalid_request_error",
    "not_found": "invalid_request_error",
    "rate_limit": "rate_limit_error",
    "server_error": "server_error",
}
_ROLES: Mapping[str, Role] = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TextPart(_Wire):
    type: Literal["text"]
    text: str


class _Message(_Wire):
    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[_TextPart] | None = None


class _StreamOptions(_Wire):
    include_usage: bool = False


class _Request(_Wire):
    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: bool | None = False
    stream_options: _StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)


class OpenAIDialect:
    """Chat Completions requests, responses, stream chunks and errors (see `Dialect`)."""

    id_prefix = "chatcmpl-"
    path = "/v1/chat/completions"

    def credential(self, headers: Mapping[str, str]) -> str | None:
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return key.strip() or None if scheme.lower() == "bearer" else None

    def check_headers(self, headers: Mapping[str, str]) -> None:
        return None

    def parse(self, body: Any) -> ChatRequest:
        request = _Request.model_validate(body)
        turns = tuple(
            ChatTurn(_ROLES[message.role], join_text(message.content))
            for message in request.messages
        )
        include_usage = request.stream_options is not None and request.stream_options.include_usage
        return ChatRequest(model=request.model, turns=turns, stream=bool(request.stream),
                           include_usage=include_usage,
                           max_tokens=request.max_completion_tokens or request.max_tokens)

    def error_body(self, error: VendorError) -> dict[str, Any]:
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
                "message": {"role": "assistant", "content": completion.text, "refusal": None},
                "logprobs": None,
                "finish_reason": completion.finish,
            }],
            "usage": _usage(completion),
            "system_fingerprint": None,
        }

    def frames(self, completion: Completion, request: ChatRequest) -> Frames:
        usage: dict[str, Any] = {"usage": None} if request.include_usage else {}

        def chunk(delta: dict[str, str], finish: str | None = None) -> str:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return _event(_chunk(completion, [choice], **usage))

        tail = [chunk({}, completion.finish)]
        if request.include_usage:
            tail.append(_event(_chunk(completion, [], usage=_usage(completion))))
        tail.append("data: [DONE]\n\n")
        return Frames(
            head=[chunk({"role": "assistant", "content": ""})],
            content=[chunk({"content": piece}) for piece in completion.chunks],
            tail=tail,
        )


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


def _event(data: dict[str, Any]) -> str:
    return f"data: {dumps(data)}\n\n"
