"""Issue 9, item 7: every model request is stored exactly, with the message (or grading) it made, and laid out
for the transcript viewer; LLM players over the fake vendor's real HTTP API."""

from __future__ import annotations

from importlib import resources

from collabgap.protocol import ModelMessage, Seat, expand_calls
from collabgap.services.coordinator import EpisodeRecord, Prompts
from collabgap.services.coordinator.report._report_html import episode_view
from tests.conftest import Stack

from .conftest import LLMStack
from .test_llm_games import episode, play, set_faults

SYSTEM_PROMPT = resources.files("collabgap.services.agent").joinpath("prompts/system.md").read_text()


def seat_requests(record: EpisodeRecord) -> list[list[ModelMessage]]:
    """The one full request behind each message, rebuilt from the compact reports along each seat's chain."""
    last: dict[Seat, list[ModelMessage]] = {}
    requests = []
    for message in record.messages:
        [request] = expand_calls(message.model_input, last.get(message.seat, []))
        last[message.seat] = request
        requests.append(request)
    return requests


async def test_each_message_stores_what_its_model_saw(stack: Stack, llm: LLMStack) -> None:
    """The system prompt first; the task for the opening message; after it, the partner's last message."""
    await set_faults(llm, [{"kind": "rate_limit", "first": 2, "retry_after": 0.01}])
    try:
        [record] = await play(stack, episode("seen", llm.openai_cartographer, llm.anthropic_cartographer))
    finally:
        await set_faults(llm, [])
    assert record.status == "solved" and len(record.messages) > 4
    assert sum(m.usage.calls for m in record.messages if m.usage) == len(record.messages) + 2  # retries count once
    requests = seat_requests(record)
    for message, request in zip(record.messages, requests, strict=True):
        assert request[0] == ModelMessage(role="system", content=SYSTEM_PROMPT)
        earlier = record.messages[:message.index]
        own = [m.text for m in earlier if m.seat == message.seat]
        assert [m.content for m in request if m.role == "assistant"] == own  # its own messages, as assistant turns
        if message.index == 0:
            [task] = request[1:]
            assert task.role == "user" and task.content.startswith("[user]: ")
            assert all(row in task.content for row in record.views[0])  # seat A's own map
        else:
            assert request[-1] == ModelMessage(role="user", content="[other agent]: " + earlier[-1].text)
    # Compact: each message of a seat's conversation travels once, not once per request.
    sent = sum(len(call.messages) for m in record.messages for call in m.model_input)
    assert sent == len(requests[-1]) + len(requests[-2])
    assert EpisodeRecord.model_validate_json(record.model_dump_json()) == record


async def test_the_viewer_gets_each_request_once_per_conversation(stack: Stack, llm: LLMStack) -> None:
    [record] = await play(stack, episode("viewed", llm.openai_cartographer, llm.openai_cartographer))
    view = episode_view(record)
    conversations = view["conversations"]
    assert isinstance(conversations, list) and len(conversations) == 2  # one per seat
    for shown, request in zip(view["messages"], seat_requests(record), strict=True):  # type: ignore[call-overload]
        [place] = shown["model_input"]
        assert place["missing"] == 0
        assert conversations[place["conversation"]][:place["length"]] == [
            m.model_dump(mode="json", exclude_defaults=True) for m in request]


async def test_the_grader_s_request_is_stored_with_the_grading(stack: Stack, llm: LLMStack) -> None:
    [record] = await play(stack, episode("graded", llm.anthropic_cartographer, llm.openai_cartographer,
                                         mode="paper", grader=llm.grader))
    assert record.grading is not None and record.grading.error is None
    [request] = expand_calls(record.grading.model_input)
    assert request[-1] == ModelMessage(role="user", content=Prompts.load().grader(record.messages, solo=False))
    assert all(m.model_input for m in record.messages)


async def test_scripted_players_report_no_model_input(stack: Stack) -> None:
    [record] = await play(stack, episode("scripted", stack.cartographer, stack.follower))
    assert record.messages and not any(m.model_input for m in record.messages)
