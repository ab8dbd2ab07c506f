"""The results store keeps runs and episodes exactly, once each, in SQLite and in PostgreSQL (DESIGN §4).

Every test runs against both backends: SQLite in a temporary folder, and PostgreSQL in a fresh schema of the
database named by COLLABGAP_TEST_POSTGRES_URL (skipped when it is unset).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url

from collabgap.protocol import MazeParams, MoveRecord, Usage, VoteRecord
from collabgap.services.coordinator import (
    AttemptRecord,
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    ExplicitMaze,
    GradingRecord,
    MessageRecord,
    RelaySpec,
    Score,
    SeatSpec,
)
from collabgap.services.coordinator._errors import StoreError, StoreVersionError
from collabgap.services.coordinator.report._store_reader import StoreReader
from collabgap.services.coordinator.runs._store import Store
from collabgap.services.coordinator.runs._store_schema import SCHEMA_VERSION
from tests._postgres import fresh_schema

RUN = "run-2026-05-09"
CONFIG = {"name": "pilot", "repetitions": 2, "conditions": ["pair", "solo-split"], "maze": {"size": 6, "seed": 7}}
PROVENANCE = {"collabgap": "0.1.0", "python": "3.11.7", "platform": "Linux-x86_64",
              "packages": {"a2a-sdk": "1.3.0", "mcp": "2.3.0"}, "started_at": "2026-05-09T07:35:25+00:00"}

CARTOGRAPHER = SeatSpec(name="cartographer", url="http://127.0.0.1:9101")
FOLLOWER = SeatSpec(name="follower", url="http://127.0.0.1:9102")
MINI = SeatSpec(name="gpt-4o-mini", url="http://127.0.0.1:9103")
GRADER = SeatSpec(name="grader", url="http://127.0.0.1:9104")
MAZE = ["@.#", "..#", "#.*"]
VIEWS = [["@.?", "..?", "?.*"], ["@?#", ".?#", "#?*"]]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty store: a file under tmp_path, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'results' / 'run.db'}"
        return
    with fresh_schema("run the store tests against PostgreSQL") as url:
        yield url


@contextmanager
def database(url: str) -> Iterator[Connection]:
    """A plain connection beside the store, in one transaction, to look at or tamper with its tables."""
    parsed = make_url(url)
    if parsed.drivername == "sqlite":
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed.set(drivername="postgresql+psycopg") if parsed.drivername == "postgresql" else parsed)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    with database(url) as conn:
        return {table: conn.execute(text(f"SELECT count(*) FROM collabgap_{table}")).scalar_one()
                for table in ("runs", "episodes", "messages", "votes", "moves")}


def usage(prompt: int, completion: int) -> Usage:
    return Usage(model="gpt-4o-mini", prompt_tokens=prompt, completion_tokens=completion, latency_s=0.4)


def solved_pair(episode_id: str = "pair/6x6/seed7/r0") -> EpisodeRecord:
    return EpisodeRecord(
        spec=EpisodeSpec(episode_id=episode_id, condition="pair", seat_a=MINI, seat_b=MINI,
                         maze=MazeParams(size=6, seed=7), feedback="position"),
        game_id="g-4f1c", maze_id="m-6-7", status="solved", end_reason="goal",
        score=Score(weighted=1.0, success=True, moves=2, conflicts=1, optimal_length=2),
        messages=[
            MessageRecord(index=0, seat="A", player="gpt-4o-mini", text="I see a wall east of row 2.\nMOVE: down",
                          latency_s=0.52, vote="down", usage=usage(812, 64), cost_usd=0.00016),
            MessageRecord(index=1, seat="B", player="gpt-4o-mini", text="Agreed, but right first.\nMOVE: right",
                          latency_s=0.61, vote="right", usage=usage(901, 40), cost_usd=0.00016),
            MessageRecord(index=2, seat="A", player="gpt-4o-mini", text="MOVE: sideways", latency_s=0.33,
                          vote_error="unknown direction 'sideways'", usage=usage(955, 12), cost_usd=None),
            MessageRecord(index=3, seat="B", player="gpt-4o-mini", text="MOVE: down", latency_s=0.4, vote="down",
                          usage=usage(990, 8), cost_usd=0.00015),
        ],
        votes=[VoteRecord(seat="A", direction="down", executed=False, conflict=False),
               VoteRecord(seat="B", direction="right", executed=False, conflict=True),
               VoteRecord(seat="B", direction="down", executed=True, conflict=False)],
        moves=[MoveRecord(direction="down", source=(0, 0), target=(1, 0), valid=True),
               MoveRecord(direction="right", source=(1, 0), target=(1, 1), valid=True)],
        maze=MAZE, views=VIEWS, duration_s=4.75,
        agents={MINI.url: "9f2c" * 16},
    )


def error_episode() -> EpisodeRecord:
    return EpisodeRecord(
        spec=EpisodeSpec(episode_id="solo-split/3x3/r1", condition="solo-split", seat_a=FOLLOWER,
                         maze=ExplicitMaze(rows=MAZE, views=VIEWS), repetition=1),
        game_id="g-77aa", maze_id="m-explicit", status="error", end_reason="error",
        error=EpisodeError(kind="agent_timeout", seat="A", message="seat A: no reply within the turn limit"),
        messages=[MessageRecord(index=0, seat="A", player="follower", text="Thinking…", latency_s=30.0)],
        maze=MAZE, views=VIEWS, duration_s=30.2, attempt=2,
    )


def paper_episode() -> EpisodeRecord:
    return EpisodeRecord(
        spec=EpisodeSpec(episode_id="paper/6x6/seed7/r0", condition="pair", seat_a=CARTOGRAPHER, seat_b=FOLLOWER,
                         maze=MazeParams(size=6, seed=7), mode="paper", grader=GRADER, message_limit=20),
        game_id="g-paper", maze_id="m-6-7", status="solved", end_reason="goal",
        score=Score(weighted=1.0, success=True, moves=2, conflicts=0, optimal_length=2),
        messages=[MessageRecord(index=0, seat="A", player="cartographer", text="Go down, then right.", latency_s=0.01),
                  MessageRecord(index=1, seat="B", player="follower", text="ACTI!", latency_s=0.01)],
        maze=MAZE, views=VIEWS, duration_s=1.5,
        grading=GradingRecord(text='{"route": ["down", "right"]}', route=["down", "right"],
                              schema_={"type": "object", "properties": {"route": {"type": "array"}}},
                              convention="directions", usage=usage(400, 20), cost_usd=0.00007),
    )


def relay_episode() -> EpisodeRecord:
    return EpisodeRecord(
        spec=EpisodeSpec(episode_id="relay-primer-k2/6x6/seed7/r0", condition="pair", seat_a=MINI, seat_b=MINI,
                         maze=MazeParams(size=6, seed=7),
                         relay=RelaySpec(kind="primer", after_messages=2, seat_a=FOLLOWER, seat_b=FOLLOWER)),
        game_id="g-relay", maze_id="m-6-7", status="failed", end_reason="wall",
        score=Score(weighted=-0.5, success=False, moves=1, conflicts=0, optimal_length=2),
        messages=[MessageRecord(index=0, seat="A", player="gpt-4o-mini", text="MOVE: up", latency_s=0.5, vote="up",
                                usage=usage(700, 5), cost_usd=0.0001),
                  MessageRecord(index=1, seat="B", player="gpt-4o-mini", text="MOVE: up", latency_s=0.5, vote="up"),
                  MessageRecord(index=2, seat="A", player="follower", text="MOVE: up", latency_s=0.0, vote="up")],
        votes=[VoteRecord(seat="A", direction="up", executed=False, conflict=False),
               VoteRecord(seat="B", direction="up", executed=True, conflict=False)],
        moves=[MoveRecord(direction="up", source=(0, 0), target=(-1, 0), valid=False)],
        maze=MAZE, views=VIEWS, duration_s=2.0,
    )


def all_episodes() -> list[EpisodeRecord]:
    return [solved_pair(), error_episode(), paper_episode(), relay_episode()]


def test_saved_episodes_read_back_equal_in_save_order(store_url: str) -> None:
    """`episodes` returns exactly the saved records: reports read what the run wrote."""
    records = all_episodes()
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert [store.save_episode(RUN, record) for record in records] == [True] * 4
    with Store.open(store_url) as store:
        assert store.episodes(RUN) == records
        assert store.episodes("no-such-run") == []


def test_saving_an_episode_twice_stores_it_once(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert store.save_episode(RUN, solved_pair()) is True
        assert store.save_episode(RUN, solved_pair()) is False
        assert store.episodes(RUN) == [solved_pair()]
    assert row_counts(store_url) == {"runs": 1, "episodes": 1, "messages": 4, "votes": 3, "moves": 2}


def test_stored_episode_ids_belong_to_their_run(store_url: str) -> None:
    """A resume skips what its own run stored; another run may hold the same episode id."""
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.start_run("run-b", CONFIG, PROVENANCE)
        assert store.stored_episode_ids(RUN) == set()
        store.save_episode(RUN, solved_pair())
        store.save_episode(RUN, error_episode())
        assert store.save_episode("run-b", solved_pair()) is True
        assert store.stored_episode_ids(RUN) == {"pair/6x6/seed7/r0", "solo-split/3x3/r1"}
        assert store.stored_episode_ids("run-b") == {"pair/6x6/seed7/r0"}


def test_eight_threads_saving_one_episode_store_it_once(store_url: str) -> None:
    """The UNIQUE constraint, not a check in Python, decides which of several racing writers wins."""
    record = solved_pair()
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        ready = threading.Barrier(8, timeout=5)

        def save(_: int) -> bool:
            ready.wait()
            return store.save_episode(RUN, record)

        with ThreadPoolExecutor(max_workers=8) as pool:
            saved = list(pool.map(save, range(8)))
        assert sorted(saved) == [False] * 7 + [True]
        assert store.episodes(RUN) == [record]
    assert row_counts(store_url) == {"runs": 1, "episodes": 1, "messages": 4, "votes": 3, "moves": 2}


def test_store_of_another_schema_version_is_refused_and_left_unchanged(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.save_episode(RUN, solved_pair())
    with database(store_url) as conn:
        conn.execute(text("UPDATE collabgap_meta SET value = :newer WHERE key = 'schema_version'"),
                     {"newer": str(SCHEMA_VERSION + 1)})
    before = row_counts(store_url)

    with pytest.raises(StoreVersionError) as refused:
        Store.open(store_url)
    with pytest.raises(StoreVersionError) as refused_to_read:
        StoreReader.open(store_url)

    for message in (str(refused.value), str(refused_to_read.value)):
        assert f"schema version {SCHEMA_VERSION + 1}" in message
        assert f"schema version {SCHEMA_VERSION};" in message
    assert row_counts(store_url) == before
    with database(store_url) as conn:
        assert conn.execute(text("SELECT key, value FROM collabgap_meta")).all() == [
            ("schema_version", str(SCHEMA_VERSION + 1))]


def test_the_reader_refuses_a_database_without_a_store_and_creates_none(store_url: str) -> None:
    with database(store_url) as conn:
        conn.execute(text("CREATE TABLE episodes (id INTEGER PRIMARY KEY, note TEXT)"))

    with pytest.raises(StoreError, match="is not a collabgap store"):
        StoreReader.open(store_url)

    with database(store_url) as conn:
        assert inspect(conn).get_table_names() == ["episodes"]


def test_store_shares_a_database_with_unrelated_tables(store_url: str) -> None:
    with database(store_url) as conn:
        conn.execute(text("CREATE TABLE episodes (id INTEGER PRIMARY KEY, note TEXT)"))
        conn.execute(text("INSERT INTO episodes VALUES (1, 'not ours')"))
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.save_episode(RUN, solved_pair())
    with database(store_url) as conn:
        assert conn.execute(text("SELECT id, note FROM episodes")).all() == [(1, "not ours")]


def test_resuming_a_run_keeps_it_and_a_changed_config_is_refused(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.save_episode(RUN, solved_pair())
        started = store.runs()[0].started_at
        store.start_run(RUN, dict(reversed(CONFIG.items())), {**PROVENANCE, "python": "3.12.1"})
        assert store.runs()[0].started_at == started
        assert store.stored_episode_ids(RUN) == {"pair/6x6/seed7/r0"}
        with pytest.raises(StoreError, match="repetitions"):
            store.start_run(RUN, {**CONFIG, "repetitions": 3}, PROVENANCE)


def test_saving_into_a_run_never_started_is_refused(store_url: str) -> None:
    with Store.open(store_url) as store, pytest.raises(StoreError, match="start_run"):
        store.save_episode(RUN, solved_pair())
    assert row_counts(store_url)["episodes"] == 0


def test_store_reopens_after_the_writing_process_was_killed(store_url: str) -> None:
    """A killed run leaves its connections open (SQLite: its WAL unmerged); the resumed run carries on."""
    first, second = solved_pair(), error_episode()
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, store_url, RUN], input=first.model_dump_json(),
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert killed.returncode == 9, killed.stderr
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert store.stored_episode_ids(RUN) == {first.spec.episode_id}
        assert store.save_episode(RUN, second) is True
        assert store.episodes(RUN) == [first, second]


KILLED_WRITER = f"""
import os, sys
from collabgap.services.coordinator import EpisodeRecord
from collabgap.services.coordinator.runs._store import Store
store = Store.open(sys.argv[1])
store.start_run(sys.argv[2], {CONFIG!r}, {PROVENANCE!r})
store.save_episode(sys.argv[2], EpisodeRecord.model_validate_json(sys.stdin.read()))
os._exit(9)  # no close: the process dies with its connections open
"""


def test_runs_count_episodes_and_errors(store_url: str) -> None:
    with Store.open(store_url) as store:
        assert store.runs() == []
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.start_run("run-empty", CONFIG, PROVENANCE)
        for record in all_episodes():
            store.save_episode(RUN, record)
        summaries = {summary.run_id: (summary.episodes, summary.errors) for summary in store.runs()}
        assert summaries == {RUN: (4, 1), "run-empty": (0, 0)}
        assert all(summary.started_at.tzinfo is not None for summary in store.runs())


def test_episode_columns_answer_queries_without_parsing_json(store_url: str) -> None:
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        for record in all_episodes():
            store.save_episode(RUN, record)
    with database(store_url) as conn:
        rows = conn.execute(text(
            "SELECT episode_id, condition, mode, status, error_kind, relay_kind, relay_after, weighted, success, "
            "tokens_in, tokens_out, cost_usd, grading_route, attempt FROM collabgap_episodes ORDER BY id")).all()
        votes = conn.execute(text("SELECT m.text, m.vote, m.vote_error, m.prompt_tokens FROM collabgap_messages m "
                                  "JOIN collabgap_episodes e ON m.episode = e.id "
                                  "WHERE e.episode_id = 'pair/6x6/seed7/r0' ORDER BY m.ordinal")).all()
    assert [row[:7] for row in rows] == [
        ("pair/6x6/seed7/r0", "pair", "referee", "solved", None, None, None),
        ("solo-split/3x3/r1", "solo-split", "referee", "error", "agent_timeout", None, None),
        ("paper/6x6/seed7/r0", "pair", "paper", "solved", None, None, None),
        ("relay-primer-k2/6x6/seed7/r0", "pair", "referee", "failed", None, "primer", 2),
    ]
    assert [(row.weighted, row.success, row.tokens_in, row.tokens_out) for row in rows] == [
        (1.0, True, 3658, 124), (None, None, None, None), (1.0, True, 400, 20), (-0.5, False, 700, 5)]
    assert [row.cost_usd for row in rows] == [pytest.approx(0.00047), None, pytest.approx(0.00007),
                                              pytest.approx(0.0001)]
    assert rows[2].grading_route == "down right"
    assert rows[1].attempt == 2
    assert [row.vote_error for row in votes] == [None, None, "unknown direction 'sideways'", None]
    assert [row.prompt_tokens for row in votes] == [812, 901, 955, 990]


def test_message_with_a_nul_character_round_trips(store_url: str) -> None:
    """PostgreSQL text cannot hold NUL; the record JSON keeps it exactly all the same."""
    record = solved_pair().model_copy(update={"messages": [
        MessageRecord(index=0, seat="A", player="gpt-4o-mini", text="MOVE: down\x00", latency_s=0.1, vote="down")]})
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert store.save_episode(RUN, record) is True
        assert store.episodes(RUN) == [record]


def test_closed_store_refuses_use(store_url: str) -> None:
    store = Store.open(store_url)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.stored_episode_ids(RUN)


@pytest.mark.parametrize("url", ["sqlite://", "mysql://root@127.0.0.1/db", "not a url"])
def test_urls_the_store_cannot_use_are_refused(url: str) -> None:
    with pytest.raises(StoreError):
        Store.open(url)


def test_the_episode_row_counts_the_tokens_and_cost_of_every_attempt(store_url: str) -> None:
    first = solved_pair()
    record = first.model_copy(update={"attempt": 2, "attempts": [AttemptRecord(
        attempt=1, error=EpisodeError(kind="referee_error", seat=None, message="referee down"),
        messages=first.messages[:1])]})
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.save_episode(RUN, record)
    with database(store_url) as conn:
        row = conn.execute(text("SELECT tokens_in, tokens_out, cost_usd FROM collabgap_episodes")).one()
    assert (row.tokens_in, row.tokens_out) == (3658 + 812, 124 + 64) == record.tokens
    assert row.cost_usd == pytest.approx(0.00047 + 0.00016) == record.cost_usd
