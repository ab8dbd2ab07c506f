"""The benchmark harness runs end to end and reports every figure (behaviour only, never timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_every_figure() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/harness.py", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    for figure in (
        "1. coordinator round trip",  # AgentConnection.send to a scripted agent
        "2. paired 6x6 game",  # one whole game through run_episodes
        "3. throughput, concurrency 1",
        "3. throughput, concurrency 32",
        "4. echo round trip",  # the bare a2a-sdk baseline
    ):
        assert figure in output, f"{figure!r} missing from:\n{output}"
    assert "games/s" in output and "machine:" in output, output
