"""Issue 4: budget caps stop scheduling; infrastructure errors are retried and kept apart from scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.coordinator import RunProgress, ServiceGroup, Store, StoreError, execute_run, load_run_file

LLM_RUN = """\
name = "budget"
runs_dir = "{runs}"

[agents.sim]
player = "openai:sim-cartographer"
base_url = "{vendor}/v1"
api_key_env = "BUDGET_TEST_KEY"

[mazes]
count = 8

[[conditions]]
kind = "pair"
pairing = "homogeneous"
agents = ["sim"]

[concurrency]
games = 1

[budget]
max_tokens = {max_tokens}
"""

DOWN_RUN = """\
name = "retries"
runs_dir = "{runs}"
retries = 2

[agents.carto]
player = "scripted:cartographer"

[agents.gone]
url = "http://127.0.0.1:9"

[mazes]
count = 2

[[conditions]]
kind = "pair"
pairing = "explicit"
pairs = [["carto", "gone"]]

[[conditions]]
kind = "solo-full"
agents = ["carto"]
"""


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


def test_infrastructure_errors_are_retried_then_stored_apart(tmp_path: Path) -> None:
    path = write(tmp_path, DOWN_RUN.format(runs=tmp_path / "runs"))
    progress = RunProgress()
    outcome = execute_run(load_run_file(path), path, progress=progress)
    assert (outcome.planned, outcome.played, outcome.errors) == (4, 4, 2)
    assert progress.retries == 2 * 2  # two failing episodes, two retries each
    with Store.open(f"sqlite:///{tmp_path / 'runs' / 'retries' / 'store.db'}") as store:
        records = {r.spec.episode_id: r for r in store.episodes("retries")}
    failed = [r for r in records.values() if r.status == "error"]
    assert len(failed) == 2 and all(r.attempt == 3 and r.score is None for r in failed)
    assert all(r.error is not None and r.error.kind == "agent_unreachable" for r in failed)
    assert all(r.status == "solved" and r.attempt == 1 for r in records.values() if r.spec.condition == "solo-full")
