"""Maps as text: N lines of N symbols, as in the paper, and reading them back out of prose (DESIGN §2)."""

from __future__ import annotations

import re

from ._maze import HIDDEN, SYMBOLS
from ._views import View

LEGEND = (
    "Legend: @ = current position (start), * = goal, . = open path, # = wall, ? = hidden (your partner may know it)"
)
_MAP_LINE = re.compile(rf"^[{re.escape(''.join(sorted(SYMBOLS)) + HIDDEN)}]{{3,30}}$")


def render_map(rows: View | list[str], *, labelled: bool = False) -> str:
    """The map as lines of symbols; `labelled` adds 0-based row and column indices (for ablations)."""
    if not labelled:
        return "\n".join(rows)
    width = len(rows[0])
    header = "   " + "".join(str(c % 10) for c in range(width))
    return "\n".join([header, *(f"{r:>2} {row}" for r, row in enumerate(rows))])


def find_maps(text: str, size: int) -> list[View]:
    """Every block of `size` consecutive map lines of width `size` found in `text`, in order.

    Lines may be indented or fenced; anything else breaks a block.
    """
    found: list[View] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        candidate = line.strip().strip("`")
        if len(candidate) == size and _MAP_LINE.match(candidate):
            block.append(candidate)
            if len(block) == size:
                found.append(tuple(block))
                block = []
        else:
            block = []
    return found
