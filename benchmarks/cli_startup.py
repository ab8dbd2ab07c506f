"""How long `collabgap --help` and `collabgap --version` take, against a bare interpreter measured in the same run.

    python benchmarks/cli_startup.py              # 15 runs of each, medians
    python benchmarks/cli_startup.py --runs 50

Each command runs as a user runs it: a fresh process of the `collabgap` script beside this interpreter. The ratio
to `python -c pass` cancels most of what a loaded machine adds; the goal is under 1 s for both commands.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_times(argv: list[str], runs: int) -> list[float]:
    """Seconds each of `runs` fresh processes of `argv` took, start to exit."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (default 15)")
    args = parser.parse_args()
    script = Path(sys.executable).with_name("collabgap")
    collabgap = [str(script)] if script.exists() else [shutil.which("collabgap") or "collabgap"]
    baseline = statistics.median(wall_times([sys.executable, "-c", "pass"], args.runs))
    print(f"{'command':<22} {'median s':>9} {'max s':>7} {'× python -c pass':>17}")  # noqa: T201
    print(f"{'python -c pass':<22} {baseline:>9.3f} {'':>7} {1.0:>17.1f}")  # noqa: T201
    for flag in ("--help", "--version"):
        times = wall_times([*collabgap, flag], args.runs)
        median = statistics.median(times)
        print(f"{'collabgap ' + flag:<22} {median:>9.3f} {max(times):>7.3f} {median / baseline:>17.1f}")  # noqa: T201


if __name__ == "__main__":
    main()
