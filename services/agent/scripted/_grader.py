"""The scripted grader: reads the agreed route out of a paper-mode transcript, as the paper's grader model would
(pure; no I/O). It understands the scripted policies' vote lines, so scripted and fake-vendor games grade offline.
"""

from __future__ import annotations

import re

from collabgap.protocol import agent_name, split_authors

from ._knowledge import _COORDS, _VOTE

_PAYLOAD = re.compile(r"^# (?:Dialogue|Solution)[ \t]*$", re.MULTILINE)
_SOLUTION = re.compile(r"^.*final solution.*$", re.IGNORECASE | re.MULTILINE)
_Entry = tuple[int, str, str, str]
"""A route entry of the paper's grader answer: turn, coordinates (YAML), `move` or `consider`, agent."""


def grade_transcript(prompt: str) -> str:
    """A grader's answer in the paper's YAML shape (Fig. A.6): the route of a grader prompt's payload.

    The payload follows the prompt's `# Dialogue` or `# Solution` heading. A dialogue of `[agent_1]: …` /
    `[agent_2]: …` messages (a team's: up to `[agent_6]: …`) is replayed by the policies' vote lines: a move
    counts once every agent named it, a vote not (yet) agreed is a `consider` entry. A solution (the solo grader)
    is read from its `Final solution` line, every cell one move. Routes are in the agents' own notation:
    directions, or cells as the policies write them.
    """
    heading = _PAYLOAD.search(prompt)
    payload = prompt[heading.end():] if heading else prompt
    dialogue = [(agent_name(seat).replace(" ", "_"), text) for seat, text in split_authors(payload) if seat]
    if dialogue:
        return _paper_yaml(*_agreed(dialogue))
    lines = _SOLUTION.findall(payload) or [line for line in payload.splitlines() if _COORDS.search(line)]
    cells = [f"[{a}, {b}]" for a, b in _COORDS.findall(lines[-1])] if lines else []
    one_based = "(column, row), counting from 1" in payload
    return _paper_yaml(("1", "col_row") if one_based else ("0", "row_col"),
                       [(turn, f"[{cell}]", "move", "agent_1") for turn, cell in enumerate(cells, 1)])


def _agreed(messages: list[tuple[str, str]]) -> tuple[tuple[str, str] | None, list[_Entry]]:
    """The turns of a dialogue: a move once every agent named it, else what the speaker proposed."""
    agents = max(2, len({speaker for speaker, _ in messages}))
    pending: dict[str, str] = {}
    entries: list[_Entry] = []
    convention: tuple[str, str] | None = None
    for turn, (speaker, text) in enumerate(messages, 1):
        match = _VOTE.search(text)
        token = match.group(1).strip().lower() if match else ""
        if not token:
            continue
        coords = _COORDS.search(token)
        if coords:  # the coordinate-speaking policy names cells (column, row) from 1
            token, convention = f"[{coords.group(1)}, {coords.group(2)}]", ("1", "col_row")
        else:
            token = f'"{token.split()[0]}"'
        others = [vote for agent, vote in pending.items() if agent != speaker]
        if len(others) == agents - 1 and all(vote == token for vote in others):
            entries.append((turn, f"[{token}]", "move", "both" if agents == 2 else "all"))
            pending = {}
        else:
            entries.append((turn, f"[{token}]", "consider", speaker))
            pending[speaker] = token
    return convention, entries


def _paper_yaml(convention: tuple[str, str] | None, entries: list[_Entry]) -> str:
    origin, order = convention or ("0", "row_col")
    lines = ["route_schema:", f'  maze_origin: "{origin}"', '  maze_orientation: "top_left"',
             f'  coordinates_orientation: "{order}"',
             f'  coordinates_symbols: "{"number_number" if convention else "directions"}"',
             "route:" if entries else "route: []"]
    for turn, coordinates, kind, agent in entries:
        lines += [f"  - turn: {turn}", f"    coordinates: {coordinates}", f'    turn_type: "{kind}"',
                  f'    agent: "{agent}"']
    return "```yaml\n" + "\n".join(lines) + "\n```\n"
