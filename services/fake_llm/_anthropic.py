"""The Anthropic Messages dialect: `POST /v1/messages`, as documented by Anthropic.

Requests carry `x-api-key: <key>` and `anthropic-version`; `max_tokens` is required, as it is by Anthropic.
Unknown request fields are ignored; the content understood is text (string content or `{"type": "text"}`
blocks) and tool use. Streams follow the documented event order, including a `ping`.

Tool use: `tools` (`name`, `description`, `input_schema`) and `tool_choice` (`{"type": "none"}` means text only)
are read; the model's calls come back as `tool_use` content blocks with `stop_reason: "tool_use"`, streamed as a
`content_block_start` of type `tool_use` and `input_json_delta` pieces; results go back in the next user
message as `tool_result` blocks (`tool_use_id`, `content`, `is_error`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

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
from ._models import ChatTurn, ToolCall

_ERROR_TYPES: Mapping[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "not_found": "not_found_error",
    "rate_limit": "rate_limit_error",
    "server_error": "api_error",
}
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TextBlock(_Wire):
    type: Literal["text"]
    text: str


class _ToolUseBlock(_Wire):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)


class _ToolResultBlock(_Wire):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str | list[_TextBlock] | None = None
    is_error: bool = False


_Block = Annotated[_TextBlock | _ToolUseBlock | _ToolResultBlock, Field(discriminator="type")]


class _Message(_Wire):
    role: Literal["user", "assistant"]
    content: str | list[_Block]


class _Tool(_Wire):
    name: str = Field(min_length=1)
    description: str = ""
    input_schema: dict[str, Any]


class _ToolChoice(_Wire):
    type: Literal["auto", "any", "tool", "none"]


class _Request(_Wire):
    model: str
    messages: list[_Message] = Field(min_length=1)
    system: str | list[_TextBlock] | None = None
    max_tokens: int = Field(ge=1)
    stream: bool = False
    tools: list[_Tool] | None = None
    tool_choice: _ToolChoice | None = None


def _turns(message: _Message) -> list[ChatTurn]:
    """One message as vendor-neutral turns: a user message's tool results first (one tool turn each), then its
    text; an assistant message's text with its tool calls."""
    if isinstance(message.content, str):
        return [ChatTurn(message.role, message.content)]
    text = join_text([block for block in message.content if isinstance(block, _TextBlock)])
    if message.role == "assistant":
        calls = tuple(ToolCall(block.name, dict(block.input), block.id)
                      for block in message.content if isinstance(block, _ToolUseBlock))
        return [ChatTurn("assistant", text, tool_calls=calls)]
    results = [ChatTurn("tool", join_text(block.content), tool_call_id=block.tool_use_id, is_error=block.is_error)
               for block in message.content if isinstance(block, _ToolResultBlock)]
    has_text = any(isinstance(block, _TextBlock) for block in message.content)
    return results + ([ChatTurn("user", text)] if has_text or not results else [])


class AnthropicDialect:
    """Messages API requests, responses, stream events and errors (see `Dialect`)."""

    id_prefix = "msg_"
    tool_id_prefix = "toolu_"
    path = "/v1/messages"

    def credential(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-api-key", "").strip() or None

    def check_headers(self, headers: Mapping[str, str]) -> None:
        if not headers.get("anthropic-version", "").strip():
            raise FakeVendorError("invalid_request", "anthropic-version: header is required")

    def parse(self, body: Any) -> ChatRequest:
        request = _Request.model_validate(body)
        system = join_text(request.system)
        turns = tuple(([ChatTurn("system", system)] if system else [])
                      + [turn for message in request.messages for turn in _turns(message)])
        check_tool_results(turns)
        offered = (tuple(tool.name for tool in request.tools or ())
                   if request.tool_choice is None or request.tool_choice.type != "none" else ())
        return ChatRequest(model=request.model, turns=turns, stream=request.stream, max_tokens=request.max_tokens,
                           tools=offered,
                           tools_chars=_size(request.tools))

    def error_body(self, error: FakeVendorError) -> dict[str, Any]:
        return {"type": "error", "error": {"type": _ERROR_TYPES[error.kind], "message": error.message}}

    def body(self, completion: Completion) -> dict[str, Any]:
        text = [{"type": "text", "text": completion.text}] if completion.text or not completion.tool_calls else []
        return {
            "id": completion.id,
            "type": "message",
            "role": "assistant",
            "model": completion.model,
            "content": text + [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                               for call in completion.tool_calls],
            "stop_reason": _STOP_REASONS[completion.finish],
            "stop_sequence": None,
            "usage": {"input_tokens": completion.prompt_tokens, "output_tokens": completion.completion_tokens},
        }

    def frames(self, completion: Completion, request: ChatRequest) -> Frames:
        """One content block after another: start, deltas, stop; the first start opens the head (with a `ping`)
        and the last stop opens the tail, so a cut stream stops inside the content."""
        start = {**self.body(completion), "content": [], "stop_reason": None,
                 "usage": {"input_tokens": completion.prompt_tokens, "output_tokens": 1}}
        blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        if completion.text or not completion.tool_calls:
            blocks.append(({"type": "text", "text": ""},
                           [{"type": "text_delta", "text": piece} for piece in completion.chunks]))
        for call in completion.tool_calls:
            blocks.append(({"type": "tool_use", "id": call.id, "name": call.name, "input": {}},
                           [{"type": "input_json_delta", "partial_json": piece} for piece in split_arguments(call)]))
        content: list[str] = []
        for index, (block, deltas) in enumerate(blocks):
            if index:
                content += [_event("content_block_stop", index=index - 1),
                            _event("content_block_start", index=index, content_block=block)]
            content += [_event("content_block_delta", index=index, delta=delta) for delta in deltas]
        return Frames(
            head=[
                _event("message_start", message=start),
                _event("content_block_start", index=0, content_block=blocks[0][0]),
                _event("ping"),
            ],
            content=content,
            tail=[
                _event("content_block_stop", index=len(blocks) - 1),
                _event("message_delta", delta={"stop_reason": _STOP_REASONS[completion.finish],
                                               "stop_sequence": None},
                       usage={"output_tokens": completion.completion_tokens}),
                _event("message_stop"),
            ],
        )


def _size(tools: list[_Tool] | None) -> int:
    """Characters of the tool definitions as sent."""
    return len(dumps([tool.model_dump() for tool in tools])) if tools else 0


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {dumps({'type': kind, **data})}\n\n"
