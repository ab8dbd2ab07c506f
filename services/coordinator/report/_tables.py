"""Tables of a run for papers: Markdown and LaTeX (booktabs), and the number formats every report shares.

    write_tables(analysis, Path("runs/demo/report"))    # tables.md and tables.tex
    print(markdown(paper_tables(analysis)))

Intervals read as in the HTML report: `mean ± 1.96·SE`; success rates give their Wilson interval. Names come
from run files and agents, so every cell is escaped for its format: `_`, `%`, `&`, `|` and the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ..analysis._analysis import Analysis, Cell, RelayCurve
from ..analysis._paper import PaperValue
from ..analysis._stats import Estimate

CELLS_CAPTION = ("Cells: n episodes in the estimates; weighted score, mean ± 1.96·SE; success rate with its 95% "
                 "Wilson interval")
GAPS_CAPTION = ("Collaboration gap: solo − homogeneous pair (weighted score), paired on the mazes both played; "
                "mean ± 1.96·SE")
RELAY_CAPTION = ("Relay curves: weighted score by K, the messages written before the hand-over; K = 0 is the "
                 "pair of the players who finish, playing the whole game (no relay); mean ± 1.96·SE")


def format_estimate(value: Estimate, digits: int = 3, percent: bool = False, bootstrap: bool = True,
                    signed: bool = False) -> str:
    """`mean ± ci95`, and (with `bootstrap`) the bootstrap bounds in brackets where known; `signed` writes the
    mean's sign, for differences."""
    if value.mean is None:
        return "—"
    scale, unit = (100.0, "%") if percent else (1.0, "")
    digits = 0 if percent else digits
    text = f"{value.mean * scale:{'+' if signed else ''}.{digits}f}{unit}"
    if value.ci95 is not None:
        text += f" ± {value.ci95 * scale:.{digits}f}{unit}"
    if bootstrap and value.boot_low is not None and value.boot_high is not None:
        text += f" [{value.boot_low * scale:.{digits}f}, {value.boot_high * scale:.{digits}f}]"
    return text


def format_wilson(value: Estimate) -> str:
    """A success rate's Wilson interval, `[low%, high%]`, or `—`."""
    if value.wilson_low is None or value.wilson_high is None:
        return "—"
    return f"[{value.wilson_low:.0%}, {value.wilson_high:.0%}]"


def format_paper(value: PaperValue | None, percent: bool = False) -> str:
    """A published value as the paper prints it, `0.50 ± 0.04` or `18% ± 5%`; empty when there is none."""
    if value is None:
        return ""
    if percent:
        return f"{value.mean:.0%} ± {value.ci95:.0%}"
    return f"{value.mean:.2f} ± {value.ci95:.2f}"


def _rate(value: Estimate) -> str:
    """`50% [30%, 70%]`: the success rate and its Wilson interval."""
    return "—" if value.mean is None else f"{value.mean:.0%} {format_wilson(value)}"


def relay_baseline(analysis: Analysis, curve: RelayCurve) -> Cell | None:
    """The K = 0 end of a relay curve: the players who finish, as a plain pair playing the whole game."""
    seat_a = curve.relay_seat_a or curve.seat_a
    seat_b = curve.relay_seat_b or curve.seat_b
    return analysis.cell("pair", seat_a, seat_b, mode=curve.mode)


class TextTable(BaseModel):
    """One table as plain text cells, ready for any markup."""

    model_config = ConfigDict(frozen=True)

    name: str
    """`cells`, `gaps` or `relay`: the LaTeX label is `tab:collabgap-<name>`."""
    caption: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_from: int
    """Columns from this one on are right-aligned."""


def paper_tables(analysis: Analysis) -> list[TextTable]:
    """The cells table, then the gap and relay tables where the run has them."""
    paper = any(c.paper_weighted or c.paper_success for c in analysis.cells)
    head = ("cell", "protocol", "n", "weighted", "success") + (("paper weighted", "paper success") if paper else ())
    cells = tuple((c.label, c.mode, str(c.n), format_estimate(c.weighted, 2, bootstrap=False), _rate(c.success))
                  + ((format_paper(c.paper_weighted), format_paper(c.paper_success, percent=True)) if paper else ())
                  for c in analysis.cells)
    tables = [TextTable(name="cells", caption=CELLS_CAPTION, head=head, rows=cells, numeric_from=2)]
    if analysis.gaps:
        gaps = tuple((g.player, g.mode, g.solo_condition, format_estimate(g.solo, 2, bootstrap=False),
                      format_estimate(g.pair, 2, bootstrap=False),
                      format_estimate(g.gap, 2, bootstrap=False, signed=True), str(g.shared_mazes))
                     for g in analysis.gaps)
        tables.append(TextTable(name="gaps", caption=GAPS_CAPTION, head=("player", "protocol", "solo", "solo score",
                                                                         "pair score", "gap", "shared mazes"),
                                rows=gaps, numeric_from=3))
    if analysis.relay_curves:
        relay: list[tuple[str, ...]] = []
        for curve in analysis.relay_curves:
            baseline = relay_baseline(analysis, curve)
            if baseline is not None:
                relay.append((curve.label, "0", str(baseline.n), format_estimate(baseline.weighted, 2, bootstrap=False),
                              _rate(baseline.success)))
            relay += [(curve.label, str(p.k), str(p.n), format_estimate(p.weighted, 2, bootstrap=False),
                       _rate(p.success)) for p in curve.points]
        tables.append(TextTable(name="relay", caption=RELAY_CAPTION, head=("relay", "K", "n", "weighted", "success"),
                                rows=tuple(relay), numeric_from=1))
    return tables


_MARKDOWN_SPECIAL = frozenset("\\`*_[]<>|#")


def _markdown_text(text: str) -> str:
    return "".join(f"\\{ch}" if ch in _MARKDOWN_SPECIAL else ch for ch in text.replace("\n", " "))


def markdown(tables: Sequence[TextTable]) -> str:
    """GitHub-flavoured Markdown: each table under its caption, in bold."""
    parts = []
    for table in tables:
        align = ["---:" if i >= table.numeric_from else ":---" for i in range(len(table.head))]
        lines = [f"**{_markdown_text(table.caption)}**", "",
                 "| " + " | ".join(map(_markdown_text, table.head)) + " |", "| " + " | ".join(align) + " |"]
        lines += ["| " + " | ".join(map(_markdown_text, row)) + " |" for row in table.rows]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


_LATEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
    "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
    "[": "{[}", "]": "{]}", "±": r"$\pm$", "−": "$-$", "—": "---", "→": r"$\rightarrow$", "·": r"$\cdot$",
    "\n": " ",
}
"""Characters that are markup in LaTeX, and the Unicode our tables print that pdfLaTeX cannot set as it is."""


def latex_text(text: str) -> str:
    """`text` as LaTeX that sets exactly these characters."""
    return "".join(_LATEX.get(ch, ch) for ch in text)


def latex(tables: Sequence[TextTable]) -> str:
    """One `table` float per table, booktabs rules (`\\usepackage{booktabs}` in the preamble)."""
    parts = ["% collabgap tables: needs \\usepackage{booktabs}\n"]
    for table in tables:
        columns = "".join("r" if i >= table.numeric_from else "l" for i in range(len(table.head)))
        lines = [r"\begin{table}[htbp]", r"\centering", rf"\caption{{{latex_text(table.caption)}}}",
                 rf"\label{{tab:collabgap-{table.name}}}", rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
                 " & ".join(latex_text(h) for h in table.head) + r" \\", r"\midrule"]
        lines += [" & ".join(latex_text(cell) for cell in row) + r" \\" for row in table.rows]
        lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def write_tables(analysis: Analysis, out_dir: Path) -> tuple[Path, Path]:
    """Write `tables.md` and `tables.tex` to `out_dir`; returns their paths."""
    tables = paper_tables(analysis)
    md, tex = out_dir / "tables.md", out_dir / "tables.tex"
    md.write_text(markdown(tables), encoding="utf-8")
    tex.write_text(latex(tables), encoding="utf-8")
    return md, tex
