"""The Ray backend of the one run engine: a pool of Ray actors plays a run's episodes across a cluster, each
through the same `EpisodeEngine` as a local run.

It builds on `runs` and `game`; nothing else imports it (the CLI hands `RayBackend` to `execute_run`).
"""

from ._ray import RayBackend

__all__ = ["RayBackend"]
