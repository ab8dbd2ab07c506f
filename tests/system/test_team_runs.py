"""A run file with team conditions runs, is killed midway, resumes to exactly its plan and reports its team cells;
`collabgap play --seat` ×3 solves a game with three scripted cartographers (issue 14, parts 3 and 4)."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from collabgap.services.coordinator import Store, load_run_file
from collabgap.services.coordinator.analysis._analysis import Analysis, Cell
from collabgap.services.coordinator.report._store_reader import EpisodeFilter, StoreReader
from collabgap.services.coordinator.runs._run import plan_run
from tests._command import COLLABGAP

from .test_run_resume import stop_midway, stored

RUN = """
name = "teams"
grader = "grader"

[agents.carto]
player = "scripted:cartographer"

[agents.follower]
player = "scripted:follower"

[agents.grader]
player = "scripted:grader"

[mazes]
count = 2
size = 5
seed = 7

[[conditions]]
kind = "solo-full"
agents = ["carto"]

[[conditions]]
kind = "pair"
agents = ["carto"]
pairing = "homogeneous"

[[conditions]]
kind = "team"
agents = ["carto"]
pairing = "homogeneous"
size = [3, 4]

[[conditions]]
kind = "team"
mode = "paper"
pairing = "explicit"
teams = [["carto", "follower", "carto"]]
order = ["C", "A", "B"]
"""


def test_a_team_run_resumes_after_a_kill_and_reports_team_cells(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(f'runs_dir = "{tmp_path / "runs"}"\n{RUN}')
    plan = {spec.episode_id for spec in plan_run(load_run_file(path), path)}
    cells = {episode.rsplit("/", 2)[0] for episode in plan}  # stable ids: cell / maze / repetition
    assert cells == {"solo-full/referee/carto", "pair/referee/carto+carto", "team/referee/carto+carto+carto",
                     "team/referee/carto+carto+carto+carto", "team/paper/carto+follower+carto/order-CAB"}
    database = tmp_path / "runs" / "teams" / "store.db"
    runner = subprocess.Popen([*COLLABGAP, "run", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              text=True)
    stop_midway(runner, database, len(plan), lambda: os.kill(runner.pid, signal.SIGKILL))
    runner.wait(timeout=10)
    assert 0 < stored(database) < len(plan)

    finished = subprocess.run([*COLLABGAP, "run", str(path)], capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    with Store.open(f"sqlite:///{database}") as store:
        records = store.episodes("teams")
    assert sorted(r.spec.episode_id for r in records) == sorted(plan)  # none lost, none twice
    teams = [r for r in records if r.spec.condition == "team"]
    assert len(teams) == 6 and all(r.status == "solved" for r in teams if r.spec.mode == "referee")
    assert {len(r.spec.seats()) for r in teams} == {3, 4}

    report = subprocess.run([*COLLABGAP, "report", str(database.parent), "--figures", str(tmp_path / "figures"),
                             "--format", "svg"], capture_output=True, text=True, timeout=300)
    assert report.returncode == 0, report.stdout + report.stderr
    assert "team carto ×3" in report.stdout and "team carto ×4" in report.stdout
    tables = (database.parent / "report" / "tables.md").read_text()
    assert "| team carto + follower + carto order CAB | paper | 2 |" in tables
    assert (tmp_path / "figures" / "teams.svg").is_file()
    page = (database.parent / "report" / "report.html").read_text()
    assert 'id="figure-teams"' in page
    assert "Seat D's view" in page

    with StoreReader.open(f"sqlite:///{database}") as reader:  # `collabgap view`: each cell lists its episodes
        for cell in report_cells(database.parent):
            shown = reader.episode_page("teams", EpisodeFilter(cell=cell.key)).rows
            assert len(shown) == cell.episodes == 2


def report_cells(run_dir: Path) -> list[Cell]:
    return Analysis.model_validate_json((run_dir / "report" / "analysis.json").read_text()).cells


def test_play_with_three_seats_solves_a_game_with_three_scripted_cartographers(tmp_path: Path) -> None:
    from collabgap.services.coordinator import ServiceGroup

    with ServiceGroup(log_dir=tmp_path / "logs") as services:
        urls = [services.start_agent("scripted:cartographer") for _ in range(3)]
        played = subprocess.run([*COLLABGAP, "play", *(f"--seat={url}" for url in urls), "--size", "5",
                                 "--runs-dir", str(tmp_path / "runs")], capture_output=True, text=True, timeout=300)
    assert played.returncode == 0, played.stdout + played.stderr
    assert "Seat C:" in played.stdout and "Outcome: solved (goal)" in played.stdout
    [folder] = (tmp_path / "runs").iterdir()
    with Store.open(f"sqlite:///{folder / 'store.db'}") as store:
        [record] = store.episodes(folder.name)
    assert record.spec.condition == "team" and [m.seat for m in record.messages[:3]] == ["A", "B", "C"]
