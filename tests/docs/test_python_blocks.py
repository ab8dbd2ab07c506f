"""Every Python block of the docs runs as written, against real services on loopback (the fake vendor for LLM
players): the maze walk, the referee client's core, `collabgap view` as an app, and the export read three ways.
The README's own Python block runs in test_readme.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collabgap.services.coordinator import ServiceGroup, execute_run, load_run_file
from tests.conftest import Stack

from ._pages import DOCS, PAGES, README, blocks
from .test_examples import load_example

RUN_BY_THIS_MODULE = {("maze.md", 0), ("referee.md", 0), ("view.md", 0), ("export.md", 0), ("export.md", 1),
                      ("export.md", 2)}
RUN_ELSEWHERE = {("README.md", 0)}  # test_readme.py
EXPORT_RUN = """\
name = "my-run"
runs_dir = "{runs}"

[agents.gpt]
player = "openai:sim-cartographer"
base_url = "{vendor}/v1"
api_key_env = "DOCS_EXPORT_KEY"

[mazes]
count = 1

[[conditions]]
kind = "pair"
agents = ["gpt"]
pairing = "homogeneous"     # gpt in both seats
"""
"""A run named as in export.md (`runs/my-run`): one LLM agent, on the fake vendor, solves a maze in both seats."""


def page_block(name: str, index: int = 0) -> str:
    return blocks(DOCS / name, "python")[index]


def test_every_python_block_of_the_pages_is_run() -> None:
    found = {(page.name, index) for page in PAGES for index, _ in enumerate(blocks(page, "python"))}
    assert found == RUN_BY_THIS_MODULE | RUN_ELSEWHERE
    assert blocks(README, "python")


def test_maze_page_walk_scores_the_last_valid_position() -> None:
    exec(page_block("maze.md"), {})  # the block asserts what it shows


async def test_referee_page_core_creates_a_game_as_the_example_does(stack: Stack) -> None:
    """The block is the core of docs/examples/referee_client.py: run with that module's names, it creates a game."""
    example = load_example("referee_client")
    namespace: dict[str, Any] = {**vars(example), "referee_url": stack.referee_url,
                                 "token": stack.token.get_secret_value()}
    exec("async def core():\n" + textwrap.indent(page_block("referee.md"), "    ") + "    return game\n", namespace)
    game = await namespace["core"]()
    assert set(game["seat_tokens"]) == {"A", "B"} and game["game_id"]


def test_view_page_app_serves_the_runs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    namespace: dict[str, Any] = {}
    exec(page_block("view.md"), namespace)
    with TestClient(namespace["app"], base_url="http://127.0.0.1") as view:
        assert view.get("/").status_code == 200


def test_export_page_blocks_write_and_read_the_training_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python export (third block) writes `train.jsonl` from `runs/my-run`; the first block reads it with
    `json`, the second with Hugging Face `datasets`, all in one fresh interpreter in the folder holding `runs/`."""
    pytest.importorskip("datasets")
    monkeypatch.setenv("DOCS_EXPORT_KEY", "sk-docs-export")
    path = tmp_path / "run.toml"
    with ServiceGroup(log_dir=tmp_path / "logs") as services:
        path.write_text(EXPORT_RUN.format(runs=tmp_path / "runs", vendor=services.start_fake_vendor()))
        outcome = execute_run(load_run_file(path), path)
    assert outcome.complete and not outcome.errors
    python, read, load = (page_block("export.md", index) for index in (2, 0, 1))
    check = "print(json.dumps({'examples': len(examples), 'dataset': len(dataset), 'solved': len(solved)}))\n"
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, "-c", "\n".join((python, read, load, check))], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.splitlines()[-1])
    assert counts == {"examples": 2, "dataset": 2, "solved": 2}  # one per LLM seat of the solved game
