"""The one retry policy: what it retries, how often, how long it waits, and what it raises when it gives up."""

from __future__ import annotations

import pytest

from collabgap.services.shared import RetryPolicy, retrying

NO_WAIT = RetryPolicy(max_retries=3, backoff_s=0.0)


class Flaky(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Broken(Exception):
    pass


class Calls:
    """A call that raises each of `failures` in turn, then answers how many calls it took."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.made = 0

    async def __call__(self) -> int:
        self.made += 1
        if self.failures:
            raise self.failures.pop(0)
        return self.made


async def test_a_named_failure_is_retried_until_the_call_answers() -> None:
    seen: list[tuple[int, str, float]] = []
    answer = await retrying(NO_WAIT, Calls(Flaky("one"), Flaky("two")), (Flaky,),
                            on_retry=lambda retry, failure, wait: seen.append((retry, str(failure), wait)))
    assert answer == 3 and seen == [(1, "one", 0.0), (2, "two", 0.0)]


async def test_the_last_failure_is_raised_as_it_was_once_the_retries_are_spent() -> None:
    calls = Calls(*(Flaky(f"try {n}") for n in range(1, 6)))
    with pytest.raises(Flaky, match="try 4"):
        await retrying(NO_WAIT, calls, (Flaky,))
    assert calls.made == 4


async def test_a_failure_the_caller_did_not_name_is_raised_at_once() -> None:
    calls = Calls(Broken("for good"))
    with pytest.raises(Broken):
        await retrying(NO_WAIT, calls, (Flaky,))
    assert calls.made == 1


async def test_no_retries_means_one_call() -> None:
    calls = Calls(Flaky("once"))
    with pytest.raises(Flaky):
        await retrying(RetryPolicy(max_retries=0), calls, (Flaky,))
    assert calls.made == 1


def test_backoff_doubles_up_to_the_cap_and_jitter_only_shortens_it() -> None:
    exact = RetryPolicy(backoff_s=1.0, max_backoff_s=5.0, jitter=0.0)
    assert [exact.wait_s(retry) for retry in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    jittered = RetryPolicy(backoff_s=1.0, jitter=0.5)
    assert all(1.0 <= jittered.wait_s(2) <= 2.0 for _ in range(100))


def test_a_servers_retry_after_is_honoured_within_the_cap() -> None:
    policy = RetryPolicy(backoff_s=0.1, max_backoff_s=3.0, jitter=0.0)
    assert policy.wait_s(1, retry_after=2.0) == 2.0
    assert policy.wait_s(1, retry_after=60.0) == 3.0
    assert policy.wait_s(3, retry_after=0.1) == pytest.approx(0.4)


async def test_the_retry_after_a_failure_carries_reaches_the_wait() -> None:
    waits: list[float] = []
    policy = RetryPolicy(backoff_s=0.0, max_backoff_s=0.05)
    await retrying(policy, Calls(Flaky("slow down", retry_after=0.01), Flaky("again", retry_after=1.0)), (Flaky,),
                   on_retry=lambda _retry, _failure, wait: waits.append(wait),
                   retry_after=lambda failure: failure.retry_after)
    assert waits == [0.01, 0.05]
