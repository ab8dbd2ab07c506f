"""An LLM player reports every request its model saw, tool turns included, each sharing what it can with the
request before it (issue 9, item 7); the real referee, a scripted stand-in for the vendor."""

from __future__ import annotations

from collabgap.protocol import ModelCall, ModelMessage, ModelToolCall, SeatTurn, expand_calls
from collabgap.services.agent import LLMPlayer, PlayerReply
from collabgap.services.agent._executor import MAX_CALLS_CHARS, reply_metadata
from collabgap.services.agent._players._llm import model_message
from tests.conftest import Stack

from .test_referee_direct_player import ScriptedVendor, call, new_game, start


async def test_a_reply_reports_each_request_exactly_and_each_message_once(stack: Stack) -> None:
    game_id, token = await new_game(stack)
    vendor = ScriptedVendor([call("propose_move", {"direction": "down"})], "I voted down.", "Now right?")
    player = LLMPlayer(vendor, "system")
    first = await player.reply(start(stack.referee_url, token), ["the task"])
    second = await player.reply(SeatTurn(game_id=game_id, seat="A", turn=2, partner_text="Agreed."), [])
    sent = [[model_message(m) for m in messages] for messages, _, _ in vendor.requests]
    assert expand_calls(first.calls) == sent[:2]
    assert expand_calls(second.calls, sent[1]) == sent[2:]  # the next reply continues where this one stopped
    assert [(c.shared, len(c.messages)) for c in (*first.calls, *second.calls)] == [(0, 2), (2, 2), (4, 2)]
    voted, result = first.calls[1].messages
    assert voted.tool_calls == [ModelToolCall(id="call_propose_move_1", name="propose_move",
                                              arguments='{"direction": "down"}')]
    assert (result.role, result.tool_call_id) == ("tool", "call_propose_move_1")
    assert second.calls[0].messages[-1] == ModelMessage(role="user", content="[other agent]: Agreed.")


def test_a_report_too_large_for_the_reply_is_left_out() -> None:
    """The coordinator reads at most 1 MiB a reply; the usage still travels."""
    huge = ModelCall(messages=[ModelMessage(role="user", content="x" * MAX_CALLS_CHARS)])
    small = ModelCall(messages=[ModelMessage(role="user", content="hello")])
    assert set(reply_metadata(PlayerReply("hi", calls=(huge,)))) == set()
    assert reply_metadata(PlayerReply("hi", calls=(small,)))["calls"] == [small.model_dump()]
