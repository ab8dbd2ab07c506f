"""The public surface of `protocol` is its sorted `__all__` (STYLE.md §2.2)."""

from __future__ import annotations

from collabgap import protocol
from tests._surface import assert_public_surface


def test_protocol_all_is_sorted_complete_and_real() -> None:
    """Every re-export of a `protocol._*` module is listed in the sorted `__all__`, and nothing else (STYLE.md §2.2)."""
    assert_public_surface(protocol)
