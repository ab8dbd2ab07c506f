"""The HTML report: one static page with inline styles, the run's figures as inline SVG, and a transcript viewer.

Agent-written text is untrusted. Every string that goes into markup passes through `html.escape` (matplotlib
escapes the text of the figures); the viewer's data travels as JSON in a `<script type="application/json">` block
with `<`, `>` and `&` escaped, and the viewer script writes it with `textContent` only (`static/viewer.js`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import TYPE_CHECKING

from collabgap.protocol import SEATS, MazeParams

from .._records import EpisodeRecord
from ..analysis._analysis import Analysis, Cell
from ._figures import svg_figures
from ._model_input import RequestIndex
from ._tables import format_estimate, format_paper, format_wilson

if TYPE_CHECKING:
    from ._store_reader import RunInfo

EMPTY_FIGURES = {"pairs": "No pair episodes in this run.",
                 "gap": "No player has both a solo and a homogeneous pair cell.",
                 "relay": "No relay episodes in this run.",
                 "teams": "No player played a homogeneous team (three or more seats) in this run."}


def _asset(name: str) -> str:
    asset = resources.files("collabgap.services.coordinator.report").joinpath(f"static/{name}")
    return asset.read_text(encoding="utf-8")


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _table(table_id: str, head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """A table whose cells are already-escaped HTML."""
    if not rows:
        return f'<p class="empty" id="{table_id}">{escape(empty)}</p>'
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}" class="data"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _cell_name(cell: Cell) -> str:
    return escape(cell.label)


def tables(analysis: Analysis) -> dict[str, str]:
    """The report's tables: cells, ordering, gaps, cost, agent failures and platform errors."""
    cells = [[_cell_name(c), escape(c.mode), str(c.n), str(c.flagged), str(c.excluded), str(c.errors),
              escape(format_estimate(c.weighted)), escape(format_estimate(c.success, percent=True)),
              escape(format_wilson(c.success)), str(c.mazes), _num(c.wall_fraction, 2), _num(c.optimal_length, 1),
              escape(format_paper(c.paper_weighted)), escape(format_paper(c.paper_success, percent=True))]
             for c in analysis.cells]
    gaps = [[escape(g.player), escape(g.mode), escape(g.solo_condition), escape(format_estimate(g.solo)),
             escape(format_estimate(g.pair)), escape(format_estimate(g.gap)), str(g.shared_mazes)]
            for g in analysis.gaps]
    ordering = [[escape(e.player_x), escape(e.player_y), escape(e.mode), escape(format_estimate(e.x_opens)),
                 escape(format_estimate(e.y_opens)), escape(format_estimate(e.effect)), str(e.shared_mazes)]
                for e in analysis.ordering]
    cost = [[_cell_name(c), escape(c.mode), str(c.episodes), _num(c.messages_mean, 1), str(c.prompt_tokens),
             str(c.completion_tokens), _num(c.tokens_per_episode, 0), f"{c.cost_usd:.4f}",
             _num(c.cost_usd_per_episode, 6)] for c in analysis.cells]
    kinds = sorted({kind for a in analysis.agent_errors for kind in a.kinds})
    errors = [[escape(a.agent), str(a.episodes), str(a.errors), str(a.excluded),
               "—" if a.rate is None else f"{a.rate:.1%}"] + [str(a.kinds.get(kind, 0)) for kind in kinds]
              for a in analysis.agent_errors]
    platform = [[escape(kind), str(count)] for kind, count in analysis.platform_errors.items()]
    return {
        "cells": _table("cells-table", ("cell", "protocol", "n", "flagged", "excluded", "errors", "weighted",
                                        "success", "success Wilson", "mazes", "wall fraction", "optimal path",
                                        "paper weighted", "paper success"), cells, "No episodes."),
        "gaps": _table("gap-table", ("player", "protocol", "solo", "solo score", "pair score", "gap", "shared mazes"),
                       gaps, "No gaps to show."),
        "ordering": _table("ordering-table", ("X", "Y", "protocol", "X opens", "Y opens", "X opens − Y opens",
                                              "shared mazes"), ordering, "No pair was played in both orders."),
        "cost": _table("cost-table", ("cell", "protocol", "episodes", "messages/episode", "prompt tokens",
                                      "completion tokens", "tokens/episode", "cost $", "cost $/episode"), cost,
                       "No episodes."),
        "errors": _table("error-table", ("agent", "episodes", "failures", "excluded", "rate", *kinds), errors,
                         "No agents."),
        "platform": _table("platform-table", ("kind", "episodes"), platform, "No platform errors."),
    }


def _maps(record: EpisodeRecord) -> list[dict[str, object]]:
    """The private maps as the seats saw them: one map per seat in a pair or team, the maps a solo player was
    shown."""
    views = record.views
    if record.spec.condition == "solo-full":
        return [{"title": "Map shown (the full maze)", "rows": record.maze}] if record.maze else []
    if record.spec.condition == "solo-split":
        return [{"title": f"View {i + 1} (shown)", "rows": v} for i, v in enumerate(views)]
    return [{"title": f"Seat {seat}'s view", "rows": v} for seat, v in zip(SEATS, views, strict=False)]


def _move_messages(record: EpisodeRecord) -> list[int | None]:
    """For each executed move, the message whose vote executed it (None where the record cannot tell)."""
    voting = [m.index for m in record.messages if m.vote is not None]
    if len(voting) != len(record.votes):
        return [None] * len(record.moves)
    executed = [index for index, vote in zip(voting, record.votes, strict=True) if vote.executed]
    return [executed[i] if i < len(executed) else None for i in range(len(record.moves))]


def episode_view(record: EpisodeRecord) -> dict[str, object]:
    """What the transcript viewer needs of one episode.

    What each model saw is a list of requests per message and for the grading, each the first `length`
    messages of one of the episode's `conversations`.
    """
    spec, score, relay = record.spec, record.score, record.spec.relay
    seats = " + ".join(holder.name for holder in spec.seats().values())
    requests = RequestIndex()
    return {
        "id": spec.episode_id, "attempt": record.attempt, "label": episode_view_label(record),
        "condition": spec.condition, "mode": spec.mode, "seats": seats, "status": record.status,
        "end_reason": record.end_reason, "maze_id": record.maze_id,
        "relay": None if relay is None else f"{relay.kind}, hand-over after K={relay.after_messages} messages",
        "score": None if score is None else score.model_dump(),
        "error": None if record.error is None else record.error.model_dump(),
        "maze": record.maze, "maps": _maps(record),
        "messages": [{"index": m.index, "seat": m.seat, "player": m.player, "text": m.text, "vote": m.vote,
                      "vote_error": m.vote_error, "model_input": requests.add(m.seat, m.model_input)}
                     for m in record.messages],
        "moves": [m.model_dump() for m in record.moves], "move_messages": _move_messages(record),
        "route": record.grading.route if record.grading else None,
        "grading_input": requests.add("grader", record.grading.model_input) if record.grading else [],
        "conversations": requests.conversations,
    }


def _script_json(data: object) -> str:
    """JSON safe inside a `<script>` element: no `<`, `>` or `&` can end it or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _distinct(values: Sequence[object]) -> str:
    return ", ".join(sorted({str(v) for v in values}))


def _mazes(records: Sequence[EpisodeRecord]) -> str:
    """`4 mazes: 6×6, wall density 0.30, start top-left, goal bottom-right, seeds 0–3` (or from a file)."""
    mazes = len({r.maze_id for r in records if r.maze_id})
    generated = [r.spec.maze for r in records if isinstance(r.spec.maze, MazeParams)]
    parts = [f"{mazes} maze{'s' if mazes != 1 else ''}"]
    kinds = sorted({(m.size, m.wall_density, m.start, m.goal, m.path_range) for m in generated})
    parts += [f"{size}×{size}, wall density {density:.2f}, start {start}, goal {goal}, optimal route {low}–{high} "
              f"moves" for size, density, start, goal, (low, high) in kinds]
    seeds = sorted({m.seed for m in generated})
    parts += [f"seeds {seeds[0]}–{seeds[-1]}" if len(seeds) > 1 else f"seed {seeds[0]}"] if seeds else []
    explicit = sum(not isinstance(r.spec.maze, MazeParams) for r in records)
    parts += [f"{explicit} episodes on mazes given explicitly"] if explicit else []
    return "; ".join(parts)


def run_settings(records: Sequence[EpisodeRecord], run: RunInfo | None = None) -> list[tuple[str, str]]:
    """What the top of the page says of the run: the stored run (id, progress, start), then what its episodes
    were played with, read from the episodes themselves."""
    specs = [r.spec for r in records]
    rows = []
    if run is not None:
        planned = f" of {run.planned} planned" if run.planned is not None else ""
        rows += [("run", f"{run.run_id}: {run.status}, {run.stored} episodes stored{planned}"),
                 ("started", run.started_at.strftime("%Y-%m-%d %H:%M UTC"))]
    conditions = Counter(f"{s.condition}{f' relay {s.relay.kind}' if s.relay else ''} ({s.mode})" for s in specs)
    players = [seat.name for s in specs
               for seat in (*s.seats().values(), *(s.relay.newcomers().values() if s.relay else ()))]
    graders = [s.grader.name for s in specs if s.grader is not None]
    rows += [("conditions", ", ".join(f"{name}: {count} episodes" for name, count in sorted(conditions.items()))),
             ("players", _distinct(players) + (f"; grader {_distinct(graders)}" if graders else "")),
             ("mazes", _mazes(records)),
             ("limits", f"message limit {_distinct([s.message_limit for s in specs])}, game timeout "
                        f"{_distinct([f'{s.game_timeout_s:g} s' for s in specs])}, feedback "
                        f"{_distinct([s.feedback for s in specs])}, repetitions {max(s.repetition for s in specs) + 1}"
              if specs else "—")]
    return rows


def _header(records: Sequence[EpisodeRecord], run: RunInfo | None) -> str:
    """The run's settings as a definition list, and the run file's settings as stored, folded."""
    items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in run_settings(records, run))
    stored = "" if run is None else (
        '<details id="run-config"><summary>Run settings as stored with the run</summary><pre>'
        + escape(json.dumps(run.config, indent=1, sort_keys=True, ensure_ascii=False)) + "</pre></details>")
    return f'<dl id="run-settings" class="settings">{items}</dl>{stored}'


def _figure(name: str, svg: str | None) -> str:
    if svg is None:
        return f'<p class="empty">{escape(EMPTY_FIGURES[name])}</p>'
    return f'<figure class="chart" id="figure-{name}-box">{svg}</figure>'


def render_report(analysis: Analysis, records: Sequence[EpisodeRecord], *, title: str, viewer_limit: int,
                  run: RunInfo | None = None) -> str:
    """The whole page as one string; `run` (the stored run, where there is one) adds its id, progress and
    settings to the top of the page."""
    shown = list(records)[:viewer_limit]
    options = "".join(f'<option value="{i}">{escape(episode_view_label(r))}</option>' for i, r in enumerate(shown))
    more = (f'<p class="note">The viewer holds the first {len(shown)} of {len(records)} episodes.</p>'
            if len(shown) < len(records) else "")
    parts = tables(analysis)
    figures = svg_figures(analysis)
    return _asset("page.html").format_map({
        "title": escape(title), "style": _asset("report.css"), "script": _asset("viewer.js"),
        "settings": _header(records, run),
        "episodes": analysis.episodes, "scored": analysis.scored, "flagged": analysis.flagged,
        "excluded": analysis.excluded, "errors": analysis.errors, "policy": escape(analysis.policy_note),
        "resamples": analysis.resamples, "seed": analysis.seed, "paper_source": escape(analysis.paper_source),
        **{f"{name}_figure": _figure(name, svg) for name, svg in figures.items()},
        **{f"{name}_table": html for name, html in parts.items()},
        "options": options, "more": more, "data": _script_json([episode_view(r) for r in shown]),
    })


def episode_view_label(record: EpisodeRecord) -> str:
    """How an episode is listed in the viewer's chooser."""
    score = record.score
    outcome = record.status if score is None else f"{record.status}, weighted {score.weighted:.2f}"
    if record.flagged and record.error is not None:
        outcome += f", flagged: {record.error.kind}"
    attempt = f" (attempt {record.attempt})" if record.attempt > 1 else ""
    return f"{record.spec.episode_id}{attempt} · {outcome}"
