"""Every TOML block of the docs is a run file, or a part of one, that `collabgap run` accepts, and the example run
file the README plays loads and plans every condition.

A part (a table or two, as a page shows what it explains) is completed with just what a run file needs besides:
a name, one agent, one condition over its agents.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from collabgap.services.coordinator import load_run_file, plan_run

from ._pages import DOCS, ROOT, blocks

ENVIRON = {"OPENAI_API_KEY": "k", "THEIR_TOKEN": "t", "COLLABGAP_REFEREE_TOKEN": "r"}
DOC_BLOCKS = [(page, block) for page in sorted(DOCS.glob("*.md")) for block in blocks(page, "toml")]


def completed(block: str) -> str:
    """The block with whatever a whole run file must have and the block leaves out."""
    data = tomllib.loads(block)
    head = "" if "name" in data else 'name = "docs"\n'
    tail = "" if "agents" in data else '\n[agents.docs]\nplayer = "scripted:cartographer"\n'
    agents = list(data.get("agents", {"docs": None}))
    if "conditions" not in data:
        tail += f'\n[[conditions]]\nkind = "pair"\nagents = {agents!r}\n'.replace("'", '"')
    return head + block + tail


@pytest.mark.parametrize(("page", "block"), DOC_BLOCKS, ids=[f"{page.name}:{i}" for i, (page, _) in
                                                           enumerate(DOC_BLOCKS)])
def test_each_block_is_accepted_as_part_of_a_run_file(page: Path, block: str, tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(completed(block))
    assert plan_run(load_run_file(path, environ=ENVIRON), path), page.name


def test_the_pages_show_run_files() -> None:
    assert {page.name for page, _ in DOC_BLOCKS} >= {"deploy.md", "human.md", "ray.md", "running.md"}


def test_the_example_run_file_plans_every_condition() -> None:
    """examples/scripted-run.toml, which the README runs, covers every two-seat condition with the built-in
    players (teams have their own page, docs/running.md)."""
    path = ROOT / "examples" / "scripted-run.toml"
    run = load_run_file(path, environ={})
    kinds = {spec.relay.kind if spec.relay else spec.condition for spec in plan_run(run, path)}
    assert kinds == {"pair", "solo-full", "solo-split", "primer", "recovery"}
    assert run.name == "scripted-all-conditions"
