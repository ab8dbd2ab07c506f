"""Every shell block of the README and the docs names what exists: `collabgap` subcommands and their options,
players, the fake vendor's settings, the benchmark harness's options, and the repository's files.

Blocks that start real services are run by test_readme.py; the ones that need an API key, Docker, Kubernetes, a
Ray cluster or the A2A TCK are checked here for what they name, not run.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from collabgap.services.agent import canonical_player
from collabgap.services.fake_llm import FakeVendorSettings
from tests.deploy._files import cli_options

from ._pages import PAGES, ROOT, blocks, collabgap_commands, shell_lines

SHELL_BLOCKS = [(page, block) for page in PAGES for block in blocks(page, "bash")]
COMMANDS = [(page, words) for page, block in SHELL_BLOCKS for words in collabgap_commands(block)]
REPOSITORY_PATH = re.compile(r"(examples|docs|deploy|benchmarks|protocol|referee|services|tests)/[\w./*-]*")
"""A word that names a file or folder of this repository (run folders under `runs/` are made by the commands)."""


def option_values(words: list[str], option: str) -> list[str]:
    return [words[i + 1] for i, word in enumerate(words[:-1]) if word == option]


def test_every_page_with_commands_is_read() -> None:
    """The block and command parsing finds the commands each page shows (guards against reading none)."""
    pages = {page.name for page, _ in COMMANDS}
    assert pages >= {"README.md", "running.md", "deploy.md", "export.md", "view.md", "human.md", "fake-llm.md",
                     "referee.md", "seat-messages.md", "ray.md", "statistics.md", "a2a-tck.md"}
    assert len(COMMANDS) >= 40


@pytest.mark.parametrize(("page", "words"), COMMANDS, ids=[f"{p.name}: {' '.join(w)[:60]}" for p, w in COMMANDS])
def test_each_command_uses_a_subcommand_and_options_the_cli_has(page: Path, words: list[str]) -> None:
    path, names = cli_options(words)
    assert path != "collabgap", f"{page.name}: no subcommand in {words}"
    for word in words:
        if word.startswith("--"):
            assert word.split("=")[0] in names, f"{page.name}: `{path}` has no option {word}"


@pytest.mark.parametrize(("page", "words"), COMMANDS, ids=[f"{p.name}: {' '.join(w)[:60]}" for p, w in COMMANDS])
def test_each_player_and_fake_vendor_config_is_accepted(page: Path, words: list[str]) -> None:
    for spec in option_values(words, "--player"):
        assert canonical_player(spec, tck_fixture=True), spec
    for config in option_values(words, "--config"):
        FakeVendorSettings.model_validate_json(config)


def test_every_repository_path_a_command_names_exists() -> None:
    named = {(page.name, match.group(0)) for page, block in SHELL_BLOCKS for words in shell_lines(block)
             for word in words for match in [REPOSITORY_PATH.fullmatch(word.split("=")[-1])] if match}
    assert ("README.md", "examples/scripted-run.toml") in named and ("deploy.md", "deploy/compose.yaml") in named
    missing = sorted((page, path) for page, path in named if not list(ROOT.glob(path.rstrip("/"))))
    assert missing == []


def test_benchmark_commands_use_the_harness_options() -> None:
    harness = [words for _, block in SHELL_BLOCKS for words in shell_lines(block)
               if words[:2] == ["python", "benchmarks/harness.py"]]
    assert harness
    done = subprocess.run([sys.executable, "benchmarks/harness.py", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for words in harness:
        for word in words[2:]:
            if word.startswith("--"):
                assert word in done.stdout, word
