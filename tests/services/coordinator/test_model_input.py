"""The viewer's layout of what each model saw: requests as prefixes of shared conversations (issue 9, item 7)."""

from __future__ import annotations

from collabgap.protocol import ModelCall, ModelMessage
from collabgap.services.coordinator.report._model_input import RequestIndex

SYSTEM, TASK, SAID, PARTNER = (ModelMessage(role=role, content=text) for role, text in [
    ("system", "relay"), ("user", "[user]: task"), ("assistant", "down?"), ("user", "[other agent]: yes")])


def shown(index: RequestIndex, place: dict[str, int]) -> list[dict[str, object]]:
    return index.conversations[place["conversation"]][:place["length"]]


def test_a_growing_conversation_is_held_once() -> None:
    index = RequestIndex()
    [first] = index.add("A", [ModelCall(messages=[SYSTEM, TASK])])
    [second] = index.add("A", [ModelCall(shared=2, messages=[SAID, PARTNER])])
    assert len(index.conversations) == 1 and shown(index, first) == [{"role": "system", "content": "relay"},
                                                                      {"role": "user", "content": "[user]: task"}]
    assert len(shown(index, second)) == 4 and second["missing"] == 0


def test_a_new_player_or_a_rewritten_history_starts_a_new_conversation() -> None:
    index = RequestIndex()
    index.add("A", [ModelCall(messages=[SYSTEM, TASK, SAID])])
    [rewritten] = index.add("A", [ModelCall(shared=2, messages=[PARTNER])])
    [newcomer] = index.add("A", [ModelCall(messages=[SYSTEM, PARTNER])])
    assert len(index.conversations) == 3
    assert [m["content"] for m in shown(index, rewritten)] == ["relay", "[user]: task", "[other agent]: yes"]
    assert [m["content"] for m in shown(index, newcomer)] == ["relay", "[other agent]: yes"]


def test_a_request_whose_start_was_never_reported_shows_what_it_holds() -> None:
    index = RequestIndex()
    [place] = index.add("B", [ModelCall(shared=5, messages=[PARTNER])])
    assert place["missing"] == 5 and [m["content"] for m in shown(index, place)] == ["[other agent]: yes"]
