from __future__ import annotations

import pytest

from collabgap.services import agent, coordinator
from tests._surface import assert_public_surface


@pytest.mark.parametrize("package", [agent, coordinator], ids=lambda p: p.__name__)
def test_service_packages_export_exactly_their_public_names(package: object) -> None:
    assert_public_surface(package)
