"""collabgap's fake LLM vendor: a real HTTP server that speaks the OpenAI Chat Completions and the Anthropic
Messages APIs, answered by scripted models that play the maze in natural English.

It is a test double and a way to try collabgap without an API key: point an LLM player at it as you would at a
real vendor, and its wire, usage counts, latency and faults (429 storms, hangs, cut streams) behave like one.

```python
app = create_fake_vendor_app(FakeVendorSettings(latency=0.05))  # serve with uvicorn, or httpx.ASGITransport(app)
```
"""

from __future__ import annotations

from ._app import FakeVendorSettings, create_fake_vendor_app
from ._models import MODELS, ChatTurn, ModelReply, ToolCall, UnknownModelError, respond

__all__ = [
    "ChatTurn", "FakeVendorSettings", "MODELS", "ModelReply", "ToolCall", "UnknownModelError",
    "create_fake_vendor_app", "respond",
]
