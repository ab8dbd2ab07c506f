"""The `collabgap` command as a user runs it: real processes, real output (issue 2 items 5 and 6)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

from starlette.testclient import TestClient

from collabgap.services.coordinator import EpisodeRecord, Store, analyze, load_records
from collabgap.services.coordinator.report._view import ViewSource, create_view_app
from collabgap.services.coordinator.report._view_pages import episode_href, run_href
from tests._command import COLLABGAP
from tests.conftest import Stack


def children_of(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def opens_in_view(runs_dir: Path, run_id: str, records: list[EpisodeRecord]) -> None:
    """`collabgap view` over `runs_dir` lists the run, and opens its page and each of its episodes."""
    with TestClient(create_view_app(ViewSource(runs_dir)), base_url="http://127.0.0.1") as view:
        assert run_href(run_id) in view.get("/").text
        assert view.get(run_href(run_id)).status_code == 200
        for record in records:
            page = view.get(episode_href(run_id, record.spec.episode_id))
            assert page.status_code == 200 and record.spec.episode_id in page.text


def test_play_names_the_seats_prints_each_message_and_stores_the_game(stack: Stack, tmp_path: Path) -> None:
    done = subprocess.run([*COLLABGAP, "play", "--a", stack.cartographer.url, "--b", stack.follower.url,
                           "--seed", "4", "--runs-dir", str(tmp_path)], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == [f"Seat A: collabgap scripted:cartographer ({stack.cartographer.url})",
                         f"Seat B: collabgap scripted:follower ({stack.follower.url})"]
    assert lines[2] == "A · collabgap scripted:cartographer #1" and "Here is my whole map" in lines[3]
    [run_dir] = tmp_path.glob("play-*")
    [record] = load_records(run_dir)
    assert record.status != "error" and record.messages
    names = {"A": "collabgap scripted:cartographer", "B": "collabgap scripted:follower"}
    headers = [f"{m.seat} · {names[m.seat]} #{m.index + 1}" + (f"  [vote: {m.vote}]" if m.vote else "")
               for m in record.messages]
    printed = [line for line in lines if " · collabgap scripted:" in line]
    assert printed == headers  # every stored message was printed, in order
    said = f"Outcome: {record.status} ({record.end_reason})"
    outcome = next(i for i, line in enumerate(lines) if line.startswith(said))
    assert lines.index(headers[-1]) < outcome
    with Store.open(f"sqlite:///{run_dir / 'store.db'}") as store:
        [run] = store.runs()
    assert run.run_id == run_dir.name and run.episodes == 1
    report = subprocess.run([*COLLABGAP, "report", str(run_dir)], capture_output=True, text=True, timeout=180)
    assert report.returncode == 0, report.stderr
    assert (run_dir / "report" / "report.html").is_file()
    opens_in_view(tmp_path, run_dir.name, [record])


def test_demo_prints_the_table_stores_every_episode_and_stops_its_services(tmp_path: Path) -> None:
    done = subprocess.run([*COLLABGAP, "demo", "--mazes", "1", "--runs-dir", str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for words in ("solo-full", "solo-split", "pair", "cartographer", "follower", "1.000"):
        assert words in done.stdout
    [run_dir] = tmp_path.glob("demo-*")
    records = load_records(run_dir)
    assert len(records) == 8 and all(record.status != "error" for record in records)
    assert len(analyze(records).cells) == 8
    report = subprocess.run([*COLLABGAP, "report", str(run_dir)], capture_output=True, text=True, timeout=180)
    assert report.returncode == 0, report.stderr
    assert "cartographer" in report.stdout
    opens_in_view(tmp_path, run_dir.name, records)


def test_ctrl_c_stops_every_service_the_demo_started(tmp_path: Path) -> None:
    demo = subprocess.Popen([*COLLABGAP, "demo", "--mazes", "500", "--runs-dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    services: set[int] = set()
    ready = threading.Event()
    for _ in range(600):  # up to 30 s for the referee and both agents to start
        services = children_of(demo.pid)
        if len(services) >= 3 and len(list(tmp_path.glob("demo-*/logs/*.log"))) >= 3:
            ready.set()
            break
        ready.wait(0.05)
    assert ready.is_set(), "the demo did not start its three services"
    os.kill(demo.pid, signal.SIGINT)
    assert demo.wait(timeout=30) != 0
    assert not [pid for pid in services if alive(pid)]
