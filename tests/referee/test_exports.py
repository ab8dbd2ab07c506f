from __future__ import annotations

from collabgap import referee
from tests._surface import assert_public_surface


def test_referee_exports_exactly_its_public_names() -> None:
    assert_public_surface(referee)
