"""What the scripted policies say: the cartographer shares its map and plans, the follower agrees or goes greedy,
each voting in the game's notation (pure; no I/O)."""

from __future__ import annotations

from collabgap.protocol import COMPLETION_PHRASE, Direction, render_map, step

from ._knowledge import Knowledge, Style


def _vote(k: Knowledge, move: Direction, style: Style, agreeing: bool) -> str:
    target = step(k.position, move)
    name = f"({target[1] + 1},{target[0] + 1})" if style.coordinates else move.value
    if style.referee:
        return f"{f'Target {name}. ' if style.coordinates else ''}\nMOVE: {move.value}".lstrip()
    return f"{'Agreed' if agreeing else 'Proposal'}: {name}"


def _finish(k: Knowledge, move: Direction, executes: bool) -> str:
    return f" That reaches the goal. {COMPLETION_PHRASE}" if executes and step(k.position, move) == k.goal else ""


def share_map(k: Knowledge, style: Style) -> str:
    """The cartographer's opening: its whole map (and its coordinate convention, when it uses one)."""
    convention = " I name cells as (column, row), counting from 1 at the top-left." if style.coordinates else ""
    return f"Hello! Here is my whole map (rows top to bottom, ? = hidden from me):{convention}\n{render_map(k.own)}"


def solution_says(k: Knowledge, route: list[Direction] | None, style: Style, *, opening: bool) -> str:
    """Alone in paper mode: the whole route at once, as the list of cells from the start to the goal (the
    coordinate-speaking policy names them 1-based (column, row), others 0-based (row, column)); after the critic
    step, the same route again."""
    if not route:
        return "I cannot find any route to the goal on this map."
    cells = [k.position]
    for move in route:
        cells.append(step(cells[-1], move))
    if style.coordinates:
        convention, names = "(column, row), counting from 1", [f"({c + 1}, {r + 1})" for r, c in cells]
    else:
        convention, names = "(row, column), counting from 0", [f"({r}, {c})" for r, c in cells]
    review = "" if opening else "I reviewed my route against the map; it is complete and valid.\n"
    return (f"{review}The route is {', '.join(m.value for m in route)} ({len(route)} moves). Cells are "
            f"{convention} at the top-left corner.\nFinal solution: [{', '.join(names)}]")


def cartographer_says(k: Knowledge, style: Style, *, opening: bool = False) -> str:
    """Share the map first, then propose the next step of the shortest known route; agree only with that step.
    Alone in paper mode: the shortest known route, whole."""
    if k.solo and not style.referee:
        return solution_says(k, k.plan(), style, opening=opening)
    team = k.seats > 2
    if opening and not k.solo and k.partner_pending is None:
        return (f"{share_map(k, style)}\nPlease share your {'maps' if team else 'map'} too, then I will plan the "
                f"shortest route for {'all' if team else 'both'} of us.")
    prefix = f"{share_map(k, style)}\n" if opening and not k.solo else ""
    if k.position == k.goal:
        return f"{prefix}We are on the goal. {COMPLETION_PHRASE}"
    route = k.plan()
    if not route:
        return f"{prefix}I cannot find any route to the goal from what we know. Can you describe the cells around us?"
    move, left = route[0], f"{len(route)} moves" if len(route) > 1 else "1 move"
    agreeing = k.backs(move)
    finish = _finish(k, move, k.executes(move))
    if k.solo:
        text = f"Moving {move.value}; {left} to the goal.{finish}"
    elif agreeing:
        text = f"Agreed, {move.value} is on my route ({left} to the goal).{finish}"
    elif k.partner_pending is not None:
        text = (f"I would rather not go {k.partner_pending.value}: on the merged map the shortest route "
                f"starts {move.value} ({left}). Please confirm.")
    else:
        text = f"Next I propose {move.value} ({left} to the goal). Do you {'all ' if team else ''}agree?"
    return f"{prefix}{text}\n{_vote(k, move, style, agreeing)}"


def follower_says(k: Knowledge, style: Style, *, opening: bool = False) -> str:
    """Never share the map; agree with the latest proposal, else propose a locally greedy step. Alone in paper
    mode: the greedy route, whole."""
    if k.solo and not style.referee:
        return solution_says(k, k.greedy_route(), style, opening=opening)
    prefix = "Hi! Happy to follow your lead.\n" if opening else ""
    if k.position == k.goal:
        return f"{prefix}Looks like we made it! {COMPLETION_PHRASE}"
    if k.partner_pending is not None and not k.solo:
        move = k.partner_pending
        finish = _finish(k, move, k.executes(move))
        return f"{prefix}Sure, let's go {move.value}.{finish}\n{_vote(k, move, style, True)}"
    greedy = k.greedy()
    if greedy is None:
        return f"{prefix}I don't know where to go from here. What do you suggest?"
    move = greedy
    finish = _finish(k, move, k.executes(move))
    return f"{prefix}I think {move.value} gets us closer to the goal.{finish}\n{_vote(k, move, style, False)}"
