"""Training-data export over stored records (issue 12, part 3): what each seat's model saw, in the chat shape."""

from __future__ import annotations

import io
import json

from collabgap.protocol import MazeParams, ModelCall, ModelMessage, ModelToolCall, Usage
from collabgap.services.coordinator import (
    EpisodeError,
    EpisodeRecord,
    EpisodeSpec,
    ExportOptions,
    ExportTally,
    MessageRecord,
    Score,
    SeatSpec,
    chat_examples,
    write_jsonl,
)

SYSTEM = ModelMessage(role="system", content="relay verbatim")
TASK_A, TASK_B = ModelMessage(role="user", content="[user]: map A"), ModelMessage(role="user", content="[user]: map B")
SPEC = EpisodeSpec(episode_id="pair/gpt+claude/0", condition="pair", seat_a=SeatSpec(name="gpt", url="http://a"),
                   seat_b=SeatSpec(name="claude", url="http://b"), maze=MazeParams(size=6, seed=4))


def said(index: int, seat: str, text: str, *calls: ModelCall, model: str = "m") -> MessageRecord:
    return MessageRecord(index=index, seat=seat, player="gpt" if seat == "A" else "claude", text=text, latency_s=0.1,
                         usage=Usage(model=model), model_input=list(calls))


def user(text: str) -> ModelMessage:
    return ModelMessage(role="user", content="[other agent]: " + text)


def reply(text: str) -> ModelMessage:
    return ModelMessage(role="assistant", content=text)


CONVERSATION = [
    said(0, "A", "I see a wall east.", ModelCall(messages=[SYSTEM, TASK_A]), model="gpt-x"),
    said(1, "B", "Go down.", ModelCall(messages=[SYSTEM, TASK_B, user("I see a wall east.")]), model="claude-y"),
    said(2, "A", "MOVE: down", ModelCall(shared=2, messages=[reply("I see a wall east."), user("Go down.")]),
         model="gpt-x"),
]


def record(messages: list[MessageRecord] = CONVERSATION, weighted: float = 0.5, **fields: object) -> EpisodeRecord:
    score = Score(weighted=weighted, success=weighted == 1.0, moves=1, conflicts=0, optimal_length=10)
    values: dict[str, object] = {"spec": SPEC, "game_id": "g", "maze_id": "m", "status": "ended",
                                 "end_reason": "message_limit", "score": score, "messages": messages}
    return EpisodeRecord.model_validate({**values, **fields})


def metadata(example: dict[str, object]) -> dict[str, object]:
    """An example's `metadata` object."""
    value = example["metadata"]
    assert isinstance(value, dict)
    return value


def chat(example: dict[str, object]) -> list[object]:
    """An example's `messages` list."""
    value = example["messages"]
    assert isinstance(value, list)
    return value


def test_each_seat_gets_its_last_request_and_its_final_message() -> None:
    examples = list(chat_examples([record()], "run-1"))
    assert [e["messages"] for e in examples] == [
        [{"role": "system", "content": "relay verbatim"}, {"role": "user", "content": "[user]: map A"},
         {"role": "assistant", "content": "I see a wall east."}, {"role": "user", "content": "[other agent]: Go down."},
         {"role": "assistant", "content": "MOVE: down"}],
        [{"role": "system", "content": "relay verbatim"}, {"role": "user", "content": "[user]: map B"},
         {"role": "user", "content": "[other agent]: I see a wall east."},
         {"role": "assistant", "content": "Go down."}],
    ]
    assert examples[0]["metadata"] == {
        "run_id": "run-1", "episode_id": "pair/gpt+claude/0", "seat": "A", "agent": "gpt", "model": "gpt-x",
        "condition": "pair", "relay": None, "mode": "referee", "maze_size": 6, "maze_seed": 4, "status": "ended",
        "end_reason": "message_limit", "weighted": 0.5, "solved": False}


def test_platform_errors_are_never_exported_and_agent_failures_only_when_asked() -> None:
    platform = record(status="error", end_reason="error", score=None,
                      error=EpisodeError(kind="referee_error", seat=None, message="down", blame="platform"))
    agent = record(error=EpisodeError(kind="agent_timeout", seat="B", message="slow", blame="agent:claude"),
                   end_reason="agent_failure")
    tally = ExportTally()
    assert list(chat_examples([platform, agent], "r", tally=tally)) == []
    assert tally.episodes == {"platform_error": 1, "agent_failure": 1}
    everything = ExportOptions(agent_failures=True)
    assert len(list(chat_examples([platform, agent], "r", everything))) == 2


def test_seats_whose_model_input_cannot_be_had_exactly_are_counted_not_guessed() -> None:
    """A scripted seat reports nothing; a report left out breaks the chain; a request that does not hold what the
    seat wrote is not what its model saw before that message."""
    scripted = record([*CONVERSATION[:2], said(2, "A", "MOVE: down")])
    gap = record([CONVERSATION[0], CONVERSATION[1], said(2, "A", "MOVE: down", ModelCall(shared=7, messages=[]))])
    rewritten = record([*CONVERSATION[:2], said(2, "A", "MOVE: down",
                                                 ModelCall(shared=2, messages=[reply("I said something else."),
                                                                               user("Go down.")]))])
    silent = record(CONVERSATION[:1])
    tally = ExportTally()
    examples = list(chat_examples([scripted, gap, rewritten, silent], "r", tally=tally))
    assert [metadata(e)["seat"] for e in examples] == ["B", "B", "B", "A"]
    assert tally.seats == {"no_model_input": 1, "incomplete_model_input": 1, "transcript_mismatch": 1,
                           "no_messages": 1}


def test_filters_take_seats_conditions_and_a_minimum_score() -> None:
    low, high = record(weighted=0.2), record(weighted=1.0)
    tally = ExportTally()
    only_b = list(chat_examples([low, high], "r", ExportOptions(seats=frozenset("B"), min_score=0.5), tally))
    assert [(metadata(e)["seat"], metadata(e)["weighted"]) for e in only_b] == [("B", 1.0)]
    assert tally.episodes == {"filtered": 1} and tally.seats == {"filtered": 1}
    assert list(chat_examples([high], "r", ExportOptions(conditions=frozenset(["solo-full"])))) == []


def test_tool_rounds_keep_their_calls_in_the_chat_shape() -> None:
    """A referee-direct seat: its tool calls and their results stay, and only the turn that ended each reply
    must match what it wrote."""
    call = ModelToolCall(id="c1", name="propose_move", arguments='{"direction": "down"}')
    voted = [ModelMessage(role="assistant", content="", tool_calls=[call]),
             ModelMessage(role="tool", content="executed", tool_call_id="c1")]
    messages = [said(0, "A", "I voted down.", ModelCall(messages=[SYSTEM, TASK_A]),
                     ModelCall(shared=2, messages=voted))]
    [example] = chat_examples([record(messages, spec=SPEC.model_copy(update={"seat_b": None,
                                                                             "condition": "solo-full"}))], "r")
    assert chat(example)[2:] == [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "propose_move",
                                                          "arguments": '{"direction": "down"}'}}]},
        {"role": "tool", "content": "executed", "tool_call_id": "c1"},
        {"role": "assistant", "content": "I voted down."}]


def test_lines_are_plain_json() -> None:
    out = io.StringIO()
    assert write_jsonl(chat_examples([record()], "r"), out) == 2
    lines = out.getvalue().splitlines()
    assert [json.loads(line)["metadata"]["seat"] for line in lines] == ["A", "B"]


def test_every_seat_of_a_team_is_exported() -> None:
    gpt = SeatSpec(name="gpt", url="http://a")
    team = EpisodeSpec(episode_id="team/referee/gpt+gpt+gpt/0", condition="team", seat_a=gpt,
                       seat_b=gpt, more_seats=[gpt],
                       maze=MazeParams(size=6, seed=4))
    messages = [said(i, seat, f"{seat} speaks", ModelCall(messages=[SYSTEM, ModelMessage(role="user", content=seat)]))
                for i, seat in enumerate("ABC")]
    examples = list(chat_examples([record(messages, spec=team)], "r"))
    assert [metadata(e)["seat"] for e in examples] == ["A", "B", "C"]
    assert chat(examples[2])[-1] == {"role": "assistant", "content": "C speaks"}
    assert [metadata(e)["seat"] for e in chat_examples([record(messages, spec=team)], "r",
                                                         ExportOptions(seats=frozenset({"C"})))] == ["C"]
