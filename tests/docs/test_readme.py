"""The README's snippets are true: its Quick start has exactly two lines, its run file loads, its Python block and
its offline shell blocks run as written (on free ports), and the others start and stop services cleanly.

The blocks that need an API key are checked for their commands, options and players in test_commands.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from collabgap.services.coordinator import free_port, load_records, load_run_file, plan_run

from ._pages import README, blocks

COLLABGAP = Path(sys.executable).with_name("collabgap")
"""The command the README runs as `.venv/bin/collabgap`: this interpreter's own."""


def readme_blocks(language: str) -> list[str]:
    return blocks(README, language)


def shell_block_containing(text: str) -> str:
    [block] = [block for block in readme_blocks("bash") if text in block]
    return block


def run_shell_block(block: str, cwd: Path) -> str:
    """Run a README shell block with bash in `cwd`, its ports moved to free ones; returns what it printed."""
    ports = {port: str(free_port()) for port in set(re.findall(r"(?:--port |127\.0\.0\.1:)(\d+)", block))}
    script = re.sub(r"(--port |127\.0\.0\.1:)(\d+)", lambda m: m.group(1) + ports[m.group(2)], block)
    script = script.replace(".venv/bin/collabgap", str(COLLABGAP))
    done = subprocess.run(["bash", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=300)
    return done.stdout + done.stderr


def test_quick_start_is_two_commands() -> None:
    quick = README.read_text().split("## Quick start", 1)[1]
    first_block = re.search(r"```\w*\n(.*?)```", quick, flags=re.DOTALL)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert len(lines) == 2 and "collabgap demo" in lines[0] and "pytest" in lines[1]


def test_the_run_file_in_the_readme_is_valid(tmp_path: Path) -> None:
    [text] = readme_blocks("toml")
    path = tmp_path / "run.toml"
    path.write_text(text)
    run = load_run_file(path, environ={"OPENAI_API_KEY": "k", "THEIR_TOKEN": "t"})
    plan = plan_run(run, path)
    kinds = {spec.relay.kind if spec.relay else spec.condition for spec in plan}
    assert kinds == {"solo-full", "pair", "primer"}
    assert len(plan) == 20 * (2 + 9 + 4)


def test_blocks_that_start_services_use_their_own_ports_and_stop_them() -> None:
    """Run top to bottom, the README leaves nothing running, and no block plays an agent an earlier one started."""
    owner: dict[str, int] = {}
    for index, block in enumerate(readme_blocks("bash")):
        lines = [line.split("#", 1)[0].strip() for line in block.splitlines()]
        started = [line for line in lines if line.endswith("&")]
        if not started:
            continue
        for port in re.findall(r"--port (\d+)", "\n".join(started)):
            assert owner.setdefault(port, index) == index, f"port {port} is started by two blocks"
        assert lines[-1] == "kill " + " ".join(f"%{job}" for job in range(1, len(started) + 1)), block
        used = set(re.findall(r"127\.0\.0\.1:(\d+)", block))
        assert used <= {port for port, at in owner.items() if at == index}, f"a block plays another's agent: {block}"


def test_the_python_block_plays_one_episode(capsys: pytest.CaptureFixture[str]) -> None:
    [block] = readme_blocks("python")
    namespace: dict[str, Any] = {}
    exec(block, namespace)
    record = namespace["record"]
    assert record.status != "error" and record.spec.episode_id == "example"
    assert capsys.readouterr().out == f"{record.status} {record.score}\n"


@pytest.mark.parametrize("marker", ["--player scripted:follower", "fake-llm serve"], ids=["by-hand", "no-key"])
def test_the_offline_game_blocks_play_a_stored_game_and_stop_their_services(marker: str, tmp_path: Path) -> None:
    """"Playing one game by hand" and "No key?": the agents start in the background, `play` waits for them, plays
    and stores the game under runs/, and the last line stops every service the block started."""
    printed = run_shell_block(shell_block_containing(marker), tmp_path)
    assert "Seat A: " in printed and "Outcome: " in printed, printed
    [run_dir] = (tmp_path / "runs").glob("play-*")
    [record] = load_records(run_dir)
    assert record.status != "error" and record.messages
