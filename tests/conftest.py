"""Shared fixtures: real services on loopback ports, started once per test session."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from collabgap.services.coordinator import SeatSpec, ServiceGroup


@dataclass(frozen=True)
class Stack:
    """A running referee and one agent service per scripted player."""

    referee_url: str
    token: SecretStr
    cartographer: SeatSpec
    follower: SeatSpec


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    token = secrets.token_urlsafe(16)
    with ServiceGroup(log_dir=tmp_path_factory.mktemp("service-logs")) as services:
        yield Stack(
            referee_url=services.start_referee(token),
            token=SecretStr(token),
            cartographer=SeatSpec(name="cartographer", url=services.start_agent("scripted:cartographer")),
            follower=SeatSpec(name="follower", url=services.start_agent("scripted:follower")),
        )
