"""The `collabgap` command as a user runs it: real processes, real output (issue 2 items 5 and 6)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import Stack

COMMAND = [sys.executable, "-m", "services"]


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


def test_play_prints_the_transcript_and_outcome(stack: Stack) -> None:
    done = subprocess.run([*COMMAND, "play", "--a", stack.cartographer.url, "--b", stack.cartographer.url,
                           "--seed", "4"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Here is my whole map" in done.stdout
    assert "Outcome: solved (goal); weighted score 1.000" in done.stdout


def test_demo_prints_the_table_saves_json_and_stops_its_services(tmp_path: Path) -> None:
    done = subprocess.run([*COMMAND, "demo", "--mazes", "2", "--runs-dir", str(tmp_path)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for words in ("solo-full", "solo-split", "pair", "cartographer", "follower", "±"):
        assert words in done.stdout
    [results] = tmp_path.glob("demo-*/results.json")
    data = json.loads(results.read_text())
    assert len(data["cells"]) == 8 and len(data["records"]) == 16
    assert all(record["status"] != "error" for record in data["records"])


def test_ctrl_c_stops_every_service_the_demo_started(tmp_path: Path) -> None:
    demo = subprocess.Popen([*COMMAND, "demo", "--mazes", "500", "--runs-dir", str(tmp_path)],
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
