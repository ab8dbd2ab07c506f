"""Player specs, read in one place for `agent serve --player`, run files and the agent service's settings.

A spec is `scripted:<name>` (a built-in player), `openai:<model>` or `anthropic:<model>`; the Inspect / LiteLLM
forms `openai/<model>` and `anthropic/<model>` read the same. `fixture:tck` serves the A2A TCK's scenarios
instead of a player (docs/a2a-tck.md); `human` is a person at `collabgap human serve` (docs/human.md). Everything
stored or passed on uses the `kind:name` form (`human` stays as it is).
"""

from __future__ import annotations

import re

from ._errors import PlayerSpecError
from ._players import PLAYERS
from ._tck import FIXTURE_PLAYER

LLM_KINDS = ("openai", "anthropic")
HUMAN_PLAYER = "human"
_MODEL = re.compile(r"^[A-Za-z0-9._:/@-]+$")
"""A model id: what vendors and OpenAI-compatible gateways use (`gpt-4o`, `meta-llama/llama-3.1-8b`, `x@v2`)."""


def player_forms() -> str:
    """The accepted forms, for error messages and help."""
    scripted = ", ".join(f"scripted:{name}" for name in sorted(PLAYERS))
    return f"{scripted}, openai:<model>, anthropic:<model> (or openai/<model>, anthropic/<model>)"


def parse_player(spec: str, *, tck_fixture: bool = False, human: bool = False) -> tuple[str, str]:
    """The kind and name a player spec names: `openai/gpt-4o` and `openai:gpt-4o` both give ("openai", "gpt-4o").

    `fixture:tck` counts only with `tck_fixture` (an agent service may serve it; a run cannot seat it), and
    `human` (giving ("human", "")) only with `human` (run files and the human seat's service; `agent serve` has none).

    Raises:
        PlayerSpecError: the spec names no known player; the message lists the accepted forms.
    """
    if human and spec.strip() == HUMAN_PLAYER:
        return HUMAN_PLAYER, ""
    kind, name = _split(spec.strip())
    known = (kind == "scripted" and name in PLAYERS) or (kind in LLM_KINDS and _MODEL.match(name) is not None) \
        or (tck_fixture and f"{kind}:{name}" == FIXTURE_PLAYER)
    if not known:
        raise PlayerSpecError(f"unknown player {spec!r}; accepted: {player_forms()}")
    return kind, name


def canonical_player(spec: str, *, tck_fixture: bool = False, human: bool = False) -> str:
    """The `kind:name` form of a spec (`openai/gpt-4o` becomes `openai:gpt-4o`; `human` stays `human`).

    Raises:
        PlayerSpecError: the spec names no known player.
    """
    kind, name = parse_player(spec, tck_fixture=tck_fixture, human=human)
    return HUMAN_PLAYER if kind == HUMAN_PLAYER else f"{kind}:{name}"


def _split(spec: str) -> tuple[str, str]:
    colon, slash = spec.find(":"), spec.find("/")
    if slash != -1 and (colon == -1 or slash < colon) and spec[:slash] in LLM_KINDS:
        return spec[:slash], spec[slash + 1:]
    kind, _, name = spec.partition(":")
    return kind, name
