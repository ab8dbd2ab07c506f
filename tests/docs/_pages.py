"""The README and the pages under docs/, read as their tests need them: fenced blocks and the commands in them."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = (README, *sorted(DOCS.glob("*.md")))
"""Every page a reader follows: the README and each page under docs/."""


def blocks(page: Path, language: str) -> list[str]:
    """The fenced blocks of `page` in `language`, in page order, without their fences."""
    return re.findall(rf"^```{language}\n(.*?)^```", page.read_text(), flags=re.DOTALL | re.MULTILINE)


def shell_lines(block: str) -> list[list[str]]:
    """The words of each command line of a shell block: continuations joined, comments and a trailing `&` dropped,
    and the brackets of a synopsis (`[--port 8760]`) taken off, so that each option stands as a word of its own."""
    lines = []
    for line in re.sub(r"\\\n\s*", " ", block).splitlines():
        words = [word.strip("[]") for word in shlex.split(line, comments=True)]
        words = [word for word in words if word and word not in ("&", "...")]
        if words:
            lines.append(words)
    return lines


def collabgap_commands(block: str) -> list[list[str]]:
    """Every `collabgap` command of a shell block, as its arguments: leading `VAR=value` words are skipped."""
    commands = []
    for words in shell_lines(block):
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", words[0]):
            words = words[1:]
        if words and Path(words[0]).name == "collabgap":
            commands.append(words[1:])
    return commands
