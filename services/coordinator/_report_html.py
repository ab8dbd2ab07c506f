"""The HTML report: one static page with inline styles, SVG charts drawn here, and a transcript viewer.

Agent-written text is untrusted. Every string that goes into markup passes through `html.escape`; the viewer's
data travels as JSON in a `<script type="application/json">` block with `<`, `>` and `&` escaped, and the
viewer script writes it with `textContent` only (`report/viewer.js`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from html import escape
from importlib import resources

from ._analysis import Analysis, Cell, PaperValue
from ._model_input import RequestIndex
from ._records import EpisodeRecord
from ._stats import Estimate

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def _asset(name: str) -> str:
    return resources.files("services.coordinator").joinpath(f"report/{name}").read_text(encoding="utf-8")


def _num(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_estimate(value: Estimate, digits: int = 3, percent: bool = False) -> str:
    """`mean ± ci95`, and the bootstrap bounds in brackets where known."""
    if value.mean is None:
        return "—"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    digits = 0 if percent else digits
    text = f"{value.mean * scale:.{digits}f}{unit}"
    if value.ci95 is not None:
        text += f" ± {value.ci95 * scale:.{digits}f}{unit}"
    if value.boot_low is not None and value.boot_high is not None:
        text += f" [{value.boot_low * scale:.{digits}f}, {value.boot_high * scale:.{digits}f}]"
    return text


def format_wilson(value: Estimate) -> str:
    """A success rate's Wilson interval, `[low%, high%]`, or `—`."""
    if value.wilson_low is None or value.wilson_high is None:
        return "—"
    return f"[{value.wilson_low:.0%}, {value.wilson_high:.0%}]"


def _paper(value: PaperValue | None, percent: bool = False) -> str:
    if value is None:
        return ""
    if percent:
        return f"{value.mean:.0%} ± {value.ci95:.0%}"
    return f"{value.mean:.2f} ± {value.ci95:.2f}"


def _heat_colour(mean: float) -> tuple[str, str]:
    """Background (white to deep blue over 0..1, clamped) and a readable text colour."""
    t = min(max(mean, 0.0), 1.0)
    low, high = (247, 251, 255), (8, 69, 148)
    rgb = tuple(round(a + (b - a) * t) for a, b in zip(low, high, strict=True))
    return f"rgb({rgb[0]}, {rgb[1]}, {rgb[2]})", "#fff" if t > 0.55 else "#111"


def _table(table_id: str, head: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    """A table whose cells are already-escaped HTML."""
    if not rows:
        return f'<p class="empty" id="{table_id}">{escape(empty)}</p>'
    header = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}" class="data"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _counts(cell: Cell) -> str:
    """`n = 12, 2 flagged, 1 platform error`: what the cell's estimates rest on, and what they leave out."""
    parts = [f"n = {cell.n}"]
    parts += [f"{cell.flagged} flagged"] if cell.flagged else []
    parts += [f"{cell.excluded} excluded"] if cell.excluded else []
    parts += [f"{cell.errors} platform error" + ("s" if cell.errors > 1 else "")] if cell.errors else []
    return ", ".join(parts)


def _heat_cell(cell: Cell | None, seat_a: str, seat_b: str) -> str:
    attrs = f'data-seat-a="{escape(seat_a)}" data-seat-b="{escape(seat_b)}"'
    if cell is None or cell.weighted.mean is None:
        counts = f'<div class="heat-n">{escape(_counts(cell))}</div>' if cell is not None and cell.episodes else ""
        return f'<td class="heat-cell heat-empty" {attrs}>—{counts}</td>'
    background, colour = _heat_colour(cell.weighted.mean)
    lines = [f'<div class="heat-mean">{escape(format_estimate(cell.weighted))}</div>',
             f'<div class="heat-success">success {escape(format_estimate(cell.success, percent=True))}</div>',
             f'<div class="heat-n">{escape(_counts(cell))}</div>']
    if cell.paper_weighted or cell.paper_success:
        paper = " · ".join(p for p in (_paper(cell.paper_weighted), _paper(cell.paper_success, True)) if p)
        models = f"{cell.models_a[0]} + {cell.models_b[0]}"
        lines.append(f'<div class="paper" title="published value for {escape(models)}">paper {escape(paper)}</div>')
    return (f'<td class="heat-cell" {attrs} style="background:{background};color:{colour}">'
            + "".join(lines) + "</td>")


def heatmap(analysis: Analysis) -> str:
    """The pair matrix per mode: rows open the dialogue (seat A), columns answer (seat B)."""
    parts = []
    for mode in sorted({c.mode for c in analysis.cells if c.condition == "pair"}):
        cells = {(c.seat_a, c.seat_b): c for c in analysis.cells
                 if c.condition == "pair" and c.mode == mode and c.relay_kind is None}
        if not cells:
            continue
        players = sorted({name for pair in cells for name in pair if name is not None})
        head = "".join(f'<th scope="col">{escape(p)}</th>' for p in players)
        rows = "".join(f'<tr><th scope="row">{escape(a)}</th>'
                       + "".join(_heat_cell(cells.get((a, b)), a, b) for b in players) + "</tr>" for a in players)
        parts.append(f'<table class="heatmap" data-mode="{escape(mode)}"><caption>{escape(mode)} protocol: weighted '
                     f'score (rows open, seat A; columns answer, seat B)</caption><thead><tr>'
                     f'<th class="corner">A ↓ · B →</th>{head}</tr></thead><tbody>{rows}</tbody></table>')
    return "".join(parts) or '<p class="empty">No pair episodes in this run.</p>'


def _axis(y_of: Callable[[float], float], low: float, high: float, x0: float, x1: float, ticks: int = 5) -> str:
    out = []
    for i in range(ticks + 1):
        value = low + (high - low) * i / ticks
        y = y_of(value)
        out.append(f'<line class="grid" x1="{x0}" x2="{x1}" y1="{y:.1f}" y2="{y:.1f}"/>'
                   f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.2f}</text>')
    return "".join(out)


def _legend(entries: Sequence[tuple[str, str]]) -> str:
    items = "".join(f'<li><span class="swatch" style="background:{colour}"></span>{escape(text)}</li>'
                    for colour, text in entries)
    return f'<ul class="legend">{items}</ul>'


def gap_chart(analysis: Analysis) -> str:
    """Bars of solo − homogeneous pair, grouped by player, with 1.96·SE error bars, as inline SVG."""
    gaps = [g for g in analysis.gaps if g.gap.mean is not None]
    if not gaps:
        return '<p class="empty">No player has both a solo and a homogeneous pair cell.</p>'
    extent = math.ceil(max(max(abs(g.gap.mean or 0.0) + (g.gap.ci95 or 0.0) for g in gaps), 0.1) * 10) / 10
    series = sorted({g.solo_condition for g in gaps})
    groups = list(dict.fromkeys((g.player, g.mode) for g in gaps))
    bar, group_w = 28, 28 * len(series) + 40
    width, height, left, top, bottom = max(360, 60 + group_w * len(groups) + 20), 300, 60, 20, 50
    plot_h = height - top - bottom

    def y_of(value: float) -> float:
        return top + (extent - value) / (2 * extent) * plot_h

    out = [_axis(y_of, -extent, extent, left, width - 10, ticks=4),
           f'<line class="zero" x1="{left}" x2="{width - 10}" y1="{y_of(0):.1f}" y2="{y_of(0):.1f}"/>']
    for g in gaps:
        group = groups.index((g.player, g.mode))
        x = left + 20 + group * group_w + series.index(g.solo_condition) * bar
        mean, centre = g.gap.mean or 0.0, x + bar / 2
        y, y0 = y_of(max(mean, 0.0)), y_of(min(mean, 0.0))
        label = f"{g.player} ({g.solo_condition}, {g.mode}): gap {format_estimate(g.gap)}"
        out.append(f'<g class="bar"><title>{escape(label)}</title><rect x="{x + 2}" y="{y:.1f}" width="{bar - 4}" '
                   f'height="{max(y0 - y, 1):.1f}" fill="{PALETTE[series.index(g.solo_condition)]}"/>')
        if g.gap.ci95 is not None:
            hi, lo = y_of(mean + g.gap.ci95), y_of(mean - g.gap.ci95)
            out.append(f'<line class="err" x1="{centre}" x2="{centre}" y1="{hi:.1f}" y2="{lo:.1f}"/>'
                       f'<line class="err" x1="{centre - 6}" x2="{centre + 6}" y1="{hi:.1f}" y2="{hi:.1f}"/>'
                       f'<line class="err" x1="{centre - 6}" x2="{centre + 6}" y1="{lo:.1f}" y2="{lo:.1f}"/>')
        out.append("</g>")
    for group, (player, mode) in enumerate(groups):
        centre = left + 20 + group * group_w + bar * len(series) / 2
        name = player if len(player) <= 16 else player[:15] + "…"
        out.append(f'<text class="label" x="{centre}" y="{height - bottom + 16}" text-anchor="middle">'
                   f'<title>{escape(player)}</title>{escape(name)}</text>'
                   + ("" if mode == "referee" else f'<text class="sublabel" x="{centre}" y="{height - bottom + 30}" '
                                                   f'text-anchor="middle">{escape(mode)} mode</text>'))
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="collaboration gap per player">{"".join(out)}</svg>'
            + _legend([(PALETTE[i], f"{condition} − homogeneous pair") for i, condition in enumerate(series)]))


def relay_chart(analysis: Analysis) -> str:
    """Weighted score against K for each relay curve, with 1.96·SE error bars, as inline SVG."""
    curves = [c for c in analysis.relay_curves if any(p.weighted.mean is not None for p in c.points)]
    if not curves:
        return '<p class="empty">No relay episodes in this run.</p>'
    ks = [p.k for c in curves for p in c.points]
    k_low, k_high = min(ks), max(max(ks), min(ks) + 1)
    lows = [(p.weighted.mean or 0.0) - (p.weighted.ci95 or 0.0) for c in curves for p in c.points]
    y_low = math.floor(min(0.0, min(lows)) * 4) / 4
    width, height, left, top, bottom = 620, 320, 60, 20, 50
    plot_w = width - left - 20

    def x_of(k: int) -> float:
        return left + (k - k_low) / (k_high - k_low) * plot_w

    def y_of(value: float) -> float:
        return top + (1.0 - value) / (1.0 - y_low) * (height - top - bottom)

    out = [_axis(y_of, y_low, 1.0, left, width - 10, ticks=round((1.0 - y_low) * 4))]
    for k in sorted(set(ks)):
        out.append(f'<text class="tick" x="{x_of(k):.1f}" y="{height - bottom + 16}" text-anchor="middle">{k}</text>')
    out.append(f'<text class="sublabel" x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">K (messages '
               f'before the hand-over)</text>')
    legend: list[tuple[str, str]] = []
    for i, curve in enumerate(curves):
        colour = PALETTE[i % len(PALETTE)]
        points = [p for p in curve.points if p.weighted.mean is not None]
        path = " ".join(f"{x_of(p.k):.1f},{y_of(p.weighted.mean or 0.0):.1f}" for p in points)
        out.append(f'<g class="curve"><title>{escape(curve.label)}</title><polyline points="{path}" fill="none" '
                   f'stroke="{colour}" stroke-width="2"/>')
        for p in points:
            x, y = x_of(p.k), y_of(p.weighted.mean or 0.0)
            if p.weighted.ci95 is not None:
                mean = p.weighted.mean or 0.0
                hi, lo = y_of(mean + p.weighted.ci95), y_of(mean - p.weighted.ci95)
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{hi:.1f}" y2="{lo:.1f}" stroke="{colour}"/>')
            out.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"><title>'
                       f'{escape(f"{curve.label}, K={p.k}: {format_estimate(p.weighted)} (n={p.n})")}</title></circle>')
        out.append("</g>")
        legend.append((colour, curve.label))
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="relay curves">{"".join(out)}</svg>' + _legend(legend))


def _cell_name(cell: Cell) -> str:
    return escape(cell.label)


def tables(analysis: Analysis) -> dict[str, str]:
    """The report's tables: cells, ordering, gaps, cost, agent failures and platform errors."""
    cells = [[_cell_name(c), escape(c.mode), str(c.n), str(c.flagged), str(c.excluded), str(c.errors),
              escape(format_estimate(c.weighted)), escape(format_estimate(c.success, percent=True)),
              escape(format_wilson(c.success)), str(c.mazes), _num(c.wall_fraction, 2), _num(c.optimal_length, 1),
              escape(_paper(c.paper_weighted)), escape(_paper(c.paper_success, percent=True))]
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
    """The private maps as the seats saw them: one map per seat in a pair, the maps a solo player was shown."""
    views = record.views
    if record.spec.condition == "solo-full":
        return [{"title": "Map shown (the full maze)", "rows": record.maze}] if record.maze else []
    if record.spec.condition == "solo-split":
        return [{"title": f"View {i + 1} (shown)", "rows": v} for i, v in enumerate(views)]
    return [{"title": f"Seat {seat}'s view", "rows": v} for seat, v in zip("AB", views, strict=False)]


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
    seats = spec.seat_a.name + (f" + {spec.seat_b.name}" if spec.seat_b else "")
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


def render_report(analysis: Analysis, records: Sequence[EpisodeRecord], *, title: str, viewer_limit: int) -> str:
    """The whole page as one string."""
    shown = list(records)[:viewer_limit]
    options = "".join(f'<option value="{i}">{escape(episode_view_label(r))}</option>' for i, r in enumerate(shown))
    more = (f'<p class="note">The viewer holds the first {len(shown)} of {len(records)} episodes.</p>'
            if len(shown) < len(records) else "")
    parts = tables(analysis)
    return _asset("page.html").format_map({
        "title": escape(title), "style": _asset("report.css"), "script": _asset("viewer.js"),
        "episodes": analysis.episodes, "scored": analysis.scored, "flagged": analysis.flagged,
        "excluded": analysis.excluded, "errors": analysis.errors, "policy": escape(analysis.policy_note),
        "resamples": analysis.resamples, "seed": analysis.seed, "paper_source": escape(analysis.paper_source),
        "heatmap": heatmap(analysis), "gap_chart": gap_chart(analysis), "relay_chart": relay_chart(analysis),
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
