"""Issue 5: an agent built with neither collabgap nor a2a-sdk plays whole games through `collabgap run`."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabgap.services.coordinator import Store
from tests._command import COLLABGAP
from tests._serving import serving

from ._text_agent import app

RUN = """\
name = "third-party"
runs_dir = "{runs}"

[agents.carto]
player = "scripted:cartographer"

[agents.text]
url = "{url}"

[mazes]
count = 3
seed = 40

[[conditions]]
kind = "pair"
pairing = "explicit"
pairs = [["text", "carto"], ["carto", "text"]]

[[conditions]]
kind = "solo-split"
agents = ["text"]
"""


@pytest.fixture(scope="module")
def text_agent() -> Iterator[str]:
    with serving(app) as url:
        yield url


def test_text_only_agent_plays_both_seats_through_collabgap_run(text_agent: str, tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN.format(runs=tmp_path / "runs", url=text_agent))
    done = subprocess.run([*COLLABGAP, "run", str(path)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with Store.open(f"sqlite:///{tmp_path / 'runs' / 'third-party' / 'store.db'}") as store:
        records = store.episodes("third-party")
    assert len(records) == 9 and not [r for r in records if r.status == "error"]
    seats = {(r.spec.seat_a.name, r.spec.seat_b.name if r.spec.seat_b else None) for r in records}
    assert seats == {("text", "carto"), ("carto", "text"), ("text", None)}
    assert all(r.status == "solved" for r in records if r.spec.condition == "solo-split")
    assert any(r.status == "solved" for r in records if r.spec.seat_a.name == "text" and r.spec.seat_b)
    assert any(r.status == "solved" for r in records if r.spec.seat_a.name == "carto")
