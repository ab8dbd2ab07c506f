"""Budget caps stop scheduling; platform errors are retried, every attempt kept and counted, and replayed on request."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from collabgap.services.coordinator import (
    RunProgress,
    ServiceGroup,
    Store,
    StoreError,
    execute_run,
    free_port,
    load_run_file,
)
from collabgap.services.fake_llm import FakeVendorSettings
from tests._command import COLLABGAP

SIM_PAIRS = """\
[agents.sim]
player = "openai:sim-cartographer"
base_url = "{vendor}/v1"
api_key_env = "BUDGET_TEST_KEY"

[mazes]
count = {mazes}

[[conditions]]
kind = "pair"
pairing = "homogeneous"
agents = ["sim"]

[concurrency]
games = 1

[budget]
max_tokens = {max_tokens}
"""
"""Homogeneous pairs of the fake vendor's cartographer, one game at a time, under a token cap."""

LLM_RUN = """\
name = "budget"
runs_dir = "{runs}"

""" + SIM_PAIRS.replace("{mazes}", "8")

REFEREE_DOWN_RUN = """\
name = "retries"
runs_dir = "{runs}"
retries = 1

[referee]
url = "http://127.0.0.1:{port}/mcp"
token_env = "RETRY_TEST_REFEREE_TOKEN"

""" + SIM_PAIRS.replace("{mazes}", "2")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_a_token_budget_stops_the_run_and_a_larger_one_finishes_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGET_TEST_KEY", "sk-budget")
    with ServiceGroup(log_dir=tmp_path / "vendor") as services:
        vendor = services.start_fake_vendor()
        path = write(tmp_path, LLM_RUN.format(runs=tmp_path / "runs", vendor=vendor, max_tokens=20_000))
        first = execute_run(load_run_file(path), path)
        assert first.budget_reached is not None and "token budget" in first.budget_reached
        assert 0 < first.played < first.planned == 8 and not first.complete
        path = write(tmp_path, LLM_RUN.format(runs=tmp_path / "runs", vendor=vendor, max_tokens=10_000_000))
        second = execute_run(load_run_file(path), path)  # a raised cap continues the same run
        assert second.complete and second.already_stored == first.played
        assert second.already_stored + second.played == 8
        changed = write(tmp_path, LLM_RUN.format(runs=tmp_path / "runs", vendor=vendor, max_tokens=1)
                        .replace("count = 8", "count = 9"))
        with pytest.raises(StoreError, match="changed"):  # other mazes are another run
            execute_run(load_run_file(changed), changed)


def start_referee(port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        referee = subprocess.Popen([*COLLABGAP, "referee", "serve", "--port", str(port)],
                                   env={**os.environ, "COLLABGAP_REFEREE_TOKEN": "retry-token"}, stdout=sink,
                                   stderr=subprocess.STDOUT)
    with httpx.Client() as http:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if http.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    return referee
            time.sleep(0.1)
    referee.kill()
    raise AssertionError(log.read_text())


def test_attempts_ended_by_a_dead_referee_count_and_retry_errors_replays_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The referee dies mid-game: every attempt is a platform error, kept with its tokens, which the token
    budget counts; `--retry-errors` with the referee back replays the episode into one record holding all."""
    monkeypatch.setenv("BUDGET_TEST_KEY", "sk-budget")
    monkeypatch.setenv("RETRY_TEST_REFEREE_TOKEN", "retry-token")
    port = free_port()
    with ServiceGroup(log_dir=tmp_path / "vendor") as services:
        vendor = services.start_fake_vendor(FakeVendorSettings(latency=0.2))
        path = write(tmp_path, REFEREE_DOWN_RUN.format(runs=tmp_path / "runs", port=port, vendor=vendor,
                                                       max_tokens=500))
        referee = start_referee(port, tmp_path / "referee.log")
        try:
            progress = RunProgress()
            with ThreadPoolExecutor(1) as pool:
                running = pool.submit(execute_run, load_run_file(path), path, progress=progress)
                with httpx.Client(headers={"Authorization": "Bearer sk-budget"}) as http:
                    for _ in range(600):  # the first game is under way: a few model replies went out
                        if http.get(f"{vendor}/_fake/stats").json()["requests"]["/v1/chat/completions"] >= 3:
                            break
                        time.sleep(0.05)
                referee.kill()
                first = running.result(timeout=120)
        finally:
            referee.kill()
            referee.wait()
        database = f"sqlite:///{tmp_path / 'runs' / 'retries' / 'store.db'}"
        assert (first.played, first.errors) == (1, 1)  # the tokens of the failed attempts spent the budget
        assert first.budget_reached is not None and "token budget" in first.budget_reached
        with Store.open(database) as store:
            [failed] = store.episodes("retries")
        assert failed.status == "error" and failed.error is not None and failed.error.platform
        assert failed.attempt == 2 and [a.attempt for a in failed.attempts] == [1]
        assert any(m.usage for m in failed.attempts[0].messages)
        assert progress.retries == 1 and progress.tokens == sum(failed.tokens) >= 500

        path = write(tmp_path, REFEREE_DOWN_RUN.format(runs=tmp_path / "runs", port=port, vendor=vendor,
                                                       max_tokens=10_000_000))
        referee = start_referee(port, tmp_path / "referee.log")
        try:
            again = execute_run(load_run_file(path), path, retry_errors=True)
        finally:
            referee.kill()
            referee.wait()
    assert again.complete and (again.already_stored, again.played, again.errors) == (0, 2, 0)
    with Store.open(database) as store:
        replayed = store.episode("retries", failed.spec.episode_id)
    assert replayed is not None and replayed.status != "error" and replayed.attempt == 3
    assert replayed.attempts == [*failed.attempts, replayed.attempts[-1]]
    assert replayed.attempts[-1].error == failed.error and replayed.attempts[-1].attempt == 2
    assert sum(replayed.tokens) > sum(failed.tokens)
