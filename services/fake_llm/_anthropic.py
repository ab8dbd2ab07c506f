"""The Anthropic Messages dialect: `POST /v1/messages`, as documented by Anthropic.

Requests carry `x-api-key: <key>` and `anthropic-version`; `max_tokens` is required, as it is by Anthropic.
Unknown request fields are ignored; only text content is understood (string content or `{"type": "text"}`
blocks). Streams follow the documented event order, including a `ping`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._dialect import ChatRequest, Completion, ErrorKind, Frames, VendorError, dumps, join_text
from ._models import ChatTurn

_ERROR_TYPES: Mapping[ErrorKind, str] = {
    "invalid_request": "invalid_request_error",
    "authentication": "authentication_error",
    "not_found": "not_found_error",
    "rate_limit": "rate_limit_error",
    "server_error": "api_error",
}
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _TextBlock(_Wire):
    type: Literal["text"]
    text: str


class _Message(_Wire):
    role: Literal["user", "assistant"]
    content: str | list[_TextBlock]


class _Request(_Wire):
    model: str
    messages: list[_Message] = Field(min_length=1)
    system: str | list[_TextBlock] | None = None
    max_tokens: int = Field(ge=1)
    stream: bool = False


class AnthropicDialect:
    """Messages API requests, responses, stream events and errors (see `Dialect`)."""

    id_prefix = "msg_"
    path = "/v1/messages"

    def credential(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-api-key", "").strip() or None

    def check_headers(self, headers: Mapping[str, str]) -> None:
        if not headers.get("anthropic-version", "").strip():
            raise VendorError("invalid_request", "anthropic-version: header is required")

    def parse(self, body: Any) -> ChatRequest:
        request = _Request.model_validate(body)
        system = join_text(request.system)
        turns = ([ChatTurn("system", system)] if system else []) + [
            ChatTurn(message.role, join_text(message.content)) for message in request.messages
        ]
        return ChatRequest(model=request.model, turns=tuple(turns), stream=request.stream,
                           max_tokens=request.max_tokens)

    def error_body(self, error: VendorError) -> dict[str, Any]:
        return {"type": "error", "error": {"type": _ERROR_TYPES[error.kind], "message": error.message}}

    def body(self, completion: Completion) -> dict[str, Any]:
        return {
            "id": completion.id,
            "type": "message",
            "role": "assistant",
            "model": completion.model,
            "content": [{"type": "text", "text": completion.text}],
            "stop_reason": _STOP_REASONS[completion.finish],
            "stop_sequence": None,
            "usage": {"input_tokens": completion.prompt_tokens, "output_tokens": completion.completion_tokens},
        }

    def frames(self, completion: Completion, request: ChatRequest) -> Frames:
        start = {**self.body(completion), "content": [], "stop_reason": None,
                 "usage": {"input_tokens": completion.prompt_tokens, "output_tokens": 1}}
        return Frames(
            head=[
                _event("message_start", message=start),
                _event("content_block_start", index=0, content_block={"type": "text", "text": ""}),
                _event("ping"),
            ],
            content=[
                _event("content_block_delta", index=0, delta={"type": "text_delta", "text": piece})
                for piece in completion.chunks
            ],
            tail=[
                _event("content_block_stop", index=0),
                _event("message_delta", delta={"stop_reason": _STOP_REASONS[completion.finish],
                                               "stop_sequence": None},
                       usage={"output_tokens": completion.completion_tokens}),
                _event("message_stop"),
            ],
        )


def _event(kind: str, **data: Any) -> str:
    return f"event: {kind}\ndata: {dumps({'type': kind, **data})}\n\n"
