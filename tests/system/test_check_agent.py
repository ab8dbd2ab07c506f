"""`check-agent`: an agent is judged against the seat contract (docs/seat-messages.md) before it takes a seat."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes, create_rest_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentSkill
from starlette.applications import Starlette

from collabgap.services.agent import PLAYERS, AgentSettings, SeatExecutor, build_card
from collabgap.services.agent._app import JSONRPC_PATH, REST_PATH
from collabgap.services.coordinator import (
    CheckReport,
    check_agent,
    check_report_json,
    render_check_report,
)
from collabgap.services.coordinator.interop._check import CARD_CHECKS, CONVERSATION_CHECKS
from tests._serving import serving
from tests.conftest import Stack

from ._broken_agent import TOKEN, app


@pytest.fixture(scope="module")
def judged() -> Iterator[str]:
    """Base URL of the plain-Starlette agents in `_broken_agent.py`, served by uvicorn in a thread."""
    with serving(app) as url:
        yield url


def failures(report: CheckReport) -> set[str]:
    return {check.name for check in report.checks if not check.passed and not check.skipped}


def assert_every_failure_has_a_fix(report: CheckReport) -> None:
    for check in report.checks:
        assert (check.passed and not check.warning) == (check.fix is None), check


async def test_the_built_in_agent_passes_every_check(stack: Stack) -> None:
    """Our own agent service is the reference: every check passes, on every interface its card declares."""
    report = await check_agent(stack.cartographer.url)
    assert report.passed, check_report_json(report)
    assert [check.name for check in report.checks] == [
        *CARD_CHECKS, "interface.jsonrpc-1.0", "interface.http+json-1.0", "interface.jsonrpc-0.3",
        *CONVERSATION_CHECKS]
    assert all(check.passed and check.fix is None for check in report.checks)
    assert "votes right" in report.check("conversation.vote").detail  # down is a wall: it objects and votes right


async def test_the_report_reads_back_from_json_and_renders_a_row_per_check(stack: Stack) -> None:
    report = await check_agent(stack.cartographer.url)
    assert CheckReport.model_validate_json(check_report_json(report)) == report
    assert render_check_report(report).row_count == len(report.checks)


async def test_a_broken_agent_fails_each_broken_rule_with_a_fix(judged: str) -> None:
    """Missing card fields, an unserved interface, no vote and a text-less answer are each reported, and nothing
    else; an interface of an unknown A2A version is reported but usable ones remain."""
    report = await check_agent(f"{judged}/broken", deadline_s=5)
    assert not report.passed
    assert failures(report) == {"card.fields", "interface.http+json-1.0", "conversation.vote", "conversation.end"}
    assert_every_failure_has_a_fix(report)
    fields = report.check("card.fields")
    assert "`skills`" in fields.detail and "`version`" in fields.detail
    assert fields.fix is not None and "skills, version" in fields.fix
    assert report.check("card.skill").warning and "collabgap.maze-seat" in (report.check("card.skill").fix or "")
    assert "2.0" in report.check("card.interfaces").detail
    assert "404" in report.check("interface.http+json-1.0").detail
    assert "MOVE: <direction>" in (report.check("conversation.vote").fix or "")
    end = report.check("conversation.end")
    assert end.detail.startswith("protocol_violation") and end.fix == "reply with a text part"


async def test_an_unreachable_agent_fails_at_the_card_and_skips_the_rest() -> None:
    async with asyncio.timeout(5):
        report = await check_agent("http://127.0.0.1:9", deadline_s=1)
    assert failures(report) == {"card.fetch"}
    assert ".well-known/agent-card.json" in (report.check("card.fetch").fix or "")
    assert all(check.skipped and check.fix == "fix `card.fetch` first" for check in report.checks[1:])
    assert_every_failure_has_a_fix(report)


async def test_a_slow_agent_fails_the_conversation_within_the_deadline(judged: str) -> None:
    """The check never hangs: a seat message unanswered after `deadline_s` is an `agent_timeout`."""
    async with asyncio.timeout(5):
        report = await check_agent(f"{judged}/slow", deadline_s=1)
    assert failures(report) == {"conversation.start"}
    start = report.check("conversation.start")
    assert start.detail.startswith("agent_timeout") and "turn limit" in (start.fix or "")
    assert [c.name for c in report.checks if c.skipped] == list(CONVERSATION_CHECKS[1:])
    assert_every_failure_has_a_fix(report)


async def test_a_token_protected_agent_needs_the_token(judged: str) -> None:
    """A card that demands a bearer token fails without one; with it, a contract-keeping agent passes."""
    refused = await check_agent(f"{judged}/locked", deadline_s=5)
    assert failures(refused) == {"card.security", "interface.jsonrpc-1.0", "conversation.start"}
    assert "--token-env" in (refused.check("card.security").fix or "")
    assert refused.check("conversation.start").detail.startswith("auth_failure")
    assert_every_failure_has_a_fix(refused)

    admitted = await check_agent(f"{judged}/locked", token=TOKEN, deadline_s=5)
    assert admitted.passed, check_report_json(admitted)
    assert "data part" in admitted.check("conversation.vote").detail



def _unlabelled_seat(url: str) -> Starlette:
    """A seat built from the SDK's routes and our executor and scripted player, whose card names its own skill."""
    card = build_card(AgentSettings(player="scripted:cartographer", public_url=url))
    del card.skills[:]
    card.skills.append(AgentSkill(id="maze-solver", name="Maze solver", description="solves mazes", tags=["maze"]))
    executor = SeatExecutor(PLAYERS["cartographer"], about="a maze seat")
    handler = DefaultRequestHandler(agent_executor=executor, task_store=InMemoryTaskStore(), agent_card=card)
    return Starlette(routes=[*create_agent_card_routes(card),
                             *create_jsonrpc_routes(handler, rpc_url=JSONRPC_PATH, enable_v0_3_compat=True),
                             *create_rest_routes(handler, path_prefix=REST_PATH)])


async def test_an_agent_without_the_seat_skill_passes_with_a_warning() -> None:
    """The skill id only helps registries: an agent that plays well but declares another skill passes."""
    with serving(build=_unlabelled_seat) as url:
        report = await check_agent(url, deadline_s=5)
    assert report.passed, check_report_json(report)
    skill = report.check("card.skill")
    assert skill.warning and "maze-solver" in skill.detail and "collabgap.maze-seat" in (skill.fix or "")
    assert [check.name for check in report.checks if check.warning] == ["card.skill"]
    assert "votes right" in report.check("conversation.vote").detail
    assert "1 warning" in str(render_check_report(report).title)
