"""The pages of `collabgap view`, rendered on the server: runs, one run's analysis, its episode list, one episode.

Agent-written text is untrusted: every string set into markup passes through `html.escape`, and the episode page
hands the transcript viewer its data as escaped JSON (`_report_html`), which the viewer writes with `textContent`.
The analysis tables, figures and the episode's viewer data come from the same functions as the HTML report.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from importlib import resources
from typing import Any
from urllib.parse import quote, urlencode

from .._records import EpisodeRecord, MessageRecord
from ..analysis._analysis import Analysis, Cell
from ._figures import svg_figures
from ._report_html import _script_json, episode_view, tables
from ._store_reader import EpisodeFilter, EpisodePage, EpisodeRow, Facets, RunInfo, SortKey

PAGE_SIZE = 50
COLUMNS: tuple[tuple[str, SortKey | None], ...] = (
    ("episode", "episode"), ("condition", None), ("protocol", None), ("seats", None), ("status", "status"),
    ("end", None), ("weighted", "weighted"), ("messages", "messages"), ("error kind", None), ("blame", None),
    ("tokens", None), ("cost $", "cost"), ("duration s", "duration"))
"""The episode list's columns, and the order each sorts by (None: not sortable)."""


def _asset(name: str) -> str:
    return resources.files("collabgap.services.coordinator.report").joinpath(f"view/{name}").read_text(encoding="utf-8")


def page(title: str, body: str, *, crumbs: Sequence[tuple[str, str]] = (), poll_ms: int = 0,
         scripts: str = "") -> str:
    """A whole page: `body` and `scripts` are markup already escaped; `title` and the crumbs are plain text."""
    trail = " › ".join([f'<a href="/">runs</a>', *(f'<a href="{escape(href)}">{escape(text)}</a>'
                                                  for text, href in crumbs)])
    return _asset("page.html").format_map({"title": escape(title), "crumbs": trail, "body": body,
                                           "poll_ms": poll_ms, "scripts": scripts})


def run_href(run_id: str) -> str:
    return f"/runs/{quote(run_id, safe='')}"


def episode_href(run_id: str, episode_id: str) -> str:
    return f"{run_href(run_id)}/episode/{quote(episode_id, safe='/')}"


def filter_params(where: EpisodeFilter) -> dict[str, str]:
    """The query parameters that select `where` on the episode list (`parse_filter` reads them back)."""
    params = {name: value for name, value in where.model_dump(exclude={"cell", "search"}).items() if value is not None}
    if where.search:
        params["q"] = where.search
    if where.cell is not None:
        # A JSON list of the key's fields in declaration order: `parse_filter` zips it back onto the names.
        params["cell"] = json.dumps(list(where.cell.model_dump(mode="json").values()), separators=(",", ":"))
    return params


def episodes_href(run_id: str, where: EpisodeFilter | None = None, **extra: str) -> str:
    params = {**filter_params(where or EpisodeFilter()), **extra}
    return f"{run_href(run_id)}/episodes" + (f"?{urlencode(params)}" if params else "")


def _table(head: Sequence[str], rows: Sequence[Sequence[str]], table_id: str, text_columns: int = 1,
           row_attributes: Sequence[str] | None = None) -> str:
    """A table of already-escaped cells (and row attributes); the first `text_columns` columns are left-aligned."""
    header = "".join(f'<th class="{"text" if i < text_columns else ""}">{h}</th>' for i, h in enumerate(head))
    attributes = row_attributes or [""] * len(rows)
    body = "".join(f"<tr{attrs}>" + "".join(f'<td class="{"text" if i < text_columns else ""}">{cell}</td>'
                                            for i, cell in enumerate(row)) + "</tr>"
                   for attrs, row in zip(attributes, rows, strict=True))
    return f'<table id="{table_id}" class="data"><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>'


def _link_rows(table: str, hrefs: Sequence[str]) -> str:
    """One of the report's tables with the first cell of each body row linked: row i to `hrefs[i]`.

    The report lays out one row per analysis cell (or agent, or error kind), in the analysis's order.
    """
    head, marker, body = table.partition("<tbody>")
    if not marker:
        return table  # an empty table is a note, with no rows to link
    first, *rows = body.split("<tr><td>")
    linked = [f'<tr><td><a href="{escape(href)}">' + row.replace("</td>", "</a></td>", 1)
              for href, row in zip(hrefs, rows, strict=True)]
    return head + marker + first + "".join(linked)


def settings_line(config: Mapping[str, Any]) -> str:
    """A run's settings in one line of plain text: mazes, conditions, agents."""
    parts = []
    mazes = config.get("mazes")
    if isinstance(mazes, dict):
        parts.append("mazes from a file" if mazes.get("file") else
                     f"{mazes.get('count', '?')} mazes {mazes.get('size', '?')}×{mazes.get('size', '?')}, seed "
                     f"{mazes.get('seed', '?')}")
    conditions = [c for c in config.get("conditions") or [] if isinstance(c, dict)]
    if conditions:
        kinds = dict.fromkeys(str(c.get("kind")) + ("" if c.get("mode", "referee") == "referee" else f" ({c['mode']})")
                              for c in conditions)
        parts.append(", ".join(kinds))
    agents = config.get("agents")
    if isinstance(agents, dict):
        parts.append("agents " + ", ".join(sorted(agents)))
    return " · ".join(parts) or "—"


def run_json(run: RunInfo) -> dict[str, object]:
    """What the live view polls for one run."""
    return {"run_id": run.run_id, "stored": run.stored, "planned": run.planned, "errors": run.errors,
            "in_flight": run.in_flight, "status": run.status,
            "progress": f"{run.stored} / {'?' if run.planned is None else run.planned}"}


def _live(run: RunInfo, field: str) -> str:
    return f'<span data-field="{field}">{escape(str(run_json(run)[field]))}</span>'


def runs_page(found: Sequence[RunInfo], problems: Sequence[str], *, poll_ms: int) -> str:
    """Every run: name, settings, progress and status, kept live."""
    rows = [[f'<a href="{escape(run_href(run.run_id))}">{escape(run.run_id)}</a>', escape(settings_line(run.config)),
             _live(run, "progress"), _live(run, "status"), _live(run, "errors"),
             escape(run.started_at.strftime("%Y-%m-%d %H:%M UTC"))] for run in found]
    table = _table(("run", "settings", "stored / planned", "status", "platform errors", "started"), rows, "runs", 2,
                   [f' data-run="{escape(run.run_id)}"' for run in found])
    body = (table if found else '<p class="empty">No runs here yet.</p>') + \
        '<p id="new-runs" class="note" hidden>New runs have started: <a href="/">reload</a> to list them.</p>' + \
        "".join(f'<p class="error-box">{escape(problem)}</p>' for problem in problems)
    return page("Runs", body, poll_ms=poll_ms)


def _settings(rows: Sequence[tuple[str, str]], config: Mapping[str, Any]) -> str:
    """What the run's episodes were played with (as the report states it), and the settings stored with the run."""
    items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in rows)
    return (f'<dl id="run-settings" class="settings">{items}</dl><details id="run-config"><summary>Settings as '
            f'stored with the run</summary><pre>{escape(json.dumps(config, indent=1, ensure_ascii=False))}</pre>'
            "</details>")


def cell_filter(cell: Cell) -> EpisodeFilter:
    """The episodes of one analysis cell."""
    return EpisodeFilter(cell=cell.key)


def run_page(run: RunInfo, analysis: Analysis, settings: Sequence[tuple[str, str]], *, poll_ms: int) -> str:
    """The run's settings, live progress, and the report's figures and tables, each row linked to its episodes."""
    cell_links = [episodes_href(run.run_id, cell_filter(cell)) for cell in analysis.cells]
    parts = tables(analysis)
    parts["cells"] = _link_rows(parts["cells"], cell_links)
    parts["cost"] = _link_rows(parts["cost"], cell_links)
    parts["errors"] = _link_rows(parts["errors"], [episodes_href(run.run_id, EpisodeFilter(agent=a.agent))
                                                   for a in analysis.agent_errors])
    parts["platform"] = _link_rows(parts["platform"], [
        episodes_href(run.run_id, EpisodeFilter(status="error", error_kind=kind)) for kind in analysis.platform_errors])
    figures = "".join(f'<figure class="figure" id="figure-{escape(name)}">{svg}</figure>'
                      for name, svg in svg_figures(analysis).items() if svg is not None)
    body = (f'<section data-run="{escape(run.run_id)}"><p>Stored {_live(run, "progress")} episodes · status '
            f'{_live(run, "status")} · {_live(run, "errors")} platform errors · '
            f'<a href="{escape(episodes_href(run.run_id))}">all episodes</a> · '
            f'<a href="{escape(episodes_href(run.run_id, EpisodeFilter(status="error")))}">platform errors</a></p>'
            f'<p class="note">The analysis covers the {analysis.episodes} episodes stored when this page was '
            f'made; {escape(analysis.policy_note)}.</p></section>'
            f'<section><h2>Settings</h2>{_settings(settings, run.config)}</section>'
            f'<section><h2>Figures</h2>{figures or "<p class=empty>Nothing to draw yet.</p>"}</section>'
            f'<section><h2>Cells</h2><p class="note">Each cell links to its episodes.</p>{parts["cells"]}</section>'
            f'<section><h2>Collaboration gap</h2>{parts["gaps"]}</section>'
            f'<section><h2>Ordering effect</h2>{parts["ordering"]}</section>'
            f'<section><h2>Tokens and cost</h2>{parts["cost"]}</section>'
            f'<section><h2>Errors per agent</h2>{parts["errors"]}<h3>Platform errors</h3>{parts["platform"]}</section>')
    return page(run.run_id, body, crumbs=[(run.run_id, run_href(run.run_id))], poll_ms=poll_ms)


def _select(name: str, label: str, values: Sequence[str], chosen: str | None) -> str:
    options = "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(v)}</option>'
                      for v in values)
    return (f'<label>{escape(label)}<select name="{name}" id="filter-{name}"><option value="">any</option>'
            f"{options}</select></label>")


def _filter_form(run_id: str, where: EpisodeFilter, facets: Facets, sort: SortKey, descending: bool) -> str:
    fields = [_select("condition", "condition", facets.conditions, where.condition),
              _select("mode", "protocol", facets.modes, where.mode),
              _select("status", "status", facets.statuses, where.status),
              _select("agent", "agent", facets.agents, where.agent),
              _select("error_kind", "error kind", facets.error_kinds, where.error_kind),
              _select("blame", "blame", facets.blames, where.blame),
              f'<label>transcript contains<input type="search" name="q" id="filter-q" '
              f'value="{escape(where.search or "")}"></label>']
    hidden = {"sort": sort, **({"desc": "1"} if descending else {}),
              **({"cell": filter_params(where)["cell"]} if where.cell is not None else {})}
    hidden_inputs = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">' for k, v in hidden.items())
    return (f'<form class="filters" method="get" action="{escape(run_href(run_id))}/episodes">{"".join(fields)}'
            f'{hidden_inputs}<button type="submit" id="filter-apply">Filter</button></form>')


def _row(run_id: str, row: EpisodeRow) -> list[str]:
    seats = row.seat_a + (f" + {row.seat_b}" if row.seat_b else "")
    relay = f" ({row.relay_kind} K={row.relay_k})" if row.relay_kind else ""
    status = f'<span class="status-{escape(row.status)}">{escape(row.status)}</span>'
    attempt = f" (attempt {row.attempt})" if row.attempt > 1 else ""
    return [f'<a href="{escape(episode_href(run_id, row.episode_id))}">{escape(row.episode_id)}</a>{attempt}',
            escape(row.condition), escape(row.mode), escape(seats + relay), status, escape(row.end_reason),
            "—" if row.weighted is None else f"{row.weighted:.3f}", str(row.messages),
            escape(row.error_kind or ""), escape(row.blame or ""), "—" if row.tokens is None else str(row.tokens),
            "—" if row.cost_usd is None else f"{row.cost_usd:.4f}", f"{row.duration_s:.1f}"]


def episodes_page(run: RunInfo, where: EpisodeFilter, found: EpisodePage, facets: Facets, *, sort: SortKey,
                  descending: bool, cell_label: str | None) -> str:
    """The run's episodes matching `where`: a filter form, sortable columns and pages."""
    def href(**extra: str) -> str:
        return episodes_href(run.run_id, where, **extra)

    order = {"desc": "1"} if descending else {}
    heads = []
    for label, key in COLUMNS:
        if key is None:
            heads.append(escape(label))
            continue
        flip = {} if key == sort and descending else {"desc": "1"} if key == sort else {}
        arrow = (" ↓" if descending else " ↑") if key == sort else ""
        heads.append(f'<a href="{escape(href(sort=key, **flip))}">{escape(label)}{arrow}</a>')
    rows = [_row(run.run_id, row) for row in found.rows]
    shown = (f"{found.offset + 1}–{found.offset + len(found.rows)} of {found.total}" if found.rows
             else f"none of {found.total}")
    number = found.offset // PAGE_SIZE + 1
    pages = []
    if found.offset:
        pages.append(f'<a id="page-prev" href="{escape(href(sort=sort, page=str(number - 1), **order))}">previous</a>')
    if found.offset + len(found.rows) < found.total:
        pages.append(f'<a id="page-next" href="{escape(href(sort=sort, page=str(number + 1), **order))}">next</a>')
    chip = (f'<p class="chips">Cell: <strong>{escape(cell_label or "")}</strong> · <a href="'
            f'{escape(episodes_href(run.run_id, where.model_copy(update={"cell": None})))}">all cells</a></p>'
            if where.cell is not None else "")
    body = (chip + _filter_form(run.run_id, where, facets, sort, descending)
            + f'<p class="pager"><span id="shown">Episodes {shown}</span>{"".join(pages)}</p>'
            + (_table(heads, rows, "episodes", 4) if rows
               else '<p class="empty" id="episodes">No episode matches.</p>'))
    return page(f"{run.run_id}: episodes", body, crumbs=[(run.run_id, run_href(run.run_id)),
                                                         ("episodes", episodes_href(run.run_id))])


def _number(value: float | int | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _message_row(message: MessageRecord) -> list[str]:
    usage = message.usage
    return [str(message.index + 1), escape(message.seat), escape(message.player), escape(message.vote or ""),
            escape(message.vote_error or ""), escape(usage.model if usage and usage.model else ""),
            _number(usage.prompt_tokens if usage else None), _number(usage.completion_tokens if usage else None),
            _number(usage.reasoning_tokens if usage else None), _number(usage.latency_s if usage else None, 2),
            f"{message.latency_s:.2f}", _number(message.cost_usd, 6), str(len(message.model_input))]


def episode_page(run_id: str, record: EpisodeRecord) -> str:
    """One episode: its outcome and error (with blame), both maps, the maze replay, every message with its vote,
    tokens and latency, and what each model saw (the report's transcript viewer)."""
    spec, error = record.spec, record.error
    facts = [("condition", spec.condition), ("protocol", spec.mode), ("seat A", spec.seat_a.name),
             ("seat B", spec.seat_b.name if spec.seat_b else "—"), ("maze", record.maze_id or "—"),
             ("status", f"{record.status} ({record.end_reason})"), ("attempt", str(record.attempt)),
             ("duration", f"{record.duration_s:.1f} s"),
             ("tokens", f"{record.tokens.prompt} in, {record.tokens.completion} out"),
             ("cost", f"${record.cost_usd:.6f}")]
    if record.score is not None:
        s = record.score
        facts.append(("score", f"weighted {s.weighted:.3f}, {'solved' if s.success else 'not solved'}, {s.moves} moves "
                               f"(optimal {s.optimal_length}), {s.conflicts} conflicts"))
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    boxes = []
    if error is not None:
        what = "Platform error (not scored)" if error.platform else "Flagged failure (scored where the game stood)"
        boxes.append(f'<div class="error-box" id="episode-error"><strong>{what}: {escape(error.kind)}</strong> · '
                     f'blame <code>{escape(error.blame)}</code> · seat {escape(str(error.seat))}'
                     f"<pre>{escape(error.message)}</pre></div>")
    for attempt in record.attempts:
        boxes.append(f'<div class="error-box">Attempt {attempt.attempt}: {escape(attempt.error.kind)} (blame '
                     f"<code>{escape(attempt.error.blame)}</code>), {len(attempt.messages)} messages, replayed"
                     f"<pre>{escape(attempt.error.message)}</pre></div>")
    if not record.maze:
        boxes.append('<p class="note">The referee returned no maze for this episode (the game was never '
                     "created).</p>")
    messages = _table(("#", "seat", "player", "vote", "vote error", "model", "prompt tokens", "completion tokens",
                       "reasoning tokens", "model latency s", "latency s", "cost $", "model requests"),
                      [_message_row(m) for m in record.messages], "message-table", 6)
    body = (f'<dl class="settings">{items}</dl>{"".join(boxes)}'
            '<section id="viewer"><h2>Maps and replay</h2>'
            '<select id="episode-select" hidden><option value="0" selected></option></select>'
            '<div id="episode-info"></div><div class="boards"><div id="maps" class="maps"></div>'
            '<figure class="board-figure"><figcaption>True maze, replaying the moves</figcaption>'
            '<div id="maze-board" class="grid board"></div><div class="stepper">'
            '<button type="button" id="step-prev">Previous</button><span id="step-label">step 0 of 0</span>'
            '<button type="button" id="step-next">Next</button></div><p id="step-note"></p></figure></div>'
            f'<h2>Messages</h2>{messages}<h2>Transcript</h2><ol id="messages"></ol></section>')
    scripts = (f'<script type="application/json" id="episodes-data">{_script_json([episode_view(record)])}</script>'
               '<script src="/static/viewer.js"></script>')
    return page(spec.episode_id, body, crumbs=[(run_id, run_href(run_id)), ("episodes", episodes_href(run_id))],
                scripts=scripts)
