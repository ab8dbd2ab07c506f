"""Where a store lives: store URLs parsed, checked and masked for printing, and the engine for each database,
read-write for runs or read-only for the view.

SQLite stores are files in WAL mode whose transactions take the write lock up front, so concurrent writers wait
their turn; PostgreSQL stores use the psycopg driver (the `postgres` extra).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from .._errors import ConfigError, StoreError

BUSY_TIMEOUT_S = 30.0
"""SQLite: how long a write waits for another connection's write to finish before it fails."""
_URL_HELP = "use sqlite:///path/run.db or postgresql://user@host:5432/db"


def masked_url(url: str | URL) -> str:
    """`url` as it may be printed, logged or stored: its password, if it has one, shown as `***`.

    Only the driver gets the password; a URL that does not parse is masked all the same.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        return re.sub(r"(://[^/@:]*:)[^/@]*@", r"\1***@", str(url))
    return parsed.render_as_string(hide_password=True) if parsed.password is not None else str(url)


def engine_url(url: str) -> URL:
    """Parse a store URL, pick the driver, and refuse what the store cannot work with."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"the store URL is not a database URL: {_URL_HELP}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise StoreError(f"an in-memory SQLite store would vanish with the run: {_URL_HELP}")
    elif parsed.drivername != "postgresql+psycopg":
        where = masked_url(parsed)
        raise StoreError(f"the store cannot use {where}: {_URL_HELP}")
    return parsed


def require_postgres_driver() -> None:
    """Raises:
        ConfigError: psycopg, the PostgreSQL driver, is not installed (the `postgres` extra).
    """
    try:
        import psycopg  # noqa: F401 - SQLAlchemy imports it again when it connects
    except ImportError as exc:
        raise ConfigError("a PostgreSQL store needs psycopg, which is not installed here: "
                          "pip install 'collabgap[postgres]'") from exc


def create_store_engine(url: URL, *, read_only: bool = False) -> Engine:
    """The engine for a URL `engine_url` accepted: a SQLite file's folder is created, unless `read_only`.

    A `read_only` engine can never write (`collabgap view`): a SQLite file is opened `mode=ro`, so the view can
    watch a run while it writes, and PostgreSQL sessions run read-only transactions.

    Raises:
        StoreError: `read_only`, and the SQLite file does not exist.
        ConfigError: a PostgreSQL URL, and psycopg is not installed.
    """
    if url.get_backend_name() != "sqlite":
        require_postgres_driver()
        read_only_options = {"postgresql_readonly": True} if read_only else {}
        return create_engine(url, pool_pre_ping=True, execution_options=read_only_options)
    path = Path(url.database or "")
    if read_only:
        if not path.is_file():
            raise StoreError(f"no store at {masked_url(url)}: {path} is not a file")
        return create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true",
                             connect_args={"check_same_thread": False})
    path.parent.mkdir(parents=True, exist_ok=True)
    # One connection per thread from the pool; SQLite's busy timeout makes concurrent writers wait their turn.
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _prepare_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _prepare_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # pysqlite begins transactions late and never around DDL; we emit BEGIN ourselves (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL lets a resumed run open the file a killed run left behind, and readers never block the writer.
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front (waiting up to the busy timeout), so a transaction never fails
    # halfway when two writers try to upgrade their read locks at once.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def reason(exc: SQLAlchemyError) -> str:
    """The driver's own words, first line only: SQLAlchemy's message would repeat the statement and its values."""
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
