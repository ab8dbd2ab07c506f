"""This runner's claims on a run's episodes: two runners on one store share the plan, never an episode.

    with Claims(store, run_id) as claims:          # renews this runner's claims while the block runs
        if claims.take(spec.episode_id):           # False: stored, or another runner plays it
            store.save_episode(run_id, play(spec)) # saving ends the claim
    # leaving the block releases what was claimed and not stored (an interrupted episode, say)

A runner that dies stops renewing, and its claims expire after `CLAIM_TTL_S`; a runner on the same machine
takes over at once the claims of a runner whose process is gone (a killed run, resumed).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from types import TracebackType

from .._errors import StoreError
from ._store import Store

logger = logging.getLogger(__name__)

CLAIM_TTL_S = 60.0
"""How long a claim lasts unrenewed; its runner renews it three times as often."""


def _runner_id() -> str:
    return f"{socket.gethostname()}/{os.getpid()}/{secrets.token_hex(3)}"


def _gone(runner_id: str) -> bool:
    """True for a runner on this machine whose process no longer exists."""
    host, _, rest = runner_id.partition("/")
    pid = rest.partition("/")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's live process
        return False
    return False


class Claims:
    """Claims of one runner (this process) on one run, renewed by a thread while the `with` block runs."""

    def __init__(self, store: Store, run_id: str, ttl_s: float = CLAIM_TTL_S) -> None:
        self.runner_id = _runner_id()
        self._store = store
        self._run_id = run_id
        self._ttl_s = ttl_s
        self._stop = threading.Event()
        self._renewal = threading.Thread(target=self._renew, name="collabgap-claims", daemon=True)

    def __enter__(self) -> Claims:
        if gone := [runner for runner in self._store.claim_holders(self._run_id) if _gone(runner)]:
            logger.info("taking over the claims of %s, whose processes have exited", ", ".join(gone))
            self._store.release_claims(self._run_id, gone)
        self._renewal.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._renewal.join()
        self._store.release_claims(self._run_id, [self.runner_id])

    def take(self, episode_id: str, *, replace_error: bool = False) -> bool:
        """Claim the episode for this runner; False when it is stored or another runner holds it."""
        return self._store.claim(self._run_id, episode_id, self.runner_id, self._ttl_s, replace_error=replace_error)

    def elsewhere(self) -> int:
        """Unexpired claims other runners hold on the run."""
        return sum(count for runner, count in self._store.claim_holders(self._run_id).items()
                   if runner != self.runner_id)

    def _renew(self) -> None:
        while not self._stop.wait(self._ttl_s / 3):
            try:
                self._store.renew_claims(self._run_id, self.runner_id, self._ttl_s)
            except StoreError as exc:  # the next renewal tries again; the lease outlasts two failures
                logger.warning("could not renew this runner's claims: %s", exc)
