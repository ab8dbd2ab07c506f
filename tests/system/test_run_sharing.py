"""Two `collabgap run` processes on one PostgreSQL store share the plan: each episode is played and stored once."""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabgap.services.coordinator import Store, load_run_file
from collabgap.services.coordinator.runs._run import plan_run
from tests._command import COLLABGAP
from tests._postgres import fresh_schema

COMMAND = [*COLLABGAP, "run"]
RUN_FILE = """\
name = "shared"
runs_dir = "{runs}"
store = "{store}"

[agents.cartographer]
player = "scripted:cartographer"

[agents.follower]
player = "scripted:follower"

[mazes]
count = 4
size = 6
seed = 3

[[conditions]]
kind = "solo-full"
agents = ["cartographer", "follower"]

[[conditions]]
kind = "pair"
agents = ["cartographer", "follower"]
pairing = "all"

[concurrency]
games = 2
"""


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema of the test database, dropped afterwards."""
    with fresh_schema("run two runners on one PostgreSQL store") as url:
        yield url


def test_two_runners_on_one_store_play_the_plan_once_between_them(tmp_path: Path, postgres_url: str) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN_FILE.format(runs=tmp_path / "runs", store=postgres_url))
    plan = sorted(spec.episode_id for spec in plan_run(load_run_file(path), path))

    runners = [subprocess.Popen([*COMMAND, str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    outputs = [runner.communicate(timeout=300)[0] for runner in runners]

    assert [runner.returncode for runner in runners] == [0, 0], outputs
    played = [int(re.search(r"(\d+) played now", out).group(1)) for out in outputs]  # type: ignore[union-attr]
    assert sum(played) == len(plan)
    with Store.open(postgres_url) as store:
        records = store.episodes("shared")
        assert store.claim_holders("shared") == {}  # every claim ended with its save
    assert sorted(Counter(record.spec.episode_id for record in records)) == plan
    assert len(records) == len(plan)
