"""Issue 12, part 3: `collabgap export` over a real run of LLM players (fake vendor): each seat's conversation as
its model saw it, in the OpenAI chat shape, loadable with plain `json` and with Hugging Face `datasets`."""

from __future__ import annotations

import inspect
import json
import subprocess
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from collabgap.protocol import Seat
from collabgap.services.coordinator import (
    EpisodeRecord,
    ExportOptions,
    ExportTally,
    ServiceGroup,
    chat_examples,
    execute_run,
    load_records,
    load_run_file,
)
from collabgap.services.coordinator.report._model_input import RequestIndex
from collabgap.services.fake_llm import FakeVendorSettings
from tests._command import COLLABGAP
from tests.docs.test_examples import DOCS, load_example

from .conftest import FAKE_KEY, llm_agent

LOADER = load_example("load_export")
RUN = """\
name = "export"
runs_dir = "{runs}"
grader = "grader"

[agents.gpt]
player = "openai:sim-cartographer"
base_url = "{vendor}/v1"
api_key_env = "EXPORT_TEST_KEY"

[agents.claude]
player = "anthropic:sim-cartographer"
base_url = "{vendor}"
api_key_env = "EXPORT_TEST_KEY"

[agents.mute]
player = "openai:sim-follower"
base_url = "{vendor}/v1"
api_key_env = "EXPORT_TEST_KEY"

[agents.grader]
player = "openai:sim-grader"
base_url = "{vendor}/v1"
api_key_env = "EXPORT_TEST_KEY"

[agents.scripted]
player = "scripted:cartographer"

[agents.direct]
url = "{direct}"

[mazes]
count = 1
seed = 3

[[conditions]]
kind = "pair"
pairing = "explicit"
pairs = [["gpt", "claude"], ["gpt", "scripted"], ["gpt", "mute"], ["direct", "direct"]]

[[conditions]]
kind = "pair"
mode = "paper"
pairing = "explicit"
pairs = [["claude", "gpt"]]

[[conditions]]
kind = "solo-full"
agents = ["gpt"]

[[conditions]]
kind = "relay"
relay = "primer"
strong = "gpt"
weak = ["claude"]
k = [2]
"""
"""Every way a seat's conversation is shaped: both vendors, a scripted seat (no model input), a seat whose model
says nothing (`mute`, under the fake vendor's `empty` fault: an agent failure), tool calls at the referee, paper
mode, solo, and a relay whose newcomer inherits its seat's messages."""


@dataclass(frozen=True)
class ExportedRun:
    folder: Path
    records: list[EpisodeRecord]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExportedRun]:
    tmp = tmp_path_factory.mktemp("export")
    faults = json.dumps({"faults": [{"kind": "empty", "models": ["sim-follower"]}]})
    with ServiceGroup(log_dir=tmp / "logs") as services, pytest.MonkeyPatch.context() as env:
        env.setenv("EXPORT_TEST_KEY", FAKE_KEY)
        vendor = services.start_fake_vendor(FakeVendorSettings.model_validate_json(faults))
        direct = services.start_agent(llm_agent("openai:sim-cartographer", vendor, referee_direct=True),
                                      env={"COLLABGAP_TEST_KEY": FAKE_KEY})
        path = tmp / "run.toml"
        path.write_text(RUN.format(runs=tmp / "runs", vendor=vendor, direct=direct))
        outcome = execute_run(load_run_file(path), path)
    assert outcome.complete and not outcome.errors
    folder = tmp / "runs" / "export"
    yield ExportedRun(folder, load_records(folder))


def export(run: ExportedRun, *options: str) -> list[dict[str, Any]]:
    """The command's JSON lines, read with plain `json`."""
    done = subprocess.run([*COLLABGAP, "export", str(run.folder), "--format", "chat-jsonl", *options],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def record_of(run: ExportedRun, example: dict[str, Any]) -> EpisodeRecord:
    return next(r for r in run.records if r.spec.episode_id == example["metadata"]["episode_id"])


def exported_seats(records: list[EpisodeRecord]) -> set[tuple[str, Seat]]:
    """Every seat of an episode without errors whose last message came with its model input."""
    seats: set[tuple[str, Seat]] = set()
    for record in records:
        for seat in ("A", "B") if record.error is None else ():
            own = [m for m in record.messages if m.seat == seat]
            if own and own[-1].model_input:
                seats.add((record.spec.episode_id, seat))
    return seats


def test_each_example_is_the_seat_s_last_request_and_its_final_message(run: ExportedRun) -> None:
    """The messages are the stored model input of the seat's last message, then that message as an assistant
    turn; every assistant turn that ended a reply is the seat's own message from the transcript."""
    examples = export(run)
    exported = {(e["metadata"]["episode_id"], e["metadata"]["seat"]) for e in examples}
    assert exported == exported_seats(run.records)
    for example in examples:
        record = record_of(run, example)
        metadata, messages = example["metadata"], example["messages"]
        seat: Seat = metadata["seat"]
        own = [m for m in record.messages if m.seat == seat]
        assert [(m["role"], m["content"]) for m in messages[:-1]] == [
            (m["role"], m["content"]) for m in last_request(record, seat)]
        assert messages[-1] == {"role": "assistant", "content": own[-1].text}
        replies = [m["content"] for m in messages if m["role"] == "assistant" and "tool_calls" not in m]
        assert replies == [m.text for m in own]
        assert own[-1].usage is not None and score_of(record) == (metadata["weighted"], metadata["solved"])
        assert (metadata["run_id"], metadata["agent"], metadata["model"], metadata["condition"], metadata["mode"]) == (
            "export", own[-1].player, own[-1].usage.model, record.spec.condition, record.spec.mode)
        assert (metadata["maze_size"], metadata["maze_seed"]) == (6, 3)


def last_request(record: EpisodeRecord, seat: Seat) -> list[dict[str, object]]:
    """The seat's last request as the transcript viewer lays it out from the stored reports."""
    index = RequestIndex()
    places = [index.add(m.seat, m.model_input) for m in record.messages]
    [*_, place] = [p for m, p in zip(record.messages, places) if m.seat == seat][-1]
    assert place["missing"] == 0
    return index.conversations[place["conversation"]][:place["length"]]


def score_of(record: EpisodeRecord) -> tuple[float, bool]:
    assert record.score is not None
    return record.score.weighted, record.score.success


def test_partner_messages_are_user_turns_and_tool_rounds_keep_their_calls(run: ExportedRun) -> None:
    """DESIGN §3.2: the partner's messages reach the model as `[other agent]:` user turns; a referee-direct
    seat's `propose_move` calls and their results stay in its conversation, in the Chat Completions shape."""
    examples = export(run, "--condition", "pair")
    direct = [e for e in examples if record_of(run, e).spec.seat_a.name == "direct"]
    assert len(direct) == 2
    for example in examples:
        record = record_of(run, example)
        seat = example["metadata"]["seat"]
        own = [m for m in record.messages if m.seat == seat]
        heard = [m.text for m in record.messages[:own[-1].index] if m.seat != seat]
        users = [m["content"] for m in example["messages"] if m["role"] == "user"]
        assert users[0].startswith("[user]: ") and users[1:] == ["[other agent]: " + text for text in heard]
        if example in direct:
            calls = [c for m in example["messages"] for c in m.get("tool_calls", [])]
            results = {m["tool_call_id"] for m in example["messages"] if m["role"] == "tool"}
            assert calls and {c["function"]["name"] for c in calls} >= {"propose_move"}
            assert results == {c["id"] for c in calls} and all(c["type"] == "function" for c in calls)


def test_seats_without_model_input_and_agent_failures_are_left_out_and_counted(run: ExportedRun) -> None:
    tally = ExportTally()
    examples = list(chat_examples(run.records, "export", tally=tally))
    assert tally.seats == {"no_model_input": 1} and tally.episodes == {"agent_failure": 1}
    assert all(e["metadata"]["agent"] != "scripted" for e in examples)  # type: ignore[index]
    failed = next(r for r in run.records if r.flagged)
    assert failed.error is not None and failed.error.blame == "agent:mute"
    more = export(run, "--include-agent-failures")
    [rescued] = [e for e in more if e not in examples]
    assert rescued["metadata"]["episode_id"] == failed.spec.episode_id
    assert rescued["metadata"]["seat"] == "A"  # seat B's model never said anything


def test_filters_and_out_file(run: ExportedRun, tmp_path: Path) -> None:
    everything = export(run, "--include-agent-failures")
    out = tmp_path / "data" / "b.jsonl"
    printed = export(run, "--include-agent-failures", "--seat", "B", "--out", str(out))
    assert printed == []  # with --out, nothing on stdout
    only_b = LOADER.read_examples(out)  # the docs' plain-json reader
    assert only_b and only_b == [e for e in everything if e["metadata"]["seat"] == "B"]
    solo = export(run, "--include-agent-failures", "--condition", "solo-full", "--condition", "solo-split")
    assert solo and solo == [e for e in everything if e["metadata"]["condition"] == "solo-full"]
    strong = export(run, "--include-agent-failures", "--min-score", "1.0")
    assert strong == [e for e in everything if e["metadata"]["weighted"] >= 1.0]
    assert 0 < len(strong) < len(everything)  # the seat whose partner fell silent made no progress
    options = ExportOptions(min_score=1.0, agent_failures=True)
    assert list(chat_examples(run.records, "export", options)) == strong


def test_a_bad_condition_is_refused_with_the_accepted_ones(run: ExportedRun) -> None:
    done = subprocess.run([*COLLABGAP, "export", str(run.folder), "--condition", "duet"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "solo-full" in done.stderr and not done.stdout


def test_the_export_loads_with_hugging_face_datasets(run: ExportedRun, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/examples/load_export.py: `load_dataset("json", ...)` with the documented features reads every line as
    written; keys a message lacks come back as None (the `test` extra installs `datasets`)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pytest.importorskip("datasets")
    out = tmp_path / "train.jsonl"
    export(run, "--include-agent-failures", "--out", str(out))
    examples = LOADER.read_examples(out)
    loaded = LOADER.load_with_datasets(out, cache_dir=tmp_path / "cache")
    assert len(loaded) == len(examples) > 0
    for row, example in zip(loaded, examples, strict=True):
        assert row["metadata"] == example["metadata"]
        shown = [{key: value for key, value in m.items() if value is not None} for m in row["messages"]]
        assert shown == example["messages"]


def test_the_page_shows_the_features_the_example_loads_with() -> None:
    source = inspect.getsource(LOADER.load_with_datasets)
    features = textwrap.dedent(source[source.index("    text = "):source.index("    return load_dataset")])
    assert features in (DOCS / "export.md").read_text()
