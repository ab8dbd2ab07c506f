"""What the OpenAI and Anthropic dialects of the fake vendor share: the parsed request, the completion,
the error kinds, and the token and chunk arithmetic.

Each vendor module (`_openai.py`, `_anthropic.py`) is a `Dialect`: it reads its vendor's request into a
`ChatRequest`, and writes a `Completion` or a `FakeVendorError` back in its vendor's wire format. The app
(`_app.py`) owns everything in between, so both APIs behave the same way apart from their wire.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import pydantic

from ._models import ChatTurn, ToolCall

ErrorKind = Literal["invalid_request", "authentication", "not_found", "rate_limit", "server_error"]
FinishReason = Literal["stop", "length", "tool_calls"]

STATUS: Mapping[ErrorKind, int] = {
    "invalid_request": 400,
    "authentication": 401,
    "not_found": 404,
    "rate_limit": 429,
    "server_error": 500,
}
"""The HTTP status each error kind is answered with, the same for both vendors."""

CHARS_PER_TOKEN = 4
WORDS_PER_CHUNK = 3
_WORD_START = re.compile(r"(?<=\s)(?=\S)")


class FakeVendorError(Exception):
    """A request the fake vendor answers with an error, in the calling vendor's error shape.

    Internal to the app: it never escapes an endpoint; the dialect turns it into a response. Named apart from the
    agent's `VendorError` (a model that could not be had), which is what a client of the fake vendor raises.
    """

    def __init__(self, kind: ErrorKind, message: str, *, code: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.code = code
        self.headers = dict(headers or {})

    @property
    def status(self) -> int:
        return STATUS[self.kind]


@dataclass(frozen=True)
class ChatRequest:
    """One chat request, vendor-neutral: what the model sees and how the client wants the answer."""

    model: str
    turns: tuple[ChatTurn, ...]
    """The system prompt first (role "system"), then the conversation in order."""
    stream: bool = False
    include_usage: bool = False
    """OpenAI only: whether a stream ends with a usage chunk (Anthropic streams always carry usage)."""
    max_tokens: int | None = None
    tools: tuple[str, ...] = ()
    """The names of the functions the model may call now (empty when none are offered, or the client asked for
    text with `tool_choice` none)."""
    tools_chars: int = 0
    """Characters of the tool definitions sent; they count as prompt tokens, as they do at the vendors."""


@dataclass(frozen=True)
class Completion:
    """One answer, with the token counts both vendors report."""

    id: str
    model: str
    created: int
    """Unix seconds."""
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish: FinishReason
    """"length" when `max_tokens` cut the text short, as a real model stops mid-sentence; "tool_calls" when the
    model called functions and waits for their results."""
    chunks: tuple[str, ...] = field(default=())
    """The text in the pieces a stream sends; they join to `text`."""
    tool_calls: tuple[ToolCall, ...] = ()
    """The functions the model called, each with its id."""


@dataclass(frozen=True)
class Frames:
    """A server-sent event stream in three parts, so a `cut_stream` fault can stop after a few content frames."""

    head: list[str]
    content: list[str]
    tail: list[str]


class Dialect(Protocol):
    """One vendor's wire format. Implementations are stateless."""

    path: str
    """The endpoint, e.g. `/v1/chat/completions`."""
    id_prefix: str
    """How the vendor's completion ids begin, e.g. `chatcmpl-`."""
    tool_id_prefix: str
    """How the vendor's tool call ids begin, e.g. `call_`."""

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The API key the request carries, or None when it carries none."""
        ...

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Raise `FakeVendorError` when a header the vendor requires (besides the key) is missing."""
        ...

    def parse(self, body: Any) -> ChatRequest:
        """The request, from its decoded JSON body.

        Raises:
            pydantic.ValidationError: the body is not a request of this vendor.
            FakeVendorError: the request is well formed but asks for something the fake vendor cannot do.
        """
        ...

    def error_body(self, error: FakeVendorError) -> dict[str, Any]: ...

    def body(self, completion: Completion) -> dict[str, Any]: ...

    def frames(self, completion: Completion, request: ChatRequest) -> Frames: ...


def estimate_tokens(characters: int) -> int:
    """About one token per four characters, and never fewer than one: deterministic, close to real tokenizers."""
    return max(1, -(-characters // CHARS_PER_TOKEN))


def split_chunks(text: str) -> tuple[str, ...]:
    """The text in pieces of a few words each, keeping every character, so the pieces join back to `text`."""
    words = [word for word in _WORD_START.split(text) if word]
    return tuple("".join(words[i:i + WORDS_PER_CHUNK]) for i in range(0, len(words), WORDS_PER_CHUNK))


def complete(request: ChatRequest, text: str, *, id: str, created: int,
             tool_calls: tuple[ToolCall, ...] = ()) -> Completion:
    """The completion for `text` (and `tool_calls`), its text cut to `request.max_tokens` (about four characters a
    token) when it is longer."""
    finish: FinishReason = "tool_calls" if tool_calls else "stop"
    completion_tokens = estimate_tokens(len(text) + sum(len(call.name) + len(dumps(call.arguments))
                                                        for call in tool_calls))
    if request.max_tokens is not None and completion_tokens > request.max_tokens:
        text, completion_tokens, finish = text[:request.max_tokens * CHARS_PER_TOKEN], request.max_tokens, "length"
        tool_calls = ()
    prompt_chars = request.tools_chars + sum(
        len(turn.content) + sum(len(call.name) + len(dumps(call.arguments)) for call in turn.tool_calls)
        for turn in request.turns)
    return Completion(id=id, model=request.model, created=created, text=text,
                      prompt_tokens=estimate_tokens(prompt_chars), completion_tokens=completion_tokens, finish=finish,
                      chunks=split_chunks(text), tool_calls=tool_calls)


def split_arguments(call: ToolCall) -> tuple[str, ...]:
    """A call's arguments as JSON text in the few pieces a stream sends; they join to the whole JSON object."""
    text = dumps(call.arguments)
    size = max(1, -(-len(text) // 3))
    return tuple(text[i:i + size] for i in range(0, len(text), size))


def check_tool_results(turns: tuple[ChatTurn, ...]) -> None:
    """Refuse, as both vendors do, a conversation whose tool results do not pair with its tool calls: the calls
    of an assistant turn must each be answered by the tool turns right after it, and a result must answer one.

    Raises:
        FakeVendorError: `invalid_request`, naming the call or result that does not pair.
    """
    waiting: list[str] = []
    for turn in turns:
        if turn.role == "tool":
            if turn.tool_call_id not in waiting:
                raise FakeVendorError("invalid_request", f"the tool result for {turn.tool_call_id!r} answers no "
                                                         "tool call of the assistant turn before it")
            waiting.remove(turn.tool_call_id)
            continue
        if waiting:
            raise FakeVendorError("invalid_request", f"the tool calls {', '.join(waiting)} have no results: answer "
                                                     "each call right after the assistant turn that made it")
        waiting = [call.id for call in turn.tool_calls]
    if waiting:
        raise FakeVendorError("invalid_request", f"the tool calls {', '.join(waiting)} have no results")


def join_text(content: str | list[Any] | None) -> str:
    """A message's text from a string or a list of text parts (`.text` attributes), one part per line."""
    if content is None or isinstance(content, str):
        return content or ""
    return "\n".join(part.text for part in content)


def describe(exc: pydantic.ValidationError) -> str:
    """A validation error as one line a client developer can act on, e.g. `messages.0.role: Input should be …`."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())


def dumps(value: Any) -> str:
    """Compact JSON, as the vendors send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
