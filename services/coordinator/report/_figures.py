"""Figures of a run, drawn with matplotlib for papers and for the HTML report: the pair heatmap, the
collaboration gap, the relay curves and the score by team size.

    figure = gap_chart(analysis)                                   # a matplotlib Figure, or None: nothing to draw
    paths = write_figures(analysis, Path("figures"), ("png", "pdf"))

matplotlib is imported only when a figure is drawn, and draws with Agg (`Figure` objects, never pyplot). Output is
byte-for-byte reproducible: no dates in SVG or PDF metadata, and a fixed `svg.hashsalt` per figure. Every axis's
range holds every interval drawn on it.
Names in the figures come from run files and agents: mathtext is off, so `$` is only a dollar sign.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from .._errors import ConfigError
from ..analysis._analysis import Analysis, Cell
from ..analysis._stats import Estimate
from ._tables import format_estimate, format_paper, relay_baseline

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FigureFormat = Literal["png", "svg", "pdf"]
FORMATS: tuple[FigureFormat, ...] = get_args(FigureFormat)
PNG_DPI = 200
STYLE: dict[Any, object] = {
    "font.family": "DejaVu Sans", "font.size": 9.0, "axes.titlesize": 10.0, "axes.labelsize": 9.0,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "axes.grid.axis": "y",
    "axes.axisbelow": True, "grid.color": "#e3e3e3", "grid.linewidth": 0.8, "legend.fontsize": 8.0,
    "legend.frameon": False, "text.parse_math": False, "svg.fonttype": "none", "pdf.fonttype": 42,
    "savefig.facecolor": "white",
}
"""rcParams (matplotlib types their keys as a `Literal`) every figure is drawn and saved under. SVG keeps text as
text (searchable, editable); PDF embeds TrueType fonts, as publishers ask."""
SERIES = {"pair": ("homogeneous pair", "#1f77b4"), "solo-full": ("solo, full map", "#ff7f0e"),
          "solo-split": ("solo, split views", "#2ca02c")}
CURVE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_METADATA: dict[FigureFormat, dict[str, str | None]] = {
    "png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None},
}
_INLINE_METADATA: dict[str, str | None] = {"Creator": None, "Date": None, "Format": None, "Type": None}
_DRAWING = threading.RLock()


def parse_formats(text: str) -> tuple[FigureFormat, ...]:
    """`png,svg,pdf` as a tuple of formats: each asked once, in the order png, svg, pdf.

    Raises:
        ConfigError: a format other than png, svg and pdf, or none at all.
    """
    asked = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in asked if part not in FORMATS]
    if unknown or not asked:
        raise ConfigError(f"figure format {', '.join(unknown) or repr(text)} is not one we write; "
                          f"use a comma-separated list of {', '.join(FORMATS)} (e.g. --format png,svg,pdf)")
    return tuple(fmt for fmt in FORMATS if fmt in asked)


@contextmanager
def _style(name: str) -> Iterator[None]:
    """Draw or save under `STYLE`; one figure at a time, since rcParams are global to the process."""
    import matplotlib

    with _DRAWING, matplotlib.rc_context({**STYLE, "svg.hashsalt": f"collabgap-{name}"}):
        yield


def _score_limits(intervals: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """A score axis from 0 to 1, grown to hold every (low, high) drawn on it, with a small margin."""
    low = min([0.0, *(lo for lo, _ in intervals)])
    high = max([1.0, *(hi for _, hi in intervals)])
    margin = 0.04 * (high - low)
    return low - (margin if low < 0 else 0.0), high + margin


def _interval(value: Estimate) -> tuple[float, float]:
    mean, ci = value.mean or 0.0, value.ci95 or 0.0
    return mean - ci, mean + ci


def _score_axis(ax: Axes, limits: tuple[float, float], label: str) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_ylim(*limits)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.set_ylabel(label)
    if limits[0] < 0:
        ax.axhline(0.0, color="#555555", linewidth=0.8, zorder=1)


def _pair_grids(analysis: Analysis) -> list[tuple[str, list[str], dict[tuple[str, str], Cell]]]:
    """Per protocol: the players, and the plain pair cells by (seat A, seat B)."""
    grids = []
    for mode in sorted({c.mode for c in analysis.cells if c.condition == "pair"}):
        cells = {(c.seat_a, c.seat_b): c for c in analysis.cells
                 if c.condition == "pair" and c.mode == mode and c.relay_kind is None and c.seat_b is not None}
        if cells:
            grids.append((mode, sorted({name for pair in cells for name in pair}), cells))
    return grids


def _cell_text(cell: Cell | None, detail: bool) -> str:
    if cell is None:
        return ""
    if cell.weighted.mean is None:
        return f"no score\n{cell.errors} errors" if detail else "—"
    lines = [format_estimate(cell.weighted, 2, bootstrap=False)]
    if detail:
        lines.append(f"n = {cell.n}")
        if cell.paper_weighted:
            lines.append(f"paper {format_paper(cell.paper_weighted)}")
    return "\n".join(lines)


def pair_heatmap(analysis: Analysis) -> Figure | None:
    """Mean weighted score of each pair by who opens (rows, seat A) and who answers (columns, seat B), one panel
    per protocol; each cell prints its mean ± 1.96·SE and n (and the paper's value where it has one)."""
    grids = _pair_grids(analysis)
    if not grids:
        return None
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    means = [c.weighted.mean for _, _, cells in grids for c in cells.values() if c.weighted.mean is not None]
    norm = Normalize(vmin=min([0.0, *means]), vmax=max([1.0, *means]))
    cmap = colormaps["viridis"].with_extremes(bad="#eeeeee")
    most = max(len(players) for _, players, _ in grids)
    side = max(0.6, min(1.25, 9.0 / most))
    detail = side >= 0.9
    with _style("pairs"):
        figure = Figure(figsize=(len(grids) * (side * most + 1.8) + 1.2, side * most + 1.9), layout="constrained")
        axes = figure.subplots(1, len(grids), squeeze=False)[0]
        image = None
        for ax, (mode, players, cells) in zip(axes, grids, strict=True):
            grid = np.full((len(players), len(players)), np.nan)
            for (a, b), played in cells.items():
                if played.weighted.mean is not None:
                    grid[players.index(a), players.index(b)] = played.weighted.mean
            image = ax.pcolormesh(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, edgecolors="white",
                                  linewidth=1.5)
            for row, a in enumerate(players):
                for col, b in enumerate(players):
                    cell = cells.get((a, b))
                    value = None if cell is None else cell.weighted.mean
                    dark = value is not None and sum(cmap(norm(value))[:3]) < 1.5
                    ax.text(col + 0.5, row + 0.5, _cell_text(cell, detail), ha="center", va="center",
                            fontsize=7.5 if detail else 6.0, color="white" if dark else "#111111")
            ticks = [i + 0.5 for i in range(len(players))]
            slanted = max(map(len, players)) > 6
            ax.set_xticks(ticks, players, rotation=30 if slanted else 0, ha="right" if slanted else "center")
            ax.set_yticks(ticks, players)
            ax.set_aspect("equal")
            ax.invert_yaxis()
            ax.set_xlabel("seat B (answers)")
            ax.set_ylabel("seat A (opens)")
            ax.set_title(f"{mode} protocol")
            ax.grid(False)
            ax.spines[:].set_visible(False)
        assert image is not None  # one panel per grid, and there is at least one grid
        colour_bar = figure.colorbar(image, ax=list(axes), shrink=0.9)
        colour_bar.set_label("mean weighted score")
    return figure


def gap_chart(analysis: Analysis) -> Figure | None:
    """Per player and protocol: the homogeneous pair's and the solo cells' weighted scores, error bars 1.96·SE;
    each player's label gives the gap (solo − pair, paired on shared mazes)."""
    gaps = [g for g in analysis.gaps if g.solo.mean is not None and g.pair.mean is not None]
    if not gaps:
        return None
    from matplotlib.figure import Figure

    groups = list(dict.fromkeys((g.player, g.mode) for g in gaps))
    series = ["pair", *sorted({g.solo_condition for g in gaps})]
    bars: dict[tuple[str, int], Estimate] = {}
    labels = []
    for index, (player, mode) in enumerate(groups):
        mine = [g for g in gaps if (g.player, g.mode) == (player, mode)]
        bars[("pair", index)] = mine[0].pair
        bars.update({(g.solo_condition, index): g.solo for g in mine})
        lines = [player] + ([] if mode == "referee" else [f"({mode} protocol)"])
        lines += [f"gap{'' if len(series) == 2 else ' ' + g.solo_condition.removeprefix('solo-')} "
                  f"{format_estimate(g.gap, 2, bootstrap=False, signed=True)}" for g in mine]
        labels.append("\n".join(lines))
    width = 0.8 / len(series)
    with _style("gap"):
        figure = Figure(figsize=(max(4.5, 1.1 + len(groups) * (0.45 * len(series) + 0.7)), 3.8),
                        layout="constrained")
        ax = figure.subplots()
        for offset, name in enumerate(series):
            shown = [(index, value) for (kind, index), value in sorted(bars.items()) if kind == name]
            label, colour = SERIES[name]
            ax.bar([i + (offset - (len(series) - 1) / 2) * width for i, _ in shown],
                   [v.mean or 0.0 for _, v in shown], width * 0.92, label=label, color=colour,
                   yerr=[v.ci95 or 0.0 for _, v in shown], capsize=3, error_kw={"elinewidth": 1.0, "ecolor": "#222"})
        ax.set_xticks(range(len(groups)), labels)
        ax.set_xlabel("player")
        ax.set_xlim(-0.6, len(groups) - 0.4)
        _score_axis(ax, _score_limits([_interval(v) for v in bars.values()]), "mean weighted score")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return figure


def relay_chart(analysis: Analysis) -> Figure | None:
    """Weighted score against K for each relay curve, error bars 1.96·SE. A dashed line (and a hollow point at
    K = 0) marks the pair of the players who finish, playing the whole game without a hand-over."""
    curves = [c for c in analysis.relay_curves if any(p.weighted.mean is not None for p in c.points)]
    if not curves:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    intervals: list[tuple[float, float]] = []
    with _style("relay"):
        figure = Figure(figsize=(6.4, 3.6 + 0.22 * len(curves)), layout="constrained")
        ax = figure.subplots()
        for i, curve in enumerate(curves):
            colour = CURVE_COLOURS[i % len(CURVE_COLOURS)]
            points = [p for p in curve.points if p.weighted.mean is not None]
            ax.errorbar([p.k for p in points], [p.weighted.mean or 0.0 for p in points],
                        yerr=[p.weighted.ci95 or 0.0 for p in points], color=colour, marker="o", markersize=4,
                        capsize=3, linewidth=1.5, label=curve.label)
            intervals += [_interval(p.weighted) for p in points]
            baseline = relay_baseline(analysis, curve)
            if baseline is not None and baseline.weighted.mean is not None:
                ax.axhline(baseline.weighted.mean, color=colour, linestyle="--", linewidth=1.0, alpha=0.8,
                           label=f"K = 0 (no relay): {baseline.seat_a} + {baseline.seat_b}")
                ax.errorbar([0], [baseline.weighted.mean], yerr=[baseline.weighted.ci95 or 0.0], color=colour,
                            marker="o", markerfacecolor="white", markersize=5, capsize=3, linewidth=1.0)
                intervals.append(_interval(baseline.weighted))
        k_high = max(p.k for c in curves for p in c.points)
        ax.set_xlim(-0.5, k_high + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlabel("K: messages written before the hand-over")
        _score_axis(ax, _score_limits(intervals), "mean weighted score")
        figure.legend(loc="outside lower center", ncols=1)
    return figure


def _team_sizes(analysis: Analysis) -> dict[tuple[str, str], dict[int, Estimate]]:
    """Per player and protocol, the weighted score of each team size it played with every seat its own (no relay,
    no set order): alone as 1 (the full map; split views where it played only those), a pair as 2, teams as 3-6.
    Only players that played a team."""
    sizes: dict[tuple[str, str], dict[int, Estimate]] = {}
    for cell in sorted(analysis.cells, key=lambda c: c.condition != "solo-full"):  # solo-full wins size 1
        names = {cell.seat_a, cell.seat_b or cell.seat_a, *cell.more_seats}
        if len(names) == 1 and cell.relay_kind is None and not cell.order and cell.weighted.mean is not None:
            sizes.setdefault((cell.seat_a, cell.mode), {}).setdefault(cell.team_size, cell.weighted)
    return {player: by_size for player, by_size in sorted(sizes.items()) if max(by_size) > 2}


def team_chart(analysis: Analysis) -> Figure | None:
    """Weighted score against team size, one line per player and protocol, error bars 1.96·SE: alone (1), its
    homogeneous pair (2) and its homogeneous teams (3 to 6)."""
    lines = _team_sizes(analysis)
    if not lines:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    intervals: list[tuple[float, float]] = []
    with _style("teams"):
        figure = Figure(figsize=(6.4, 3.6 + 0.22 * len(lines)), layout="constrained")
        ax = figure.subplots()
        for i, ((player, mode), by_size) in enumerate(lines.items()):
            points = sorted(by_size.items())
            ax.errorbar([size for size, _ in points], [value.mean or 0.0 for _, value in points],
                        yerr=[value.ci95 or 0.0 for _, value in points], color=CURVE_COLOURS[i % len(CURVE_COLOURS)],
                        marker="o", markersize=4, capsize=3, linewidth=1.5,
                        label=player if mode == "referee" else f"{player} ({mode})")
            intervals += [_interval(value) for _, value in points]
        sizes = [size for by_size in lines.values() for size in by_size]
        ax.set_xlim(min(sizes) - 0.5, max(sizes) + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlabel("team size (1: alone, 2: pair)")
        _score_axis(ax, _score_limits(intervals), "mean weighted score")
        figure.legend(loc="outside lower center", ncols=1)
    return figure


FIGURES: dict[str, Callable[[Analysis], Figure | None]] = {
    "pairs": pair_heatmap, "gap": gap_chart, "relay": relay_chart, "teams": team_chart,
}
"""Every figure by the file name it is written under."""


def _save(figure: Figure, name: str, target: Path | io.BytesIO, fmt: FigureFormat,
          metadata: dict[str, str | None]) -> None:
    with _style(name):
        figure.savefig(target, format=fmt, dpi=PNG_DPI, metadata=metadata)


def write_figures(analysis: Analysis, folder: Path, formats: Sequence[FigureFormat] = FORMATS) -> list[Path]:
    """Write each figure the run has data for as `<name>.<format>` in `folder` (created); returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in FIGURES.items():
        figure = draw(analysis)
        if figure is None:
            continue
        for fmt in formats:
            path = folder / f"{name}.{fmt}"
            _save(figure, name, path, fmt, _METADATA[fmt])
            written.append(path)
    return written


def _prefix_ids(tag: re.Match[str], prefix: str) -> str:
    return re.sub(r'(\bid="|url\(#|href="#)', rf"\1{prefix}-", tag.group(0))


def inline_svg(figure: Figure, name: str) -> str:
    """The figure as an `<svg id="figure-NAME">` element to set inside an HTML page: no XML prolog, doctype or
    metadata, and every element id prefixed with `name`, so that figures in one page never share an id."""
    buffer = io.BytesIO()
    _save(figure, name, buffer, "svg", _INLINE_METADATA)
    text = buffer.getvalue().decode("utf-8")
    svg = re.sub(r"<[^>]+>", lambda tag: _prefix_ids(tag, name), text[text.index("<svg"):].strip())
    return svg.replace("<svg ", f'<svg id="figure-{name}" ', 1)


def svg_figures(analysis: Analysis) -> dict[str, str | None]:
    """Every figure as inline SVG markup (None where the run has nothing to draw), for the HTML report."""
    figures = {name: draw(analysis) for name, draw in FIGURES.items()}
    return {name: None if figure is None else inline_svg(figure, name) for name, figure in figures.items()}
