"""The text parts of seat messages, from template files a user can replace (DESIGN §3.3, issue 3).

Templates are `str.format` strings with the fields `size`, `maps`, `map_1`, `map_2`, `legend`, `limit`,
`completion` (task prompts), `transcript` (pair and team graders) and `solution` (solo grader). The paper-mode
templates are the paper's own prompts word for word (App. A; docs/paper-protocol.md), with the game's map(s) in
place of the example: `map_1` is the seat's map (solo-split: view 1), `map_2` view 2. Team templates (3 to 6
seats) also have `team` (how many seats, in words), `others` (how many other seats, in words), `you` (this seat's
name, `agent 3`) and `example` (another seat's label, `[agent 1]:`); the team grader has `team` and `names`
(`agent_1|agent_2|agent_3`).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from collabgap.protocol import COMPLETION_PHRASE, LEGEND, SEATS, Mode, Seat, SeatStart, SeatTurn, agent_name, render_map

from .._errors import ConfigError
from .._records import MessageRecord

TEMPLATES = ("task-pair-referee", "task-pair-paper", "task-solo-referee", "task-solo-full-paper",
             "task-solo-split-paper", "task-team-referee", "task-team-paper", "critic", "grader-pair", "grader-solo",
             "grader-team")
NUMBERS = ("one", "two", "three", "four", "five", "six")
"""Team sizes in words, as the task prompts say them."""


@dataclass(frozen=True)
class Prompts:
    """The templates of one run: the packaged ones, each replaced by a file of the same name in `directory`."""

    templates: dict[str, str]

    @classmethod
    def load(cls, directory: Path | None = None) -> Prompts:
        """Raises ConfigError when `directory` is given but does not exist."""
        if directory is not None and not directory.is_dir():
            raise ConfigError(f"prompt directory {directory} does not exist")
        packaged = resources.files("collabgap.services.coordinator.game").joinpath("prompts")
        templates = {}
        for name in TEMPLATES:
            override = directory / f"{name}.md" if directory is not None else None
            source = override if override is not None and override.is_file() else packaged.joinpath(f"{name}.md")
            templates[name] = source.read_text()
        return cls(templates)

    def start(self, start: SeatStart) -> list[str]:
        """The text parts of a start message: the full task prompt, then the partner's opening if it spoke first."""
        task = self._task(start)
        if start.move_channel == "referee":
            task = (f"{task}\n\nYou vote by calling the referee's `propose_move` tool yourself (MCP server "
                    f"{start.referee_url}, your seat token as bearer token); `MOVE:` lines are not counted.")
        team = start.condition == "team"
        if start.condition != "pair" and not team:
            return [task]
        if start.history:
            def others(seat: Seat) -> str:
                return agent_name(seat) if team else "partner"

            lines = "\n\n".join(f"[{'you' if h.seat == start.seat else others(h.seat)}]: {h.text}"
                                 for h in start.history)
            return [task, f"You take over seat {start.seat} mid-game. The conversation so far, oldest first "
                          f"(messages marked [you] were written for your seat before you):\n\n{lines}"]
        if start.mode == "paper":  # the paper's words only: its task, then the others' messages as they were said
            return [task] if start.speaks_first else [task, start.partner_text or ""]
        if start.speaks_first:
            return [f"{task}\n\nYou speak first."]
        if team:
            return [task, f"The other agents spoke first. Their messages:\n{start.partner_text or ''}"]
        return [task, f"Your partner spoke first. Their message:\n{start.partner_text or ''}"]

    def _task(self, start: SeatStart) -> str:
        solo = start.condition not in ("pair", "team")
        views = [render_map(rows) for rows in start.maps]
        if start.mode == "paper":
            name = f"task-{start.condition}-paper"
        else:
            name = f"task-{'solo' if solo else start.condition}-referee"
        if len(views) > 1:
            maps = "\n\n".join(f"Map {i + 1} of {len(views)} (rows top to bottom):\n{view}"
                                 for i, view in enumerate(views))
        else:
            maps = f"Your map (rows top to bottom):\n{views[0]}" if solo else views[0]
        team = start.team or [start.seat]
        other = next((seat for seat in team if seat != start.seat), start.seat)
        return self.templates[name].format(
            size=start.size, maps=maps, map_1=views[0], map_2=views[1] if len(views) > 1 else "", legend=LEGEND,
            limit=start.message_limit, completion=COMPLETION_PHRASE, team=NUMBERS[len(team) - 1],
            others=NUMBERS[len(team) - 2] if len(team) > 1 else "no", you=agent_name(start.seat),
            example=f"[{agent_name(other)}]:").strip()

    def turn(self, turn: SeatTurn, solo: bool, mode: Mode) -> list[str]:
        """The partner's message verbatim (a team's: the others' messages since this seat spoke, each labelled).
        Alone: in referee mode the referee's verdict on the last vote (or a nudge); in paper mode the critic step
        (the paper's Fig. A.3)."""
        if not solo:
            return [turn.partner_text or ""]
        if mode == "paper":
            return [self.templates["critic"].strip()]
        lines = [f"Your move {o.direction} was {'executed' if o.executed else 'not executed'}." for o in turn.outcomes]
        return ["\n".join(lines) or "No move was made: vote with a line `MOVE: <direction>`."]

    def grader(self, messages: list[MessageRecord], *, solo: bool, seats: int = 2) -> str:
        """Paper mode: the solo grader on the final answer (Fig. A.5), else the pair grader on the dialogue
        (Fig. A.6), or its team variant for 3 to 6 `seats`.

        In the dialogue seat A is `agent_1`, seat B `agent_2` and so on, the names the grader's answer uses.
        """
        if solo:
            return self.templates["grader-solo"].format(solution=messages[-1].text if messages else "").strip()
        transcript = "\n\n".join(f"[{_grader_name(m.seat)}]: {m.text}" for m in messages)
        if seats <= 2:
            return self.templates["grader-pair"].format(transcript=transcript).strip()
        names = "|".join(_grader_name(seat) for seat in SEATS[:seats])
        return self.templates["grader-team"].format(transcript=transcript, team=NUMBERS[seats - 1],
                                                    names=names).strip()


def _grader_name(seat: Seat) -> str:
    """How the paper's grader names a seat: `agent_1`, `agent_2`, …"""
    return agent_name(seat).replace(" ", "_")
