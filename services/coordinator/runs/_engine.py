"""What a run adds to playing episodes (`game._engine.Episodes`): the run it belongs to, the store, the lease
time, and the save of each record, tried again when the store fails.

`EpisodeEngine` is the per-episode path of a run, the same on every backend: in the `collabgap run` process
itself, or in each Ray player (`_ray_actors.EpisodePlayer`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from collabgap.services.shared import RetryPolicy, retrying

from .._errors import StoreError
from .._records import EpisodeRecord
from ..game._engine import Episodes, EpisodeSettings
from ..game._episode import MessageListener
from ._store import Store

logger = logging.getLogger(__name__)

SAVE_RETRY = RetryPolicy(max_retries=2, backoff_s=1.0, max_backoff_s=2.0, jitter=0.0)
"""Three tries to save one record, 1 s then 2 s apart, before the save's `StoreError` is raised."""


@dataclass(frozen=True, kw_only=True)
class EngineSettings(EpisodeSettings):
    """What every engine of a run needs: how to play its episodes, and where they are stored."""

    run_id: str
    store_url: str
    lease_ttl_s: float
    """How long a Ray player's lease on its game and agent slots lasts unless renewed (the run's game timeout)."""


class EpisodeEngine(Episodes):
    """Plays a run's episodes and saves them into the run's store."""

    def __init__(self, settings: EngineSettings, store: Store, on_message: MessageListener | None = None) -> None:
        super().__init__(settings, on_message)
        self._run_id = settings.run_id
        self._store = store

    async def save(self, record: EpisodeRecord, *, replace_error: bool = False) -> bool:
        """Save the record, trying again when the store fails; False when the episode was stored already.

        Raises:
            StoreError: the store failed every try of `SAVE_RETRY`.
        """
        def note(retry: int, exc: StoreError, _wait: float) -> None:
            logger.warning("could not save episode %s (try %d): %s", record.spec.episode_id, retry, exc)

        # A save that committed before its connection broke is absorbed by the store's UNIQUE episode id on the
        # next try: the episode is in the store exactly once.
        return await retrying(SAVE_RETRY, lambda: asyncio.to_thread(self._store.save_episode, self._run_id, record,
                                                                    replace_error=replace_error),
                              (StoreError,), on_retry=note)
