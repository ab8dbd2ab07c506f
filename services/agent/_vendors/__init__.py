"""Vendors: how LLM players reach models. Each API has its own module; all share `EndpointClient`."""

from __future__ import annotations

from ._anthropic import AnthropicMessages
from ._base import (
    ChatMessage,
    Completion,
    ToolCall,
    ToolChoice,
    ToolDefinition,
    Vendor,
    VendorError,
    VendorKind,
    VendorSpec,
)
from ._http import EndpointClient
from ._openai import OpenAIChat


def open_vendor(spec: VendorSpec) -> tuple[Vendor, EndpointClient]:
    """A vendor client for `spec` and the endpoint client the caller must close."""
    endpoint = EndpointClient(spec)
    vendor: Vendor = OpenAIChat(spec, endpoint) if spec.kind == "openai" else AnthropicMessages(spec, endpoint)
    return vendor, endpoint


__all__ = ["AnthropicMessages", "ChatMessage", "Completion", "EndpointClient", "OpenAIChat", "ToolCall", "ToolChoice",
           "ToolDefinition", "Vendor", "VendorError", "VendorKind", "VendorSpec", "open_vendor"]
