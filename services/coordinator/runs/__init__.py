"""A run: the run file and its plan, the engine that plays each planned episode with retries, the store, the
claims that let runners share it, the budget, the services a run starts and waits for, and the two runs built in
Python (`demo`, `play`).

It builds on `game` (one episode, an agent's card) and `analysis`; it never imports `interop`, `report` or
`scale`: the assessor (`interop`) plans with it, and the Ray backend plugs into `execute_run` as a `Backend`.
"""

from __future__ import annotations

from ._demo import DEMO_PLAYERS, DemoResult, DemoSettings, run_demo
from ._launch import ServiceGroup, free_port
from ._play import PlayResult, PlaySettings, run_play
from ._run import execute_run, load_records, plan_run, run_paths
from ._runfile import RunFile
from ._runfile_load import load_run_file
from ._runner import Backend, LocalBackend, RunOutcome, RunProgress
from ._store import RunSummary, Store
from ._store_schema import SCHEMA_VERSION
from ._store_url import masked_url

__all__ = [
    "Backend", "DEMO_PLAYERS", "DemoResult", "DemoSettings", "LocalBackend", "PlayResult", "PlaySettings", "RunFile",
    "RunOutcome", "RunProgress", "RunSummary", "SCHEMA_VERSION", "ServiceGroup", "Store", "execute_run", "free_port",
    "load_records", "load_run_file", "masked_url", "plan_run", "run_demo", "run_paths", "run_play",
]
