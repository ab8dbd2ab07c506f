"""How the fake vendor misbehaves on purpose: response latency and injected faults.

Both are seeded, so a run with the same settings and the same request order misbehaves the same way.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, model_validator

FaultKind = Literal["rate_limit", "server_error", "hang", "malformed", "cut_stream", "empty", "echo_key"]
FAULT_KINDS: tuple[FaultKind, ...] = ("rate_limit", "server_error", "hang", "malformed", "cut_stream", "empty",
                                      "echo_key")


class UniformLatency(BaseModel):
    """A delay drawn uniformly from `[low, high]` seconds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["uniform"]
    low: NonNegativeFloat
    high: NonNegativeFloat

    @model_validator(mode="after")
    def _ordered(self) -> UniformLatency:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self


class LognormalLatency(BaseModel):
    """A delay in seconds whose logarithm is normal: `median` seconds typical, a long tail as `sigma` grows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: NonNegativeFloat


Latency = NonNegativeFloat | Annotated[UniformLatency | LognormalLatency, Field(discriminator="kind")]
"""Seconds to wait before answering: a fixed number, or a distribution to draw each request's delay from."""


class FaultRule(BaseModel):
    """One way to fail a chat request, and when.

    Effects (each in the calling vendor's error shape):
    `rate_limit`: 429 with `Retry-After`. `server_error`: 500. `hang`: no answer until the client gives up
    (bounded by `FakeVendorSettings.hang_limit`). `malformed`: 200 `application/json` whose body is not JSON.
    `cut_stream`: a stream stops cleanly after a couple of content chunks, without its final events; a
    request that did not ask to stream gets the `malformed` answer instead. `empty`: a well-formed answer whose
    text is empty, as a model that says nothing (streamed or not). `echo_key`: 401 whose message repeats the
    key the request carried, in full, as careless vendors do ("Incorrect API key provided: sk-..."), so tests can
    check that no key a vendor echoes is stored or logged.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: FaultKind
    rate: float = Field(1.0, ge=0.0, le=1.0)
    """Probability that the rule fires on a request it applies to."""
    first: int | None = Field(None, ge=0)
    """When set, the rule applies only to the first `first` matching requests since the rules were installed."""
    retry_after: float = Field(1.0, ge=0.0)
    """`rate_limit` only: the seconds the `Retry-After` header asks the client to wait."""
    models: tuple[str, ...] | None = None
    """When set, the rule applies only to requests for these models."""

    @model_validator(mode="after")
    def _retry_after_only_for_rate_limits(self) -> FaultRule:
        if "retry_after" in self.model_fields_set and self.kind != "rate_limit":
            raise ValueError(f"retry_after applies only to rate_limit faults, not {self.kind}")
        return self

    def retry_after_header(self) -> str:
        """`Retry-After` in seconds: an integer when whole (`"2"`), otherwise a decimal (`"0.5"`)."""
        return str(int(self.retry_after)) if self.retry_after.is_integer() else repr(self.retry_after)


def draw_delay(latency: float | UniformLatency | LognormalLatency, rng: random.Random) -> float:
    """One request's delay in seconds; a fixed latency draws nothing from `rng`."""
    if isinstance(latency, UniformLatency):
        return rng.uniform(latency.low, latency.high)
    if isinstance(latency, LognormalLatency):
        return rng.lognormvariate(math.log(latency.median), latency.sigma)
    return float(latency)


class FaultPlan:
    """The installed rules and how many matching requests each has seen.

    Not thread-safe: the app uses it from one event loop, with no await between a draw and its counting.
    """

    def __init__(self, rules: Sequence[FaultRule], rng: random.Random) -> None:
        self._rng = rng
        self.replace(rules)

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return self._rules

    def replace(self, rules: Sequence[FaultRule]) -> None:
        """Install new rules; their `first` counts start from zero."""
        self._rules = tuple(rules)
        self._seen = [0] * len(self._rules)

    def draw(self, model: str) -> FaultRule | None:
        """The rule that fires for a request for `model`, or None. Rules are checked in order; the first that
        fires wins, but every rule that applies counts the request, so `first: N` means the first N requests."""
        fired: FaultRule | None = None
        for index, rule in enumerate(self._rules):
            if rule.models is not None and model not in rule.models:
                continue
            self._seen[index] += 1
            if rule.first is not None and self._seen[index] > rule.first:
                continue
            # A certain rule draws nothing, so adding one does not reshuffle the draws of the others.
            if fired is None and (rule.rate >= 1.0 or self._rng.random() < rule.rate):
                fired = rule
        return fired
