"""A run file covering every condition runs; killed with SIGKILL, or stopped with Ctrl-C, midway, it resumes to
exactly its plan."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from collabgap.services.coordinator import Store, load_run_file
from collabgap.services.coordinator.runs._run import plan_run
from tests._command import COLLABGAP

EXAMPLE = Path(__file__).parents[2] / "examples" / "scripted-run.toml"
COMMAND = [*COLLABGAP, "run"]


def run_file(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text().replace("count = 4", "count = 3")
    path = tmp_path / "run.toml"
    path.write_text(f'runs_dir = "{tmp_path / "runs"}"\n{text}')
    return path


def stored(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        try:
            return int(connection.execute("select count(*) from collabgap_episodes").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def stop_midway(runner: subprocess.Popen[str], database: Path, planned: int, stop: Callable[[], None]) -> None:
    midway = threading.Event()
    for _ in range(1200):  # up to 60 s for a third of the plan
        if stored(database) >= planned // 3:
            midway.set()
            break
        midway.wait(0.05)
    assert midway.is_set(), "the run stored too few episodes before the deadline"
    stop()


def test_killed_run_resumes_without_losing_or_repeating_an_episode(tmp_path: Path) -> None:
    path = run_file(tmp_path)
    plan = {spec.episode_id for spec in plan_run(load_run_file(path), path)}
    database = tmp_path / "runs" / "scripted-all-conditions" / "store.db"
    runner = subprocess.Popen([*COMMAND, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    stop_midway(runner, database, len(plan), lambda: os.kill(runner.pid, signal.SIGKILL))
    runner.wait(timeout=10)
    assert 0 < stored(database) < len(plan)

    # The killed runner's claims on its episodes in flight are taken over at once: its process is gone.
    finished = subprocess.run([*COMMAND, str(path)], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "already stored" in finished.stdout
    with Store.open(f"sqlite:///{database}") as store:
        records = store.episodes("scripted-all-conditions")
    ids = [record.spec.episode_id for record in records]
    assert sorted(ids) == sorted(plan)  # none lost, none twice
    assert not [record for record in records if record.status == "error"]
    conditions = {(r.spec.condition, r.spec.mode, r.spec.relay.kind if r.spec.relay else None) for r in records}
    assert len(conditions) == 6


def test_ctrl_c_stores_no_episode_in_flight_and_the_next_run_plays_them(tmp_path: Path) -> None:
    """Ctrl-C reaches the runner's whole process group, as at a terminal; the run's services are not in it."""
    path = run_file(tmp_path)
    plan = {spec.episode_id for spec in plan_run(load_run_file(path), path)}
    database = tmp_path / "runs" / "scripted-all-conditions" / "store.db"
    runner = subprocess.Popen([*COMMAND, str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                              start_new_session=True)
    stop_midway(runner, database, len(plan), lambda: os.killpg(runner.pid, signal.SIGINT))
    out, _ = runner.communicate(timeout=60)
    assert runner.returncode == 130, out
    assert "Interrupted" in out
    with Store.open(f"sqlite:///{database}") as store:
        records = store.episodes("scripted-all-conditions")
    assert 0 < len(records) < len(plan)
    assert [r.spec.episode_id for r in records if r.status == "error"] == []  # none stored as a failure

    finished = subprocess.run([*COMMAND, str(path)], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"{len(records)} already stored, {len(plan) - len(records)} played now" in finished.stdout
    with Store.open(f"sqlite:///{database}") as store:
        ids = sorted(record.spec.episode_id for record in store.episodes("scripted-all-conditions"))
    assert ids == sorted(plan)
