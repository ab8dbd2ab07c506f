"""The text parts of seat messages: what a human, or a text-only agent, reads (DESIGN §3.3)."""

from __future__ import annotations

from protocol import COMPLETION_PHRASE, LEGEND, SeatStart, SeatTurn, render_map

_RULES = f"""Rules:
- Start at @ and reach *. Move only to an adjacent cell: up, down, left or right. No diagonal moves, no moving through walls.
- Stepping into a wall (#) or off the grid ends the game immediately.
- One move per turn. {{agreement}}
- To vote for a move, write it on its own line as `MOVE: <direction>` (up, down, left or right); only your first such line in a message counts.
- The game is timed for a leaderboard: be efficient. At most {{limit}} messages are exchanged in total.
- When you have reached the goal, say {COMPLETION_PHRASE}"""


def start_text(start: SeatStart) -> str:
    """The full task prompt for a seat, with its own map(s) and how to vote."""
    solo = start.condition != "pair"
    if solo:
        intro = f"You are solving a {start.size}x{start.size} maze on your own."
        agreement = "Each move you vote for is executed at once."
    else:
        intro = (f"You are solving a {start.size}x{start.size} maze together with a partner agent. A relay forwards "
                 "your messages to each other verbatim. You each see a different part of the maze: cells marked ? "
                 "are hidden from you, but your partner may see them. Talk to combine what you know.")
        agreement = "Both of you must agree: a move is executed as soon as your latest votes name the same direction."
    if len(start.maps) == 1:
        maps = f"Your map (rows top to bottom):\n{render_map(start.maps[0])}"
    else:
        maps = "\n\n".join(f"Map {i + 1} of {len(start.maps)} (rows top to bottom):\n{render_map(rows)}"
                           for i, rows in enumerate(start.maps))
    parts = [intro, maps, LEGEND, _RULES.format(agreement=agreement, limit=start.message_limit)]
    if not solo:
        if start.speaks_first:
            parts.append("You speak first.")
        else:
            parts.append(f"Your partner spoke first. Their message:\n{start.partner_text or ''}")
    return "\n\n".join(parts)


def turn_text(turn: SeatTurn, solo: bool) -> str:
    """The partner's message verbatim; in solo games, the referee's verdict on the last vote."""
    if not solo:
        return turn.partner_text or ""
    lines = [f"Your move {o.direction} was {'executed' if o.executed else 'not executed'}." for o in turn.outcomes]
    return "\n".join(lines) or "No move was made: vote with a line `MOVE: <direction>`."
