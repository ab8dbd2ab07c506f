"""Runners share a run through the store's claims, and a replayed error replaces its stored record once; in
SQLite and in PostgreSQL, as `test_store`."""

from __future__ import annotations

from collabgap.services.coordinator import AttemptRecord, Score
from collabgap.services.coordinator.runs._store import Store
from tests.services.coordinator.test_store import (
    CONFIG,
    PROVENANCE,
    RUN,
    error_episode,
    row_counts,
    solved_pair,
    store_url,  # noqa: F401 - the fixture: both backends, as there
)


def test_one_runner_holds_a_claim_until_it_expires_or_the_episode_is_stored(store_url: str) -> None:
    """Two runners share a plan through claims: neither takes the other's episode while its lease runs."""
    episode_id = solved_pair().spec.episode_id
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert store.claim(RUN, episode_id, "runner-a", ttl_s=60) is True
        assert store.claim(RUN, episode_id, "runner-b", ttl_s=60) is False
        assert store.claim(RUN, episode_id, "runner-a", ttl_s=60) is True  # taking it again renews it
        assert store.claim_holders(RUN) == {"runner-a": 1}

        assert store.claim(RUN, episode_id, "runner-a", ttl_s=-1) is True  # a lease that ran out unrenewed
        assert store.claim_holders(RUN) == {}
        assert store.claim(RUN, episode_id, "runner-b", ttl_s=60) is True  # taken over
        assert store.renew_claims(RUN, "runner-a", ttl_s=60) == 0
        assert store.renew_claims(RUN, "runner-b", ttl_s=60) == 1

        assert store.save_episode(RUN, solved_pair()) is True  # saving ends the claim
        assert store.claim_holders(RUN) == {}
        assert store.claim(RUN, episode_id, "runner-a", ttl_s=60) is False  # stored: nothing left to play


def test_released_claims_are_free_and_a_stored_error_is_claimed_only_for_replay(store_url: str) -> None:
    error = error_episode()
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        assert store.claim(RUN, "pair/6x6/seed7/r0", "runner-a", ttl_s=60) is True
        store.release_claims(RUN, ["runner-a"])
        assert store.claim(RUN, "pair/6x6/seed7/r0", "runner-b", ttl_s=60) is True

        store.save_episode(RUN, error)
        assert store.claim(RUN, error.spec.episode_id, "runner-a", ttl_s=60) is False
        assert store.claim(RUN, error.spec.episode_id, "runner-a", ttl_s=60, replace_error=True) is True


def test_a_replayed_error_replaces_its_stored_record_once(store_url: str) -> None:
    """`--retry-errors`: the new record, which carries the old attempts, takes the error's place."""
    error = error_episode()
    replay = error.model_copy(update={
        "status": "solved", "end_reason": "goal", "error": None, "attempt": 3,
        "score": Score(weighted=1.0, success=True, moves=2, conflicts=0, optimal_length=2),
        "attempts": [AttemptRecord(attempt=2, error=error.error, game_id=error.game_id, messages=error.messages,
                                   duration_s=error.duration_s)]})
    with Store.open(store_url) as store:
        store.start_run(RUN, CONFIG, PROVENANCE)
        store.save_episode(RUN, error)
        assert store.save_episode(RUN, replay, replace_error=True) is True
        assert store.save_episode(RUN, replay, replace_error=True) is False  # the error is gone: stored once
        assert store.episodes(RUN) == [replay]
        assert store.episode(RUN, error.spec.episode_id) == replay
        assert store.episode(RUN, "no-such-episode") is None
    assert row_counts(store_url)["episodes"] == 1
