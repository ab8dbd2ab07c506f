"""Issue 5: an agent built with neither collabgap nor a2a-sdk plays whole games through `collabgap run`."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from services.coordinator import Store, free_port

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
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(500):
        if server.started:
            started.set()
            break
        started.wait(0.01)
    assert started.is_set()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def test_text_only_agent_plays_both_seats_through_collabgap_run(text_agent: str, tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN.format(runs=tmp_path / "runs", url=text_agent))
    done = subprocess.run([sys.executable, "-m", "services", "run", str(path)], capture_output=True, text=True,
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
