from __future__ import annotations

from types import ModuleType

import pytest

from collabgap.services import agent, coordinator, shared
from collabgap.services.agent import scripted
from collabgap.services.coordinator import analysis, game, interop, report, runs, scale
from tests._surface import assert_public_surface

PACKAGES = [agent, scripted, coordinator, game, runs, analysis, report, interop, scale, shared]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_service_packages_export_exactly_their_public_names(package: ModuleType) -> None:
    assert_public_surface(package)
