from __future__ import annotations

from collabgap.services import fake_llm
from tests._surface import assert_public_surface


def test_fake_llm_exports_exactly_its_public_names() -> None:
    assert_public_surface(fake_llm)
    assert fake_llm.__all__ == ["ChatTurn", "FakeVendorSettings", "MODELS", "ModelReply", "ToolCall",
                                "UnknownModelError", "create_fake_vendor_app", "respond"]
