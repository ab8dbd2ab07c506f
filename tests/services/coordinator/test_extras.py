"""Parquet (pyarrow) and the PostgreSQL driver (psycopg) are extras (issue 12 part 5): without one, what needs it
says which extra to install, and the rest works. Each test runs in a fresh interpreter where the package is not
importable, as after a plain `pip install collabgap`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WITHOUT = "import sys; sys.modules[{package!r}] = None  # importing it now fails as if it were not installed\n"


def run_without(package: str, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT.format(package=package) + code, *args], capture_output=True,
                          text=True, timeout=120)


def test_without_pyarrow_the_report_is_written_all_but_its_parquet_file(tmp_path: Path) -> None:
    done = run_without("pyarrow", """
from pathlib import Path
from collabgap.services.coordinator import ConfigError, build_report
from collabgap.services.coordinator.report._report import write_episodes_parquet
out = Path(sys.argv[1])
files = build_report([], out)
print(files.episodes_parquet, sorted(p.name for p in out.iterdir()))
try:
    write_episodes_parquet([], out / "episodes.parquet")
except ConfigError as exc:
    print(exc)
""", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written, refusal = done.stdout.splitlines()
    assert written.startswith("None ") and "report.html" in written and "episodes.parquet" not in written
    assert refusal == "Parquet export needs pyarrow, which is not installed here: pip install 'collabgap[parquet]'"


def test_without_psycopg_a_postgresql_store_names_the_extra_in_one_line(tmp_path: Path) -> None:
    done = run_without("psycopg", "from collabgap.services._cli import main\nsys.argv[0] = 'collabgap'\nmain()\n",
                       "report", str(tmp_path), "--store", "postgresql://collabgap@127.0.0.1:1/collabgap")
    assert done.returncode == 2
    assert done.stderr == ("error: a PostgreSQL store needs psycopg, which is not installed here: "
                           "pip install 'collabgap[postgres]'\n")
