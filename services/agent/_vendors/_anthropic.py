"""Anthropic's Messages API."""

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

API_VERSION = "2023-06-01"

_Parsed = tuple[str, tuple[ToolCall, ...], dict[str, int]]
"""A message as read off the wire: its text, its tool calls and its token counts."""


def _blocks(message: ChatMessage) -> list[dict[str, Any]]:
    """One turn's content blocks: text, `tool_use` blocks on an assistant turn, a `tool_result` for a tool turn."""
    if message.role == "tool":
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id,
                                  "content": message.content}
        return [{**result, "is_error": True} if message.is_error else result]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": message.content}] if message.content else []
    return blocks + [{"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}
                     for call in message.tool_calls]


def _turns(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """The system prompt apart, and consecutive turns of one role joined (the API wants them alternating).

    Tool results travel as user turns, so they join the partner's next message, results first as the API
    requires. A turn of text alone keeps the plain string form.
    """
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message) if message.tool_calls or message.role == "tool" else [
            {"type": "text", "text": message.content}]
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    return system, [{"role": role, "content": _content(blocks)} for role, blocks in turns]


def _content(blocks: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if all(block["type"] == "text" for block in blocks):
        return "\n\n".join(block["text"] for block in blocks)
    return blocks


class AnthropicMessages:
    """Messages over httpx, streamed by default."""

    def __init__(self, spec: VendorSpec, endpoint: EndpointClient) -> None:
        self.spec = spec
        self._endpoint = endpoint

    async def complete(self, messages: list[ChatMessage], tools: Sequence[ToolDefinition] | None = None, *,
                       tool_choice: ToolChoice = "auto") -> Completion:
        key = self.spec.api_key()
        system, turns = _turns(messages)
        fields: dict[str, Any] = {"model": self.spec.model, "messages": turns, "max_tokens": self.spec.max_tokens}
        if system:
            fields["system"] = system
        if tools:
            fields["tools"] = [{"name": tool.name, "description": tool.description, "input_schema": tool.parameters}
                               for tool in tools]
            fields["tool_choice"] = {"type": tool_choice}
        if self.spec.temperature is not None:
            fields["temperature"] = self.spec.temperature
        if self.spec.stream:
            fields["stream"] = True
        body = self._endpoint.body(fields)
        headers = self._endpoint.headers({"x-api-key": key.get_secret_value(), "anthropic-version": API_VERSION})
        url = f"{self.spec.url}/v1/messages"

        async def attempt() -> _Parsed:
            async with self._endpoint.http.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 400 or not is_event_stream(response):
                    raw = await response.aread()
                    check_status(response, raw)
                    return _parse_whole(raw)
                return await _parse_stream(response)

        (text, calls, usage), attempts, latency = await self._endpoint.call(attempt)
        return Completion(text, Usage(model=self.spec.model, calls=attempts, latency_s=latency, **usage), calls)


def _tool_use(block: dict[str, Any], arguments: dict[str, Any], malformed: str | None = None) -> ToolCall:
    call_id, name = block.get("id"), block.get("name")
    if not isinstance(call_id, str) or not call_id or not isinstance(name, str) or not name:
        raise RetryableError("malformed tool_use block (no id or no name)")
    return ToolCall(call_id, name, arguments, malformed)


def _parse_whole(raw: bytes) -> _Parsed:
    try:
        data = json.loads(raw)
        text = "".join(block.get("text", "") for block in data["content"] if block.get("type") == "text")
        calls = tuple(_tool_use(block, block["input"] if isinstance(block.get("input"), dict) else {},
                                None if isinstance(block.get("input"), dict) else "the input is not an object")
                      for block in data["content"] if block.get("type") == "tool_use")
        usage = data.get("usage") or {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RetryableError(f"malformed message ({type(exc).__name__})") from exc
    return text, calls, {"prompt_tokens": int(usage.get("input_tokens") or 0),
                         "completion_tokens": int(usage.get("output_tokens") or 0)}


async def _parse_stream(response: httpx.Response) -> _Parsed:
    """Text deltas joined; each `tool_use` block assembled from its start and its `input_json_delta` pieces."""
    pieces: list[str] = []
    tool_blocks: dict[int, tuple[dict[str, Any], list[str]]] = {}
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    async for event, data in sse_events(response):
        try:
            payload = json.loads(data)
            kind = payload.get("type", event)
            delta = payload.get("delta") or {}
            if kind == "message_start":
                usage["prompt_tokens"] = int(payload["message"].get("usage", {}).get("input_tokens") or 0)
            elif kind == "content_block_start" and payload["content_block"].get("type") == "tool_use":
                tool_blocks[int(payload["index"])] = (payload["content_block"], [])
            elif kind == "content_block_delta" and delta.get("type") == "text_delta":
                pieces.append(delta["text"])
            elif kind == "content_block_delta" and delta.get("type") == "input_json_delta":
                tool_blocks[int(payload["index"])][1].append(delta.get("partial_json") or "")
            elif kind == "message_delta":
                usage["completion_tokens"] = int(payload.get("usage", {}).get("output_tokens") or 0)
            elif kind == "error":
                raise RetryableError(f"stream error: {payload.get('error', {}).get('message', '')[:300]}")
            elif kind == "message_stop":
                calls = tuple(_tool_use(block, *read_arguments("".join(json_pieces)))
                              for _, (block, json_pieces) in sorted(tool_blocks.items()))
                return "".join(pieces), calls, usage
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RetryableError(f"malformed stream event ({type(exc).__name__})") from exc
    raise RetryableError("the stream ended before message_stop")
