"""A fresh PostgreSQL schema per test, on the database CI names in COLLABGAP_TEST_POSTGRES_URL (trust auth)."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_URL_VARIABLE = "COLLABGAP_TEST_POSTGRES_URL"


@contextlib.contextmanager
def fresh_schema(why: str) -> Iterator[str]:
    """Yield a store URL whose tables go into a new schema, dropped afterwards; skip, saying `why` the test
    wants PostgreSQL, where the variable is unset."""
    base = os.environ.get(POSTGRES_URL_VARIABLE)
    if not base:
        pytest.skip(f"set {POSTGRES_URL_VARIABLE} to {why}")
    engine = create_engine(make_url(base).set(drivername="postgresql+psycopg"))
    schema = f"t_{secrets.token_hex(6)}"
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
