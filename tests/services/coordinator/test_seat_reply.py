"""What an agent reports beside its text is its claim: read when well formed, left out (and logged) when not."""

from __future__ import annotations

import time

import pytest
from a2a.helpers import new_text_part
from google.protobuf.struct_pb2 import Struct

from collabgap.protocol import ModelCall, ModelMessage
from collabgap.services.coordinator.game._seat_client import read_reply

CALL = ModelCall(shared=0, messages=[ModelMessage(role="user", content="[user]: Find the goal.")])
USAGE = {"model": "m", "prompt_tokens": 12, "completion_tokens": 3}


def metadata(report: object) -> Struct:
    struct = Struct()
    struct.update({"collabgap": report})
    return struct


def test_reported_model_calls_reach_the_reply() -> None:
    reply = read_reply([new_text_part("hi")], metadata({"usage": USAGE, "calls": [CALL.model_dump()]}), "A",
                       time.perf_counter())
    assert reply.calls == (CALL,) and reply.usage is not None and reply.usage.prompt_tokens == 12


@pytest.mark.parametrize("calls", [[{"shared": -1, "messages": []}], "everything", [{"messages": [{"role": "x"}]}]])
def test_malformed_model_calls_are_left_out_and_logged(calls: object, caplog: pytest.LogCaptureFixture) -> None:
    reply = read_reply([new_text_part("hi")], metadata({"usage": USAGE, "calls": calls}), "A", time.perf_counter())
    assert reply.calls == () and reply.usage is not None
    assert "malformed model calls" in caplog.text


def test_a_report_that_is_not_an_object_costs_the_reply_nothing() -> None:
    reply = read_reply([new_text_part("hi")], metadata("garbage"), "A", time.perf_counter())
    assert (reply.text, reply.usage, reply.calls) == ("hi", None, ())
