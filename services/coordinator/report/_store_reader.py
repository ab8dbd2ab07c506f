"""Read-only access to a results store, for `collabgap view`: runs with their progress, episodes filtered, sorted
and paged in SQL, and single records.

The engine is read-only (`create_store_engine(read_only=True)`): the view can watch a run while it writes, and can
never write. Records, the version check and every query go through the store's own `Store` over this engine; the
queries here add only what a browser needs (filters, search, pages).

    with StoreReader.open("sqlite:///runs/demo/store.db") as reader:
        page = reader.episode_page("demo", EpisodeFilter(status="error"), limit=20)
"""

from __future__ import annotations

import json
from datetime import datetime
from types import TracebackType
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import JSON, ColumnElement, Engine, and_, cast, exists, func, or_, select, type_coerce

from .._errors import StoreError, StoreVersionError
from .._records import EpisodeRecord
from ..analysis._stats import CellKey, Seating
from ..runs._plan import plan_size
from ..runs._runfile import RunFile
from ..runs._store import Store
from ..runs._store_schema import episodes, messages, runs
from ..runs._store_url import create_store_engine, engine_url, masked_url

SortKey = Literal["saved", "episode", "status", "weighted", "messages", "duration", "cost"]
_SORT_COLUMNS = {"saved": episodes.c.id, "episode": episodes.c.episode_id, "status": episodes.c.status,
                 "weighted": episodes.c.weighted, "messages": episodes.c.message_count,
                 "duration": episodes.c.duration_s, "cost": episodes.c.cost_usd}
_AGENT_COLUMNS = (episodes.c.seat_a_name, episodes.c.seat_b_name, episodes.c.relay_seat_a_name,
                  episodes.c.relay_seat_b_name, episodes.c.grader_name)
_CELL_COLUMNS = {"condition": episodes.c.condition, "mode": episodes.c.mode, "seat_a": episodes.c.seat_a_name,
                 "seat_b": episodes.c.seat_b_name, "relay_kind": episodes.c.relay_kind,
                 "relay_k": episodes.c.relay_after, "relay_seat_a": episodes.c.relay_seat_a_name,
                 "relay_seat_b": episodes.c.relay_seat_b_name}
"""The column of each `CellKey` field; a team's `more_seats` and `order` have none."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RunInfo(_Model):
    """One stored run: its settings and how far it got."""

    run_id: str
    started_at: datetime
    config: dict[str, Any]
    """The run's settings as stored with it (`RunFile.snapshot` for `collabgap run`)."""
    stored: int
    errors: int
    """Stored episodes with a platform error."""
    in_flight: int
    """Episodes claimed by a runner right now (unexpired claims)."""
    planned: int | None
    """Episodes the run file plans; None when the stored settings do not say (mazes from a file elsewhere)."""

    @property
    def status(self) -> Literal["running", "stopped", "finished", "finished with errors"]:
        """`running`: a runner holds episodes now; `stopped`: nobody does, and it planned more than it stored;
        else `finished`, `with errors` when platform errors are stored (`collabgap run --retry-errors` replays them)."""
        if self.in_flight:
            return "running"
        if self.planned is not None and self.stored < self.planned:
            return "stopped"
        return "finished with errors" if self.errors else "finished"


class EpisodeFilter(_Model):
    """Which episodes to list; every field left None matches all."""

    condition: str | None = None
    mode: str | None = None
    status: str | None = None
    agent: str | None = None
    """An agent in any seat, as a relay newcomer, or as the grader."""
    error_kind: str | None = None
    blame: str | None = None
    """`platform`, `grader` or `agent:<name>`."""
    search: str | None = None
    """Text any message of the episode contains (case-insensitive for ASCII letters)."""
    cell: CellKey | None = None
    """Exactly the episodes of this analysis cell."""


class EpisodeRow(Seating):
    """One line of the episode list: the episode's seating, and how it went."""

    episode_id: str
    attempt: int
    status: str
    end_reason: str
    weighted: float | None
    messages: int
    error_kind: str | None
    blame: str | None
    tokens: int | None
    cost_usd: float | None
    duration_s: float


class EpisodePage(_Model):
    rows: list[EpisodeRow]
    total: int
    """Episodes matching the filter, over all pages."""
    offset: int


class Facets(_Model):
    """The values each filter can take in one run, sorted."""

    conditions: list[str]
    modes: list[str]
    statuses: list[str]
    agents: list[str]
    error_kinds: list[str]
    blames: list[str]


class StoreReader:
    """A store opened for reading only; safe to share between threads."""

    def __init__(self, engine: Engine, where: str) -> None:
        self._engine = engine
        self._store = Store(engine, where)

    @classmethod
    def open(cls, url: str) -> StoreReader:
        """Open the store at `url` (`sqlite:///path/store.db` or `postgresql://…`) for reading.

        Raises:
            StoreVersionError: the database holds a collabgap store of another schema version.
            StoreError: the URL is not a store URL, the file does not exist, or the database cannot be read.
        """
        parsed = engine_url(url)
        where = masked_url(parsed)
        reader = cls(create_store_engine(parsed, read_only=True), where)
        try:
            reader._store.check_version()
        except BaseException as exc:
            reader.close()
            if isinstance(exc, StoreError) and not isinstance(exc, StoreVersionError):
                raise StoreError(f"{where} is not a collabgap store, or cannot be read: {exc}") from exc
            raise
        return reader

    def runs(self) -> list[RunInfo]:
        """Every run in the store, oldest first.

        Raises:
            StoreError: the database fails.
        """
        summaries = {summary.run_id: summary for summary in self._store.runs()}
        rows = self._store.rows("list the runs", select(runs.c.run_id, runs.c.config_json, runs.c.provenance_json))
        found = []
        for run_id, config_json, provenance_json in rows:
            summary = summaries[run_id]
            found.append(RunInfo(
                run_id=run_id, started_at=summary.started_at, config=json.loads(config_json), stored=summary.episodes,
                errors=summary.errors, in_flight=sum(self._store.claim_holders(run_id).values()),
                planned=_planned(json.loads(provenance_json))))
        return sorted(found, key=lambda run: (run.started_at, run.run_id))

    def episode_page(self, run_id: str, where: EpisodeFilter, *, sort: SortKey = "saved", descending: bool = False,
                     offset: int = 0, limit: int = 50) -> EpisodePage:
        """One page of the run's episodes matching `where`, in `sort` order (ties in save order).

        Raises:
            StoreError: the database fails.
        """
        conditions = [episodes.c.run_id == run_id, *self._conditions(where)]
        total = self._store.rows("count episodes", select(func.count()).select_from(episodes).where(*conditions))[0][0]
        column = _SORT_COLUMNS[sort]
        order = column.desc().nulls_last() if descending else column.asc().nulls_last()
        seating = (_CELL_COLUMNS[name].label(name) for name in Seating.model_fields)
        query = (select(*seating, episodes.c.episode_id, episodes.c.attempt, episodes.c.status, episodes.c.end_reason,
                        episodes.c.weighted, episodes.c.message_count.label("messages"), episodes.c.error_kind,
                        self._blame().label("blame"), (episodes.c.tokens_in + episodes.c.tokens_out).label("tokens"),
                        episodes.c.cost_usd, episodes.c.duration_s)
                 .where(*conditions).order_by(order, episodes.c.id).offset(offset).limit(limit))
        rows = [EpisodeRow.model_validate(dict(row._mapping)) for row in self._store.rows("list episodes", query)]
        return EpisodePage(rows=rows, total=total, offset=offset)

    def facets(self, run_id: str) -> Facets:
        """The values of each filter among the run's episodes.

        Raises:
            StoreError: the database fails.
        """
        def distinct(column: ColumnElement[Any]) -> list[str]:
            query = select(column).where(episodes.c.run_id == run_id, column.is_not(None)).distinct()
            return sorted(str(row[0]) for row in self._store.rows("read the filters", query))

        return Facets(conditions=distinct(episodes.c.condition), modes=distinct(episodes.c.mode),
                      statuses=distinct(episodes.c.status),
                      agents=sorted({name for column in _AGENT_COLUMNS for name in distinct(column)}),
                      error_kinds=distinct(episodes.c.error_kind), blames=distinct(self._blame()))

    def fingerprint(self, run_id: str) -> tuple[int, int]:
        """(stored episodes, last save): changes whenever an episode is saved or replaced, so it keys caches.

        Raises:
            StoreError: the database fails.
        """
        query = select(func.count(), func.coalesce(func.max(episodes.c.id), 0)).where(episodes.c.run_id == run_id)
        count, last = self._store.rows("read the run's progress", query)[0]
        return int(count), int(last)

    def record(self, run_id: str, episode_id: str) -> EpisodeRecord | None:
        """One stored episode, or None. Raises `StoreError` as `Store.episode` does."""
        return self._store.episode(run_id, episode_id)

    def records(self, run_id: str) -> list[EpisodeRecord]:
        """Every stored episode of the run, in save order. Raises `StoreError` as `Store.episodes` does."""
        return self._store.episodes(run_id)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> StoreReader:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _conditions(self, where: EpisodeFilter) -> list[ColumnElement[bool]]:
        exact = ((episodes.c.condition, where.condition), (episodes.c.mode, where.mode),
                 (episodes.c.status, where.status), (episodes.c.error_kind, where.error_kind))
        found: list[ColumnElement[bool]] = [column == value for column, value in exact if value is not None]
        if where.agent is not None:
            found.append(or_(*(column == where.agent for column in _AGENT_COLUMNS)))
        if where.blame is not None:
            found.append(self._blame() == where.blame)
        if where.search:
            found.append(exists().where(messages.c.episode == episodes.c.id,
                                        messages.c.text.icontains(where.search, autoescape=True)))
        if where.cell is not None:
            cell = where.cell
            values = cell.model_dump(include=set(_CELL_COLUMNS))
            found.append(and_(*(column.is_(None) if values[name] is None else column == values[name]
                                for name, column in _CELL_COLUMNS.items())))
            if cell.more_seats:  # a team's seats C, D, … and order have no columns: its planned ids name them
                order = f"/order-{''.join(cell.order)}" if cell.order else ""
                names = "+".join([cell.seat_a, cell.seat_b or "", *cell.more_seats])
                found.append(episodes.c.episode_id.startswith(f"team/{cell.mode}/{names}{order}/", autoescape=True))
        return found

    def _blame(self) -> ColumnElement[str]:
        """`error.blame` of the stored record JSON (the episode row has no column of its own for it)."""
        if self._engine.dialect.name == "postgresql":
            document: ColumnElement[Any] = cast(episodes.c.record_json, JSON)
        else:
            document = type_coerce(episodes.c.record_json, JSON)
        blame: ColumnElement[str] = document[("error", "blame")].as_string()
        return blame


def _planned(provenance: dict[str, Any]) -> int | None:
    """How many episodes the stored run file plans, counted without planning them."""
    try:
        run = RunFile.model_validate(provenance.get("run_file"))
    except ValidationError:
        return None
    if run.mazes.file is not None:
        return None
    return plan_size(run, run.mazes.count)
