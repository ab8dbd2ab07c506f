"""Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure, vLLM, Ollama, OpenRouter, Groq, xAI...)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from collabgap.protocol import Usage

from ._base import (
    ChatMessage,
    Completion,
    ToolCall,
    ToolChoice,
    ToolDefinition,
    VendorSpec,
    read_arguments,
)
from ._http import (
    EndpointClient,
    RetryableError,
    check_status,
    is_event_stream,
    sse_events,
)


def _usage(spec: VendorSpec, raw: dict[str, Any] | None) -> dict[str, int]:
    raw = raw or {}
    details = raw.get("completion_tokens_details") or {}
    return {"prompt_tokens": int(raw.get("prompt_tokens") or 0),
            "completion_tokens": int(raw.get("completion_tokens") or 0),
            "reasoning_tokens": int(details.get("reasoning_tokens") or 0)}


_Parsed = tuple[str, tuple[ToolCall, ...], dict[str, int]]
"""A completion as read off the wire: its text, its tool calls and its token counts."""


def _message(message: ChatMessage) -> dict[str, Any]:
    """One turn in the Chat Completions shape: tool calls on the assistant turn, results as `tool` turns."""
    if message.role == "tool":  # the API has no error flag: an error result says so in its first word
        failed = message.is_error and not message.content.lower().startswith("error")
        return {"role": "tool", "tool_call_id": message.tool_call_id,
                "content": f"Error: {message.content}" if failed else message.content}
    if message.role == "assistant" and message.tool_calls:
        return {"role": "assistant", "content": message.content or None,
                "tool_calls": [{"id": call.id, "type": "function",
                                "function": {"name": call.name, "arguments": json.dumps(call.arguments)}}
                               for call in message.tool_calls]}
    return {"role": message.role, "content": message.content}


class OpenAIChat:
    """Chat completions over httpx, streamed by default so long answers never trip a read timeout."""

    def __init__(self, spec: VendorSpec, endpoint: EndpointClient) -> None:
        self.spec = spec
        self._endpoint = endpoint

    def _request(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None,
                 tool_choice: ToolChoice) -> dict[str, Any]:
        spec = self.spec
        fields: dict[str, Any] = {"model": spec.model, "messages": [_message(m) for m in messages]}
        if tools:
            fields["tools"] = [{"type": "function", "function": {"name": tool.name, "description": tool.description,
                                                                  "parameters": tool.parameters}}
                               for tool in tools]
            fields["tool_choice"] = tool_choice
        if spec.reasoning_effort:
            fields.update(reasoning_effort=spec.reasoning_effort, max_completion_tokens=spec.max_tokens)
        else:
            fields["max_tokens"] = spec.max_tokens
        if spec.temperature is not None:
            fields["temperature"] = spec.temperature
        if spec.stream:
            fields.update(stream=True, stream_options={"include_usage": True})
        return self._endpoint.body(fields)

    async def complete(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None = None, *,
                       tool_choice: ToolChoice = "auto") -> Completion:
        key = self.spec.api_key()
        body = self._request(messages, tools, tool_choice)
        headers = self._endpoint.headers({"Authorization": f"Bearer {key.get_secret_value()}"})
        url = f"{self.spec.url}/chat/completions"

        async def attempt() -> _Parsed:
            async with self._endpoint.http.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 400 or not is_event_stream(response):
                    raw = await response.aread()
                    check_status(response, raw)
                    return _parse_whole(raw, self.spec)
                return await _parse_stream(response, self.spec)

        (text, calls, usage), attempts, latency = await self._endpoint.call(attempt)
        return Completion(text, Usage(model=self.spec.model, calls=attempts, latency_s=latency, **usage), calls)



def _tool_call(call_id: Any, name: Any, arguments: Any) -> ToolCall:
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
        raise RetryableError("malformed tool call (no id or no function name)")
    values, malformed = read_arguments(arguments if isinstance(arguments, str) else None)
    return ToolCall(call_id, name, values, malformed)


def _parse_whole(raw: bytes, spec: VendorSpec) -> _Parsed:
    try:
        data = json.loads(raw)
        message = data["choices"][0]["message"]
        text = message["content"] or ""
        calls = tuple(_tool_call(call["id"], call["function"]["name"], call["function"].get("arguments"))
                      for call in message.get("tool_calls") or [])
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise RetryableError(f"malformed chat completion ({type(exc).__name__})") from exc
    return text, calls, _usage(spec, data.get("usage"))


async def _parse_stream(response: httpx.Response, spec: VendorSpec) -> _Parsed:
    """Text deltas joined; tool calls assembled from their deltas by `index` (id and name first, then
    the arguments in pieces)."""
    pieces: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] | None = None
    async for _, data in sse_events(response):
        if data == "[DONE]":
            assembled = tuple(_tool_call(call.get("id"), call.get("name"), "".join(call["arguments"]))
                              for _, call in sorted(calls.items()))
            return "".join(pieces), assembled, _usage(spec, usage)
        try:
            chunk = json.loads(data)
            usage = chunk.get("usage") or usage
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                pieces.append(delta.get("content") or "")
                for part in delta.get("tool_calls") or []:
                    call = calls.setdefault(int(part.get("index", 0)), {"arguments": []})
                    function = part.get("function") or {}
                    if part.get("id"):
                        call["id"] = part["id"]
                    if function.get("name"):
                        call["name"] = function["name"]
                    call["arguments"].append(function.get("arguments") or "")
        except (ValueError, TypeError, AttributeError) as exc:
            raise RetryableError("malformed stream chunk") from exc
    raise RetryableError("the stream ended before [DONE]")
