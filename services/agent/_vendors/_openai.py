"""Any OpenAI-compatible chat-completions endpoint (OpenAI, Azure, vLLM, Ollama, OpenRouter, Groq, xAI...)."""

from __future__ import annotations

import json
from typing import Any

import httpx

from protocol import Usage

from ._base import ChatMessage, Completion, VendorSpec
from ._http import EndpointClient, RetryableError, check_status, is_event_stream, sse_events


def _usage(spec: VendorSpec, raw: dict[str, Any] | None) -> dict[str, int]:
    raw = raw or {}
    details = raw.get("completion_tokens_details") or {}
    return {"prompt_tokens": int(raw.get("prompt_tokens") or 0),
            "completion_tokens": int(raw.get("completion_tokens") or 0),
            "reasoning_tokens": int(details.get("reasoning_tokens") or 0)}


class OpenAIChat:
    """Chat completions over httpx, streamed by default so long answers never trip a read timeout."""

    def __init__(self, spec: VendorSpec, endpoint: EndpointClient) -> None:
        self.spec = spec
        self._endpoint = endpoint

    def _request(self, messages: list[ChatMessage]) -> dict[str, Any]:
        spec = self.spec
        fields: dict[str, Any] = {"model": spec.model, "messages": [{"role": m.role, "content": m.content}
                                                                    for m in messages]}
        if spec.reasoning_effort:
            fields.update(reasoning_effort=spec.reasoning_effort, max_completion_tokens=spec.max_tokens)
        else:
            fields["max_tokens"] = spec.max_tokens
        if spec.temperature is not None:
            fields["temperature"] = spec.temperature
        if spec.stream:
            fields.update(stream=True, stream_options={"include_usage": True})
        return self._endpoint.body(fields)

    async def complete(self, messages: list[ChatMessage]) -> Completion:
        key = self.spec.api_key()
        body = self._request(messages)
        headers = self._endpoint.headers({"Authorization": f"Bearer {key.get_secret_value()}"})
        url = f"{self.spec.url}/chat/completions"

        async def attempt() -> tuple[str, dict[str, int]]:
            async with self._endpoint.http.stream("POST", url, json=body, headers=headers) as response:
                if response.status_code >= 400 or not is_event_stream(response):
                    raw = await response.aread()
                    check_status(response, raw)
                    return _parse_whole(raw, self.spec)
                return await _parse_stream(response, self.spec)

        (text, usage), calls, latency = await self._endpoint.call(attempt)
        return Completion(text, Usage(model=self.spec.model, calls=calls, latency_s=latency, **usage))


def _parse_whole(raw: bytes, spec: VendorSpec) -> tuple[str, dict[str, int]]:
    try:
        data = json.loads(raw)
        text = data["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise RetryableError(f"malformed chat completion ({type(exc).__name__})") from exc
    return text, _usage(spec, data.get("usage"))


async def _parse_stream(response: httpx.Response, spec: VendorSpec) -> tuple[str, dict[str, int]]:
    pieces: list[str] = []
    usage: dict[str, Any] | None = None
    async for _, data in sse_events(response):
        if data == "[DONE]":
            return "".join(pieces), _usage(spec, usage)
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise RetryableError("malformed stream chunk") from exc
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            pieces.append((choice.get("delta") or {}).get("content") or "")
    raise RetryableError("the stream ended before [DONE]")
