"""Human baselines are rows of their own (issue 15): a run file seats a person with `player = "human"`, its
episodes record `player_kind = "human"`, and the analysis and the report say so."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path

import pytest

from collabgap.protocol import MazeParams
from collabgap.services.coordinator import (
    ConfigError,
    EpisodeRecord,
    EpisodeSpec,
    Score,
    SeatSpec,
    load_run_file,
    plan_run,
)
from collabgap.services.coordinator.analysis._analysis import analyze
from collabgap.services.coordinator.report._report import build_report
from tests._command import COLLABGAP

RUN = '''name = "baseline"

[agents.person]
player = "human"

[agents.model]
player = "scripted:cartographer"

[[conditions]]
kind = "pair"
agents = ["person", "model"]

[limits]
turn_timeout_s = 300
'''


def test_a_run_file_seats_a_person_and_its_plan_says_so(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN)
    run = load_run_file(path, environ={})
    assert run.agents["person"].player == "human" and run.agents["person"].player_kind == "human"
    assert run.limits.human_reply_timeout_s == pytest.approx(270)  # below the coordinator's 300 s
    kinds = {(spec.seat_a.name, spec.seat_a.player_kind) for spec in plan_run(run, path)}
    assert kinds == {("person", "human"), ("model", "agent")}


def test_a_person_elsewhere_is_named_by_url_and_human(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN.replace('player = "human"', 'url = "http://10.0.0.7:8790"\nhuman = true'))
    assert load_run_file(path, environ={}).agents["person"].player_kind == "human"
    path.write_text(RUN.replace('player = "scripted:cartographer"', 'player = "scripted:cartographer"\nhuman = true'))
    with pytest.raises(ConfigError, match="belongs to a person's seat"):
        load_run_file(path, environ={})


def test_agent_serve_does_not_seat_a_person() -> None:
    done = subprocess.run([*COLLABGAP, "agent", "serve", "--player", "human", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "unknown player 'human'" in done.stderr


def episode(seat_a: SeatSpec, maze: int, weighted: float) -> EpisodeRecord:
    spec = EpisodeSpec(episode_id=f"solo-full/{seat_a.name}/m{maze}/r0", condition="solo-full", seat_a=seat_a,
                       maze=MazeParams(size=6, seed=maze))
    return EpisodeRecord(spec=spec, game_id="g", maze_id=f"m{maze}", status="solved", end_reason="goal",
                         score=Score(weighted=weighted, success=True, moves=7, conflicts=0, optimal_length=7))


def test_human_episodes_are_their_own_rows_in_the_analysis_and_the_report(tmp_path: Path) -> None:
    person = SeatSpec(name="p01", url="http://127.0.0.1:8790", player_kind="human")
    model = SeatSpec(name="gpt", url="http://127.0.0.1:8770")
    records = [episode(seat, maze, 1.0) for seat in (person, model) for maze in (1, 2)]
    cells = {cell.seat_a: cell for cell in analyze(records, resamples=50).cells}
    assert (cells["p01"].player_kind_a, cells["p01"].label) == ("human", "solo-full p01 (human)")
    assert (cells["gpt"].player_kind_a, cells["gpt"].label) == ("agent", "solo-full gpt")
    with (build_report(records, tmp_path, resamples=50).cells_csv).open() as handle:
        rows = {row["seat_a"]: row["player_kind_a"] for row in csv.DictReader(handle)}
    assert rows == {"p01": "human", "gpt": "agent"}
    stored = EpisodeRecord.model_validate_json(records[0].model_dump_json())
    assert stored.spec.seat_a.player_kind == "human"
