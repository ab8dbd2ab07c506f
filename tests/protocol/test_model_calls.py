"""What each model saw, reported compactly: each request lists only what the one before it lacked (issue 9)."""

from __future__ import annotations

import pytest

from collabgap.protocol import ModelCall, ModelMessage, ModelToolCall, expand_calls, shared_prefix

SYSTEM = ModelMessage(role="system", content="A relay forwards your messages verbatim.")
TASK = ModelMessage(role="user", content="[user]: Find the goal together.")
SAID = ModelMessage(role="assistant", content="", tool_calls=[ModelToolCall(id="c1", name="get_view", arguments="{}")])
RESULT = ModelMessage(role="tool", content="@.#\n...", tool_call_id="c1")
PARTNER = ModelMessage(role="user", content="[other agent]: I see the goal.")


def encode(requests: list[list[ModelMessage]]) -> list[ModelCall]:
    calls: list[ModelCall] = []
    previous: list[ModelMessage] = []
    for request in requests:
        calls.append(shared_prefix(previous, request))
        previous = request
    return calls


def test_a_growing_conversation_sends_each_message_once_and_expands_to_every_request() -> None:
    requests = [[SYSTEM, TASK], [SYSTEM, TASK, SAID, RESULT], [SYSTEM, TASK, SAID, RESULT, PARTNER]]
    calls = encode(requests)
    assert [(c.shared, len(c.messages)) for c in calls] == [(0, 2), (2, 2), (4, 1)]
    assert expand_calls(calls) == requests
    assert expand_calls(calls[1:], requests[0]) == requests[1:]  # a later reply continues the seat's last request


def test_a_request_that_rewrites_history_shares_only_the_common_start() -> None:
    rewritten = [SYSTEM, ModelMessage(role="user", content="[user]: Review your answer."), PARTNER]
    call = shared_prefix([SYSTEM, TASK, PARTNER], rewritten)
    assert (call.shared, call.messages) == (1, rewritten[1:])


def test_a_call_that_shares_more_than_was_reported_is_refused() -> None:
    with pytest.raises(ValueError, match="shares 3"):
        expand_calls([ModelCall(shared=3, messages=[PARTNER])], [SYSTEM, TASK])


def test_model_calls_travel_as_json_and_back() -> None:
    """The agent reports them in A2A metadata, where numbers become floats; the coordinator reads them back."""
    [call] = encode([[SYSTEM, TASK, SAID, RESULT]])
    wire = call.model_dump(mode="json") | {"shared": float(call.shared)}
    assert ModelCall.model_validate(wire) == call
