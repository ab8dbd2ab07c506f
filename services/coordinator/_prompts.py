"""The text parts of seat messages, from template files a user can replace (DESIGN §3.3, issue 3).

Templates are `str.format` strings with the fields `size`, `maps`, `legend`, `limit`, `completion` (task
prompts), `completion` (review) and `transcript` (grader).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from protocol import COMPLETION_PHRASE, LEGEND, Mode, SeatStart, SeatTurn, render_map

from ._errors import ConfigError
from ._records import MessageRecord

TEMPLATES = ("task-pair-referee", "task-pair-paper", "task-solo-referee", "task-solo-paper", "review", "grader")


@dataclass(frozen=True)
class Prompts:
    """The templates of one run: the packaged ones, each replaced by a file of the same name in `directory`."""

    templates: dict[str, str]

    @classmethod
    def load(cls, directory: Path | None = None) -> Prompts:
        """Raises ConfigError when `directory` is given but does not exist."""
        if directory is not None and not directory.is_dir():
            raise ConfigError(f"prompt directory {directory} does not exist")
        packaged = resources.files("services.coordinator").joinpath("prompts")
        templates = {}
        for name in TEMPLATES:
            override = directory / f"{name}.md" if directory is not None else None
            source = override if override is not None and override.is_file() else packaged.joinpath(f"{name}.md")
            templates[name] = source.read_text()
        return cls(templates)

    def start(self, start: SeatStart) -> list[str]:
        """The text parts of a start message: the full task prompt, then the partner's opening if it spoke first."""
        solo = start.condition != "pair"
        if len(start.maps) == 1:
            maps = render_map(start.maps[0]) if not solo else f"Your map (rows top to bottom):\n{render_map(start.maps[0])}"
        else:
            maps = "\n\n".join(f"Map {i + 1} of {len(start.maps)} (rows top to bottom):\n{render_map(rows)}"
                               for i, rows in enumerate(start.maps))
        task = self.templates[f"task-{'solo' if solo else 'pair'}-{start.mode}"].format(
            size=start.size, maps=maps, legend=LEGEND, limit=start.message_limit, completion=COMPLETION_PHRASE)
        if start.move_channel == "referee":
            task = (f"{task.strip()}\n\nYou vote by calling the referee's `propose_move` tool yourself (MCP server "
                    f"{start.referee_url}, your seat token as bearer token); `MOVE:` lines are not counted.")
        if solo:
            return [task.strip()]
        if start.history:
            lines = "\n\n".join(f"[{'you' if h.seat == start.seat else 'partner'}]: {h.text}" for h in start.history)
            return [task.strip(), f"You take over seat {start.seat} mid-game. The conversation so far, oldest first "
                                  f"(messages marked [you] were written for your seat before you):\n\n{lines}"]
        if start.speaks_first:
            return [f"{task.strip()}\n\nYou speak first."]
        return [task.strip(), f"Your partner spoke first. Their message:\n{start.partner_text or ''}"]

    def turn(self, turn: SeatTurn, solo: bool, mode: Mode) -> list[str]:
        """The partner's message verbatim; alone, the referee's verdict on the last vote (or a nudge)."""
        if not solo:
            return [turn.partner_text or ""]
        lines = [f"Your move {o.direction} was {'executed' if o.executed else 'not executed'}." for o in turn.outcomes]
        if mode == "paper":
            return ["Continue."]
        return ["\n".join(lines) or "No move was made: vote with a line `MOVE: <direction>`."]

    def review(self) -> str:
        return self.templates["review"].format(completion=COMPLETION_PHRASE).strip()

    def grader(self, messages: list[MessageRecord]) -> str:
        transcript = "\n".join(f"[{m.seat}]: {m.text}" for m in messages)
        return self.templates["grader"].format(transcript=transcript).strip()
