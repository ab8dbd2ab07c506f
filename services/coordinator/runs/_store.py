"""The results store: runs and their episodes in SQLite or PostgreSQL, one transaction per episode.

A run writes each episode as it ends, so a killed run loses at most the episodes in flight, and a resumed run
plays only the episodes the store does not hold:

    with Store.open("sqlite:///results/run.db") as store:
        store.start_run(run_id, config, provenance)
        done = store.stored_episode_ids(run_id)
        for record in play(spec for spec in plan if spec.episode_id not in done):
            store.save_episode(run_id, record)

(`collabgap run` goes through claims instead, below, so that several runners can share one plan.)

Runners sharing a run claim each episode before they play it (`claim`), and renew their claims while they
play (`renew_claims`); saving an episode ends its claim. A claim not renewed within its lease can be taken over.

The tables are described in `_store_schema`; records hold no secrets, so neither does the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVarTuple

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection, Engine, Row, Select, case, delete, func, insert, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from .._errors import StoreError, StoreVersionError
from .._records import EpisodeRecord
from ._store_schema import (
    PREFIX,
    SCHEMA_VERSION,
    claims,
    episode_row,
    episodes,
    message_rows,
    messages,
    meta,
    metadata,
    move_rows,
    moves,
    runs,
    vote_rows,
    votes,
)
from ._store_url import create_store_engine, engine_url, masked_url, reason

logger = logging.getLogger(__name__)

_Columns = TypeVarTuple("_Columns")  # the types of the columns a query selects
_SCHEMA_LOCK = 0x636F6C6C  # PostgreSQL advisory lock key ("coll") held while a store's tables are created


class RunSummary(BaseModel):
    """One stored run, as `Store.runs` lists it."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    started_at: datetime
    """When `start_run` first stored the run (UTC); a resume keeps it."""
    episodes: int
    """Episodes stored so far."""
    errors: int
    """Of those, episodes with status `error` (infrastructure failures, never scored)."""


class Store:
    """Runs and their episode records in one database, safe to share between threads.

    Open it with `Store.open(url)`, which checks or creates the schema; the constructor takes an engine whose
    schema is already known to be right.
    """

    def __init__(self, engine: Engine, where: str) -> None:
        self._engine = engine
        self._where = where
        self._closed = False

    @classmethod
    def open(cls, url: str) -> Store:
        """Open the store at `url`, creating its tables in a database that has none yet.

        `url` is `sqlite:///path/run.db` (the folder is created) or `postgresql://user@host:5432/db`, which uses
        the psycopg driver; `postgresql+psycopg://` is accepted as it is. Tables of other programs may share
        the database: ours all start with `collabgap_`.

        Raises:
            StoreVersionError: the database holds a collabgap store of another schema version (left unchanged).
            StoreError: the URL is not one the store supports, or the database cannot be reached.
        """
        parsed = engine_url(url)
        where = masked_url(parsed)
        try:
            engine = create_store_engine(parsed)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open the store at {where}: {reason(exc)}") from exc
        store = cls(engine, where)
        try:
            store._prepare_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def start_run(self, run_id: str, config: dict[str, Any], provenance: dict[str, Any]) -> None:
        """Store a new run with its config and provenance, or confirm a resumed run has the same config.

        Configs are compared as canonical JSON (sorted keys), so pass `model_dump(mode="json")`. A resumed run
        keeps the provenance and start time it was stored with.

        Raises:
            StoreError: the run is stored with another config (the run file changed since the run began),
                a value is not JSON, or the database fails.
        """
        config_json = _canonical(config, "config")
        provenance_json = _canonical(provenance, "provenance")
        action = f"start run {run_id!r}"
        try:
            with self._transaction(action) as conn:
                stored = self._stored_config(conn, run_id)
                if stored is None:
                    conn.execute(insert(runs).values(run_id=run_id, started_at=datetime.now(UTC),
                                                     config_json=config_json, provenance_json=provenance_json))
                    return
        except IntegrityError:  # another writer stored the run between our read and our insert
            with self._transaction(action) as conn:
                stored = self._stored_config(conn, run_id)
        if stored != config_json:
            changed = _changed_keys(json.loads(stored or "{}"), json.loads(config_json))
            raise StoreError(
                f"run {run_id!r} in {self._where} began with another config (changed: {', '.join(changed)}): the "
                "run file changed since the run began; restore it to resume, or start the run under a new id"
            )

    def stored_episode_ids(self, run_id: str) -> set[str]:
        """The ids of the run's stored episodes: a resumed run skips these.

        Raises:
            StoreError: the database fails.
        """
        with self._transaction(f"read the episodes of run {run_id!r}") as conn:
            return set(conn.scalars(select(episodes.c.episode_id).where(episodes.c.run_id == run_id)))

    def save_episode(self, run_id: str, record: EpisodeRecord, *, replace_error: bool = False) -> bool:
        """Store one episode (its row, messages, votes and moves) in one transaction, ending its claim.

        With `replace_error`, the record takes the place of the episode's stored platform error (`--retry-errors`).

        Returns:
            False, having written nothing, when the run already holds this episode id (other than an error
            being replaced); True otherwise. Of several threads or processes saving the same episode at once,
            exactly one gets True.

        Raises:
            StoreError: the run was never started, or the database fails.
        """
        episode_id = record.spec.episode_id
        action = f"save episode {episode_id!r} of run {run_id!r}"
        row = episode_row(run_id, record, datetime.now(UTC))
        try:
            with self._transaction(action) as conn:
                if replace_error:
                    conn.execute(delete(episodes).where(episodes.c.run_id == run_id,
                                                        episodes.c.episode_id == episode_id,
                                                        episodes.c.status == "error"))
                episode = conn.execute(insert(episodes).values(row).returning(episodes.c.id)).scalar_one()
                for table, rows in ((messages, message_rows(episode, record)), (votes, vote_rows(episode, record)),
                                    (moves, move_rows(episode, record))):
                    if rows:
                        conn.execute(insert(table), rows)
                conn.execute(delete(claims).where(claims.c.run_id == run_id, claims.c.episode_id == episode_id))
        except IntegrityError as exc:
            with self._transaction(action) as conn:
                if self._is_stored(conn, run_id, episode_id):
                    return False
                if self._stored_config(conn, run_id) is None:
                    raise StoreError(f"cannot {action}: the run is not in {self._where}; call start_run first") from exc
            raise StoreError(f"cannot {action} in {self._where}: {reason(exc)}") from exc
        return True

    def episode(self, run_id: str, episode_id: str) -> EpisodeRecord | None:
        """One stored episode of the run, or None.

        Raises:
            StoreError: the database fails, or the record does not match this version's `EpisodeRecord`.
        """
        with self._transaction(f"read episode {episode_id!r} of run {run_id!r}") as conn:
            stored = conn.scalar(select(episodes.c.record_json).where(episodes.c.run_id == run_id,
                                                                      episodes.c.episode_id == episode_id))
        return None if stored is None else self._record(run_id, episode_id, stored)

    def claim(self, run_id: str, episode_id: str, runner_id: str, ttl_s: float, *,
              replace_error: bool = False) -> bool:
        """Claim an unstored episode for `runner_id` for `ttl_s` seconds, in one transaction: a claim nobody
        holds is taken, one that expired unrenewed is taken over, one of another runner is left alone.

        With `replace_error`, a stored platform error counts as unstored (`--retry-errors`).

        Returns:
            True when the runner holds the claim now (again, if it held it already); False when another runner
            holds it or the episode is stored.

        Raises:
            StoreError: the run was never started, or the database fails.
        """
        now = datetime.now(UTC)
        values = {"run_id": run_id, "episode_id": episode_id, "runner_id": runner_id,
                  "expires_at": now + timedelta(seconds=ttl_s)}
        action = f"claim episode {episode_id!r} of run {run_id!r}"
        try:
            with self._transaction(action) as conn:
                dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
                upsert = dialect_insert(claims).values(values)
                upsert = upsert.on_conflict_do_update(
                    index_elements=[claims.c.run_id, claims.c.episode_id],
                    set_={"runner_id": upsert.excluded.runner_id, "expires_at": upsert.excluded.expires_at},
                    where=(claims.c.expires_at <= now) | (claims.c.runner_id == runner_id))
                if conn.execute(upsert.returning(claims.c.runner_id)).first() is None:
                    return False
                # Checked after the claim, so a save that committed meanwhile (ending the old claim) is seen.
                status = conn.scalar(select(episodes.c.status).where(episodes.c.run_id == run_id,
                                                                     episodes.c.episode_id == episode_id))
                if status is not None and not (replace_error and status == "error"):
                    conn.execute(delete(claims).where(claims.c.run_id == run_id, claims.c.episode_id == episode_id))
                    return False
                return True
        except IntegrityError as exc:
            raise StoreError(f"cannot {action}: the run is not in {self._where}; call start_run first") from exc

    def renew_claims(self, run_id: str, runner_id: str, ttl_s: float) -> int:
        """Push every claim of `runner_id` `ttl_s` seconds ahead; returns how many it holds.

        Raises:
            StoreError: the database fails.
        """
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl_s)
        with self._transaction(f"renew the claims of {runner_id} on run {run_id!r}") as conn:
            mine = (claims.c.run_id == run_id) & (claims.c.runner_id == runner_id)
            return conn.execute(update(claims).where(mine).values(expires_at=expires_at)).rowcount

    def release_claims(self, run_id: str, runner_ids: Iterable[str]) -> None:
        """Drop every claim of these runners: theirs stored nothing, and others may play them now.

        Raises:
            StoreError: the database fails.
        """
        with self._transaction(f"release claims on run {run_id!r}") as conn:
            conn.execute(delete(claims).where(claims.c.run_id == run_id, claims.c.runner_id.in_(list(runner_ids))))

    def claim_holders(self, run_id: str) -> dict[str, int]:
        """Runner id → how many unexpired claims it holds on the run.

        Raises:
            StoreError: the database fails.
        """
        query = (select(claims.c.runner_id, func.count()).where(claims.c.run_id == run_id,
                                                                claims.c.expires_at > datetime.now(UTC))
                 .group_by(claims.c.runner_id))
        with self._transaction(f"read the claims on run {run_id!r}") as conn:
            return {runner_id: count for runner_id, count in conn.execute(query).all()}

    def episodes(self, run_id: str) -> list[EpisodeRecord]:
        """The run's episode records, equal to the saved ones, in the order they were saved (none: empty).

        Raises:
            StoreError: the database fails, or a stored record does not match this version's `EpisodeRecord`.
        """
        query = select(episodes.c.episode_id, episodes.c.record_json).where(episodes.c.run_id == run_id)
        stored = self.rows(f"read the episodes of run {run_id!r}", query.order_by(episodes.c.id))
        return [self._record(run_id, episode_id, record_json) for episode_id, record_json in stored]

    def _record(self, run_id: str, episode_id: str, record_json: str) -> EpisodeRecord:
        try:
            return EpisodeRecord.model_validate_json(record_json)
        except ValidationError as exc:
            raise StoreError(f"episode {episode_id!r} of run {run_id!r} in {self._where} is not an "
                             f"EpisodeRecord this collabgap can read: {exc.error_count()} errors") from exc

    def runs(self) -> list[RunSummary]:
        """Every stored run with its episode and error counts, oldest first.

        Raises:
            StoreError: the database fails.
        """
        errors = func.coalesce(func.sum(case((episodes.c.status == "error", 1), else_=0)), 0)
        query = (select(runs.c.run_id, runs.c.started_at, func.count(episodes.c.id), errors)
                 .select_from(runs.outerjoin(episodes))
                 .group_by(runs.c.run_id, runs.c.started_at)
                 .order_by(runs.c.started_at, runs.c.run_id))
        return [RunSummary(run_id=run_id, started_at=started_at, episodes=count, errors=int(failed))
                for run_id, started_at, count, failed in self.rows("list the runs", query)]

    def rows(self, action: str, query: Select[*_Columns]) -> list[Row[*_Columns]]:
        """Every row `query` selects, read in one transaction: also for readers' own queries (`collabgap view`).

        Raises:
            StoreError: the database fails; the message says it could not `action`.
        """
        with self._transaction(action) as conn:
            return list(conn.execute(query).all())

    def check_version(self) -> None:
        """Refuse a store of another schema version, leaving it unchanged.

        Raises:
            StoreVersionError: the store's schema version is not this collabgap's.
            StoreError: the database fails, or holds no collabgap store.
        """
        found = self.rows("read the schema version", select(meta.c.value).where(meta.c.key == "schema_version"))
        version = found[0][0] if found else None
        if version != str(SCHEMA_VERSION):
            raise StoreVersionError(_version_message(self._where, version))

    def close(self) -> None:
        """Close every connection; the store cannot be used afterwards. Closing twice is harmless."""
        self._closed = True
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def _prepare_schema(self) -> None:
        with self._transaction("open the store") as conn:
            if conn.dialect.name == "postgresql":
                # Two runs opening one empty database at once: the second waits here, then finds the tables.
                conn.execute(select(func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            tables = set(inspect(conn).get_table_names())
            if meta.name not in tables:
                if ours := sorted(name for name in tables if name.startswith(PREFIX)):
                    raise StoreVersionError(
                        f"{self._where} holds {', '.join(ours)} but no {meta.name} table, so its schema version "
                        f"is unknown (this collabgap uses version {SCHEMA_VERSION}); it was left unchanged: "
                        "point the run at another database"
                    )
                metadata.create_all(conn)
                conn.execute(insert(meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
                logger.info("created a collabgap store of schema version %d in %s", SCHEMA_VERSION, self._where)
                return
        self.check_version()

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        """One transaction; database failures become `StoreError`, except `IntegrityError`, which callers judge."""
        if self._closed:
            raise StoreError(f"cannot {action}: the store at {self._where} is closed")
        try:
            with self._engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot {action} in {self._where}: {reason(exc)}") from exc

    @staticmethod
    def _stored_config(conn: Connection, run_id: str) -> str | None:
        return conn.scalar(select(runs.c.config_json).where(runs.c.run_id == run_id))

    @staticmethod
    def _is_stored(conn: Connection, run_id: str, episode_id: str) -> bool:
        query = select(episodes.c.id).where(episodes.c.run_id == run_id, episodes.c.episode_id == episode_id)
        return conn.scalar(query) is not None


def _canonical(value: dict[str, Any], what: str) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"the run's {what} is not plain JSON ({exc}): pass model_dump(mode='json')") from exc


def _changed_keys(stored: dict[str, Any], given: dict[str, Any]) -> list[str]:
    missing = object()
    return sorted(key for key in stored.keys() | given.keys() if stored.get(key, missing) != given.get(key, missing))


def _version_message(where: str, found: str | None) -> str:
    if found is None:
        described, advice = "no schema version", "use another database"
    else:
        described = f"schema version {found}"
        newer = found.isdigit() and int(found) > SCHEMA_VERSION
        advice = ("upgrade collabgap to use it" if newer else "use the collabgap release that wrote it") + \
            ", or use another database"
    return (f"{where} holds a collabgap store of {described}, but this collabgap uses schema version "
            f"{SCHEMA_VERSION}; the store was left unchanged: {advice}")
