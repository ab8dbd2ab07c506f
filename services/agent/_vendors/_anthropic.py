"""Anthropic's Messages API."""

from __future__ import annotations

import json
from typing import Any

import httpx

from protocol import Usage

from ._base import ChatMessage, Completion, VendorSpec
from ._http import EndpointClient, RetryableError, check_status, is_event_stream, sse_events

API_VERSION = "2023-06-01"


def _turns(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The system prompt apart, and consecutive turns of one role joined (the API wants them alternating)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system":
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
        else:
            turns.append({"role": message.role, "content": message.content})
    return system, turns


class AnthropicMessages:
    """Messages over httpx, streamed by default."""

    def __init__(self, spec: VendorSpec, endpoint: EndpointClient) -> None:
        self.spec = spec
        self._endpoint = endpoint

    async def complete(self, messages: list[ChatMessage]) -> Completion:
        key = self.spec.api_key()
        system, turns = _turns(messages)
        fields: dict[str, Any] = {"model": self.spec.model, "messages": turns, "max_tokens": self.spec.max_tokens}
        if system:
            fields["system"] = system
        if self.spec.temperature is not None:
            fields["temperature"] = self.spec.temperature
        if self.spec.stream:
            fields["stream"] = True
        body = self._endpoint.body(fields)
        headers = self._endpoint.headers({"x-api-key": key.get_secret_value(), "anthropic-version": API_VERSION})
        url = f"{self.spec.url}/v1/messages"

        async def attempt() -> tuple[str, dict[str, int]]:
            async with self._endpoint.http.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 400 or not is_event_stream(response):
                    raw = await response.aread()
                    check_status(response, raw)
                    return _parse_whole(raw)
                return await _parse_stream(response)

        (text, usage), calls, latency = await self._endpoint.call(attempt)
        return Completion(text, Usage(model=self.spec.model, calls=calls, latency_s=latency, **usage))


def _parse_whole(raw: bytes) -> tuple[str, dict[str, int]]:
    try:
        data = json.loads(raw)
        text = "".join(block.get("text", "") for block in data["content"] if block.get("type") == "text")
        usage = data.get("usage") or {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RetryableError(f"malformed message ({type(exc).__name__})") from exc
    return text, {"prompt_tokens": int(usage.get("input_tokens") or 0),
                  "completion_tokens": int(usage.get("output_tokens") or 0)}


async def _parse_stream(response: httpx.Response) -> tuple[str, dict[str, int]]:
    pieces: list[str] = []
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    async for event, data in sse_events(response):
        try:
            payload = json.loads(data)
        except ValueError as exc:
            raise RetryableError("malformed stream event") from exc
        kind = payload.get("type", event)
        if kind == "message_start":
            usage["prompt_tokens"] = int(payload["message"].get("usage", {}).get("input_tokens") or 0)
        elif kind == "content_block_delta" and payload.get("delta", {}).get("type") == "text_delta":
            pieces.append(payload["delta"]["text"])
        elif kind == "message_delta":
            usage["completion_tokens"] = int(payload.get("usage", {}).get("output_tokens") or 0)
        elif kind == "error":
            raise RetryableError(f"stream error: {payload.get('error', {}).get('message', '')[:300]}")
        elif kind == "message_stop":
            return "".join(pieces), usage
    raise RetryableError("the stream ended before message_stop")
