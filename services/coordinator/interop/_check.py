"""`collabgap check-agent`: probe an A2A agent against the seat contract before it takes a seat.

Three groups of checks, in order: the card (`card.*`), each interface the card declares (`interface.*`), and a
short scripted seat conversation on a real maze (`conversation.*`). Every probe runs under a deadline, and a
failed probe never stops the report: the checks that depend on it are reported as skipped, naming it.

    report = await check_agent("http://127.0.0.1:8770", deadline_s=10)
    Console().print(render_check_report(report))
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
from pydantic import BaseModel, ConfigDict
from rich.table import Table
from rich.text import Text

from collabgap.protocol import (
    LEGEND,
    MazeParams,
    SeatEnd,
    SeatMessage,
    SeatStart,
    SeatTurn,
    VoteOutcome,
    generate_maze,
    render_map,
    split_views,
)

from .._errors import (
    AgentError,
    AgentFault,
    AgentTimeoutError,
    AgentUnreachableError,
    AuthFailureError,
    InfrastructureError,
    VersionError,
)
from ..game._card import TOKEN_FIX
from ..game._prompts import Prompts
from ..game._relay import pick_vote
from ..game._seat_client import (
    MAX_REPLY_BYTES,
    MAX_REPLY_CHARS,
    AgentConnection,
    SeatReply,
    _CappedTransport,
)
from ._check_card import (
    Check,
    check_fetch,
    check_fields,
    check_interfaces,
    check_security,
    check_skill,
    failed,
    interface_name,
    passed,
    probe_interface,
    skipped,
)

CARD_CHECKS = ("card.fetch", "card.fields", "card.interfaces", "card.skill", "card.security")
CONVERSATION_CHECKS = ("conversation.start", "conversation.turn", "conversation.vote", "conversation.end")
PARTNER_MOVE = "down"
"""The move the scripted partner proposes; on the seed-1 maze it walks into a wall, so a good agent objects."""


class CheckReport(BaseModel):
    """Every check made of one agent, in order; `passed` only when all of them passed (a warning passes)."""

    model_config = ConfigDict(frozen=True)

    url: str
    passed: bool
    checks: list[Check]

    def check(self, name: str) -> Check:
        """The check called `name`.

        Raises:
            KeyError: no check has that name.
        """
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(name)


async def check_agent(url: str, *, token: str | None = None, deadline_s: float = 10.0) -> CheckReport:
    """Probe the agent at base URL `url`: its card, its interfaces, and one short seat conversation.

    `token` is sent as `Authorization: Bearer <token>`. Each probe (one HTTP request, or one seat message) gets
    `deadline_s` seconds, so the whole check ends in a bounded time whatever the agent does. Never raises for
    anything the agent does: every failure is a failed check with a fix.
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=_CappedTransport(MAX_REPLY_BYTES), headers=headers,
                                 timeout=httpx.Timeout(deadline_s)) as http:
        fetched, card = await check_fetch(http, url, deadline_s)
        checks = [fetched]
        if card is None:
            checks += [skipped(name, "card.fetch") for name in (*CARD_CHECKS[1:], "interface", *CONVERSATION_CHECKS)]
        else:
            declared, interfaces = check_interfaces(card)
            checks += [check_fields(card), declared, check_skill(card), check_security(card, token)]
            if interfaces:
                names = _unique([interface_name(i) for i in interfaces])
                checks += await asyncio.gather(*(probe_interface(http, i, deadline_s, name=n, token=token)
                                                 for i, n in zip(interfaces, names)))
            else:
                checks.append(skipped("interface", "card.interfaces"))
            checks += await _converse(url, token, deadline_s)
    return CheckReport(url=url, passed=all(check.passed for check in checks), checks=checks)


def _unique(names: list[str]) -> list[str]:
    """Number repeated names (`interface.jsonrpc-1.0#2`), so each check name is unique in a report."""
    return [name if names[:i].count(name) == 0 else f"{name}#{names[:i].count(name) + 1}"
            for i, name in enumerate(names)]


def _script(game_id: str) -> tuple[SeatStart, SeatTurn, SeatEnd]:
    """Seat A's messages in a pair game on the paper-sized 6x6 maze: start, the partner's map and proposal, end."""
    maze = generate_maze(MazeParams(seed=1))
    own, partner = split_views(maze, 1)
    start = SeatStart(game_id=game_id, seat="A", condition="pair", speaks_first=True, message_limit=50,
                      size=maze.size, maps=[list(own)], legend=LEGEND)
    partner_text = (f"Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n{render_map(partner)}\n"
                    f"I propose we go {PARTNER_MOVE} first.\nMOVE: {PARTNER_MOVE}")
    turn = SeatTurn(game_id=game_id, seat="A", turn=2, partner_text=partner_text,
                    outcomes=[VoteOutcome(seat="B", direction=PARTNER_MOVE, executed=False, status="active")])
    return start, turn, SeatEnd(game_id=game_id, seat="A", status="ended", reason="ended")


async def _converse(url: str, token: str | None, deadline_s: float) -> list[Check]:
    """Play seat A for three messages; a message that fails skips the ones that need its answer."""
    game_id = f"check-{uuid.uuid4().hex[:12]}"
    start, turn, end = _script(game_id)
    prompts = Prompts.load()
    async with contextlib.AsyncExitStack() as stack:
        try:
            async with asyncio.timeout(deadline_s + 1):  # open() has its own; this one bounds a hung connect
                connection = await stack.enter_async_context(
                    AgentConnection.open(url, token=token, timeout=deadline_s))
        except (AgentFault, TimeoutError) as exc:
            return [_failure("conversation.start", exc, deadline_s),
                    *(skipped(name, "conversation.start") for name in CONVERSATION_CHECKS[1:])]
        except Exception as exc:  # noqa: BLE001 - the seam: the SDK refusing a card is a finding about the agent
            return [failed("conversation.start", f"no client for this card: {type(exc).__name__}: {exc}",
                           "declare a JSONRPC or HTTP+JSON interface of A2A 1.0 (or 0.3) that the A2A SDK accepts"),
                    *(skipped(name, "conversation.start") for name in CONVERSATION_CHECKS[1:])]
        context = f"{game_id}-A"
        opened, _ = await _exchange(connection, context, "conversation.start", prompts.start(start), start, deadline_s)
        if not opened.passed:
            return [opened, *(skipped(name, "conversation.start") for name in CONVERSATION_CHECKS[1:])]
        answered, reply = await _exchange(connection, context, "conversation.turn",
                                          prompts.turn(turn, solo=False, mode="referee"), turn, deadline_s)
        vote = _judge_vote(reply) if reply is not None else skipped("conversation.vote", "conversation.turn")
        ended, _ = await _exchange(connection, context, "conversation.end",
                                   [f"The game is over: {end.status}."], end, deadline_s)
    return [opened, answered, vote, ended]


async def _exchange(connection: AgentConnection, context: str, name: str, texts: list[str], message: SeatMessage,
                    deadline_s: float) -> tuple[Check, SeatReply | None]:
    try:
        async with asyncio.timeout(deadline_s + 1):  # a backstop: the connection's own turn timeout fires first
            reply = await connection.send("A", context, texts, message)
    except (AgentFault, TimeoutError) as exc:
        return _failure(name, exc, deadline_s), None
    return passed(name, f"{message.kind}: a reply of {len(reply.text):,} characters in {reply.latency_s:.2f} s "
                        f"(caps: {MAX_REPLY_CHARS:,} characters, {MAX_REPLY_BYTES:,} bytes)"), reply


def _judge_vote(reply: SeatReply) -> Check:
    """`conversation.vote`: the answer to a proposal casts a vote the coordinator can read."""
    direction, error = pick_vote(reply)
    if direction is not None:
        how = "a data part" if reply.data_move is not None else "a `MOVE:` line"
        return passed("conversation.vote", f"votes {direction.value} with {how}")
    if error is not None:
        return failed("conversation.vote", f"the first vote does not parse: {error}",
                      f"write the direction alone after MOVE:, e.g. a line `MOVE: {PARTNER_MOVE}`")
    return failed("conversation.vote", "the answer to the partner's proposal casts no vote",
                  'write votes as a line `MOVE: <direction>` (or send a data part {"move": "<direction>"})')


_VIOLATION_FIXES = (
    ("no text part", "reply with a text part"),
    ("empty reply", "reply with a text part"),
    ("exceeds the cap", f"keep the text of each reply under {MAX_REPLY_CHARS:,} characters"),
    ("larger than", f"keep each HTTP response under {MAX_REPLY_BYTES:,} bytes"),
    ("another conversation", "reply in the contextId of the message you answer"),
    ("task ended in", "reply with a message, or with a task in state COMPLETED or INPUT_REQUIRED"),
)


def _failure(name: str, exc: BaseException, deadline_s: float) -> Check:
    """A seat message that failed, as a check: the coordinator's error (its kind names it) and what to change."""
    if isinstance(exc, (AgentTimeoutError, TimeoutError)):
        return failed(name, f"agent_timeout: no reply within {deadline_s:g} s",
                      f"answer each seat message within the turn limit ({deadline_s:g} s here; runs allow "
                      "`turn_timeout_s`, 60 s by default)")
    kind = exc.kind if isinstance(exc, InfrastructureError) else "internal"
    detail = f"{kind}: {exc}"
    if isinstance(exc, AgentUnreachableError) and "no agent card" in str(exc):
        return failed(name, detail, "serve a card the A2A SDK can read (see `card.fields`)")
    if isinstance(exc, AgentUnreachableError):
        return failed(name, detail, "make the agent and the interface URL on its card reachable from here")
    if isinstance(exc, AuthFailureError):
        return failed(name, detail, TOKEN_FIX)
    if isinstance(exc, VersionError):
        return failed(name, detail, "serve the A2A version each interface on the card declares (1.0 or 0.3)")
    if isinstance(exc, AgentError):
        return failed(name, detail, "see the agent's logs: it reported a failure (an error or a FAILED task)")
    fix = next((fix for words, fix in _VIOLATION_FIXES if words in str(exc)),
               "answer SendMessage with an A2A message that has a text part (docs/seat-messages.md)")
    return failed(name, detail, fix)


def render_check_report(report: CheckReport) -> Table:
    """The report as one table: a row per check, with its verdict, what was found and the fix."""
    failures = sum(not check.passed and not check.skipped for check in report.checks)
    skips = sum(check.skipped for check in report.checks)
    warnings = sum(check.warning for check in report.checks)
    noted = f" ({warnings} warning{'s' * (warnings != 1)})" if warnings else ""
    verdict = (f"passed{noted}", "green") if report.passed else (
        f"failed ({failures} failed, {skips} skipped, {warnings} warned, of {len(report.checks)} checks)", "red")
    table = Table(title=Text.assemble("check-agent ", report.url, ": ", verdict), title_justify="left")
    for column in ("", "check", "detail", "fix"):
        table.add_column(column, overflow="fold")
    for check in report.checks:
        mark = Text("warn", "yellow") if check.warning else Text("pass", "green") if check.passed else Text(
            "skip", "yellow") if check.skipped else Text("FAIL", "bold red")
        table.add_row(mark, Text(check.name), Text(check.detail), Text(check.fix or ""))
    return table


def check_report_json(report: CheckReport) -> str:
    """The report as JSON (`--json`): the model's dump, one key per field."""
    return report.model_dump_json(indent=2)
