"""The benchmark harness runs end to end and reports every figure beside its goal (behaviour only, never timings)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_reports_every_figure_with_its_goal() -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/harness.py", "--quick", "--markdown"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    for figure, goal in (
        ("1. wall per relayed message (scripted:cartographer pair, 6x6)", "<= 1.5x floor"),
        ("2. coordinator CPU per message (scripted:cartographer)", "<= 4 ms"),
        ("2. coordinator CPU per message (openai:sim-cartographer)", "<= 4 ms"),
        ("2. agent CPU per message (scripted:cartographer)", "<= 1.5x bare server"),
        ("2. agent CPU per message (openai:sim-cartographer)", "<= 1.5x bare server"),
        ("2. referee CPU per vote (scripted:cartographer games)", "<= 1.5x bare server"),
        ("2. referee CPU per vote (openai:sim-cartographer games)", "<= 1.5x bare server"),
        ("2. bare SDK clients CPU per call (beside scripted:cartographer games)", "(floor)"),
        ("3. throughput, 1 in flight", "no fall; 0 errors"),
        ("3. throughput, 8 in flight", "no fall; 0 errors"),
        ("3. throughput, 32 in flight", "no fall; 0 errors"),
        ("3. throughput, 128 in flight", "no fall; 0 errors"),
        ("3. errors at 6 in flight (LLM pair, fake vendor)", "| 0 |"),
        ("4. latency-bound run (4 LLM games, 4 in flight)", "<= 1.3x ideal"),
        ("5. coordinator memory per game in flight", "<= 1 MiB"),
        ("5. agent memory per open context (scripted:cartographer)", "(no goal)"),
        ("5. agent memory per open context (openai:sim-cartographer)", "(no goal)"),
    ):
        row = next((line for line in table if line.startswith(f"| {figure} |")), None)
        assert row is not None, f"{figure!r} missing from:\n{result.stdout}"
        assert goal in row and row.rstrip().endswith(("| met |", "| MISSED |", "|  |")), row
    assert "0 errors" in next(line for line in table if "3. throughput, 1 in flight" in line)
    assert "machine:" in result.stdout and "--quick" in result.stdout, result.stdout
