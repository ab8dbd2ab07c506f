"""What `check-agent` reads off an agent card: the card itself (fetched by `game/_card.py`, judged here), and a probe
of each interface it declares.

`Check` lives here rather than in `_check.py` because these are the first checks made and `_check.py` builds on
them; `_check.py` re-exports it.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from collabgap.protocol import SEAT_SKILL

from ..game._card import TOKEN_FIX, Card, CardMiss, fetch_card

BINDINGS = ("JSONRPC", "HTTP+JSON")
"""The protocol bindings the coordinator speaks, in its order of preference."""
VERSIONS = ("1.0", "0.3")
"""The A2A versions the coordinator speaks (`Major.Minor`; a patch such as `0.3.0` counts as `0.3`)."""


class Check(BaseModel):
    """One verdict of `check-agent`: what was probed, what was found, and what to change when it failed."""

    model_config = ConfigDict(frozen=True)

    name: str
    """A stable dotted name, such as `card.skill` or `conversation.vote`."""
    passed: bool
    detail: str
    """The evidence for a pass, or what went wrong."""
    fix: str | None = None
    """What the agent's author should change; set on every check that did not pass, and on every warning."""
    skipped: bool = False
    """Not run because a check it depends on failed; then `passed` is false and `fix` names that check."""
    warning: bool = False
    """A shortcoming that does not stop the agent from playing: `passed` stays true, and `fix` says what to improve."""


def passed(name: str, detail: str) -> Check:
    return Check(name=name, passed=True, detail=detail)


def failed(name: str, detail: str, fix: str) -> Check:
    return Check(name=name, passed=False, detail=detail, fix=fix)


def warned(name: str, detail: str, fix: str) -> Check:
    return Check(name=name, passed=True, detail=detail, fix=fix, warning=True)


def skipped(name: str, blocker: str) -> Check:
    return Check(name=name, passed=False, skipped=True, detail=f"skipped: `{blocker}` failed",
                 fix=f"fix `{blocker}` first")


@dataclass(frozen=True)
class Interface:
    """One `supportedInterfaces` entry the coordinator could talk to."""

    binding: str
    release: str
    """The declared protocol version as `Major.Minor`, one of `VERSIONS`."""
    url: str


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class _InterfaceShape(_Strict):
    url: str = Field(min_length=1)
    protocol_binding: str = Field(alias="protocolBinding", min_length=1)
    protocol_version: str = Field(alias="protocolVersion", min_length=1)


class _SkillShape(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tags: list[str] = Field(min_length=1)


class _CardShape(_Strict):
    """The fields `a2a.proto` marks REQUIRED, as ProtoJSON writes them (camelCase; empty values are omitted)."""

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    supported_interfaces: list[_InterfaceShape] = Field(alias="supportedInterfaces", min_length=1)
    version: str = Field(min_length=1)
    capabilities: dict[str, Any]
    default_input_modes: list[str] = Field(alias="defaultInputModes", min_length=1)
    default_output_modes: list[str] = Field(alias="defaultOutputModes", min_length=1)
    skills: list[_SkillShape] = Field(min_length=1)


async def check_fetch(http: httpx.AsyncClient, url: str, deadline_s: float) -> tuple[Check, Card | None]:
    """`card.fetch`: GET the card at the well-known path; HTTP 200 with a JSON object."""
    fetched = await fetch_card(http, url, deadline_s)
    if isinstance(fetched, CardMiss):
        return failed("card.fetch", fetched.detail, fetched.fix), None
    return passed("card.fetch", f"HTTP 200 from {fetched.source} ({fetched.size:,} bytes of JSON)"), fetched


def check_fields(card: Card) -> Check:
    """`card.fields`: every REQUIRED field is present and of its type, and the A2A SDK can read the card."""
    try:
        shape = _CardShape.model_validate(card.data)
    except pydantic.ValidationError as exc:
        missing = sorted({_path(e["loc"]) for e in exc.errors() if e["type"] == "missing"})
        wrong = [f"`{_path(e['loc'])}`: {e['msg']}" for e in exc.errors() if e["type"] != "missing"]
        problems = ([f"missing {', '.join(f'`{m}`' for m in missing)}"] if missing else []) + wrong
        fixes = ([f"add the REQUIRED fields {', '.join(missing)}"] if missing else []) + (
            ["give each field its A2A 1.0 type"] if wrong else [])
        return failed("card.fields", "; ".join(problems), f"{' and '.join(fixes)} (camelCase JSON, as in a2a.proto)")
    if card.sdk_error is not None:
        return failed("card.fields", f"the A2A SDK cannot read the card: {card.sdk_error}",
                      "write the card as A2A 1.0 ProtoJSON (camelCase field names, the types of a2a.proto)")
    return passed("card.fields", f"every REQUIRED field is present: {shape.name!r} version {shape.version!r}, "
                                 f"{len(shape.skills)} skill(s)")


def _path(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _release(version: object) -> str | None:
    match = re.fullmatch(r"(\d+)\.(\d+)(?:\.\d+)?", version) if isinstance(version, str) else None
    return f"{int(match.group(1))}.{int(match.group(2))}" if match else None


def check_interfaces(card: Card) -> tuple[Check, list[Interface]]:
    """`card.interfaces`: at least one JSONRPC or HTTP+JSON interface of A2A 1.0 or 0.3; the others are reported."""
    declared = card.data.get("supportedInterfaces")
    usable: list[Interface] = []
    ignored: list[str] = []
    for entry in declared if isinstance(declared, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            ignored.append(f"{entry!r:.60} (no url)")
            continue
        binding, version, url = entry.get("protocolBinding"), entry.get("protocolVersion"), entry["url"]
        release = _release(version)
        if binding not in BINDINGS:
            ignored.append(f"{binding} at {url} (collabgap speaks {' and '.join(BINDINGS)})")
        elif release not in VERSIONS:
            ignored.append(f"{binding} {version} at {url} (A2A version {version!r} unsupported; "
                           f"collabgap speaks {' and '.join(VERSIONS)})")
        else:
            usable.append(Interface(binding=str(binding), release=release, url=url))
    found = "; ".join(f"{i.binding} {i.release} at {i.url}" for i in usable)
    note = f"; ignored: {'; '.join(ignored)}" if ignored else ""
    if not usable:
        return failed("card.interfaces", f"no interface collabgap can use{note or ' (supportedInterfaces is empty)'}",
                      "declare a JSONRPC or HTTP+JSON interface with protocolVersion 1.0 (or 0.3) in "
                      "supportedInterfaces"), []
    return passed("card.interfaces", f"{len(usable)} usable: {found}{note}"), usable


def check_skill(card: Card) -> Check:
    """`card.skill`: the card declares the seat skill, so registries and runners can tell a seat-playing agent.
    Only a warning when it does not: the coordinator never reads the skill, and such an agent plays as well."""
    skills = card.data.get("skills")
    ids = [s.get("id") for s in skills if isinstance(s, dict)] if isinstance(skills, list) else []
    if SEAT_SKILL in ids:
        return passed("card.skill", f"declares skill {SEAT_SKILL}")
    found = f"skills {', '.join(map(str, ids))}" if ids else "no skills"
    return warned("card.skill", f"skill {SEAT_SKILL} is not declared (the card has {found})",
                  f'declare skill id {SEAT_SKILL}: {{"id": "{SEAT_SKILL}", "name": "Maze seat", '
                  f'"description": "...", "tags": ["collabgap"]}}')


def _bearer(scheme: object) -> bool:
    """Whether a token sent as `Authorization: Bearer <token>` (all the coordinator sends) satisfies a scheme."""
    if not isinstance(scheme, dict):
        return False
    http = scheme.get("httpAuthSecurityScheme")
    if isinstance(http, dict):
        return str(http.get("scheme", "")).lower() == "bearer"
    return "oauth2SecurityScheme" in scheme or "openIdConnectSecurityScheme" in scheme


def _scheme_names(requirement: object) -> list[str]:
    schemes = requirement.get("schemes") if isinstance(requirement, dict) else None
    return [str(name) for name in schemes] if isinstance(schemes, dict) else []


def check_security(card: Card, token: str | None) -> Check:
    """`card.security`: what the card demands can be met with the token given (or without one)."""
    name = "card.security"
    requirements = card.data.get("securityRequirements") or []
    schemes = card.data.get("securitySchemes") or {}
    if not isinstance(requirements, list) or not isinstance(schemes, dict):
        return failed(name, "securityRequirements or securitySchemes has the wrong type",
                      "write securityRequirements as a list and securitySchemes as an object (A2A 1.0)")
    alternatives = [_scheme_names(requirement) for requirement in requirements]
    if not alternatives or any(not names for names in alternatives):
        sent = " (the token given is sent anyway)" if token else ""
        return passed(name, f"the card demands no authentication{sent}")
    usable = [names for names in alternatives if all(_bearer(schemes.get(n)) for n in names)]
    demanded = " or ".join("+".join(names) for names in alternatives)
    if not usable:
        undeclared = sorted({n for names in alternatives for n in names if n not in schemes})
        why = f"; {', '.join(undeclared)} not in securitySchemes" if undeclared else ""
        return failed(name, f"the card demands {demanded}{why}, but collabgap sends only "
                            "`Authorization: Bearer <token>`",
                      'declare an HTTP Bearer scheme: "securitySchemes": {"bearer": {"httpAuthSecurityScheme": '
                      '{"scheme": "Bearer"}}} and require it')
    if token is None:
        return failed(name, f"the card demands a bearer token ({demanded}) and no token was given", TOKEN_FIX)
    return passed(name, f"the card demands a bearer token ({demanded}); one was given")


def interface_name(interface: Interface) -> str:
    return f"interface.{interface.binding.lower()}-{interface.release}"


async def probe_interface(http: httpx.AsyncClient, interface: Interface, deadline_s: float, *,
                          name: str, token: str | None) -> Check:
    """`interface.*`: ask for an unknown task and expect a well-formed A2A error, not a transport failure."""
    task_id = f"collabgap-check-{uuid.uuid4().hex}"
    headers = {"A2A-Version": interface.release}
    try:
        async with asyncio.timeout(deadline_s):
            if interface.binding == "JSONRPC":
                method = "GetTask" if interface.release == "1.0" else "tasks/get"
                body = {"jsonrpc": "2.0", "id": uuid.uuid4().hex, "method": method, "params": {"id": task_id}}
                response = await http.post(interface.url, json=body, headers=headers)
            else:
                path = "/tasks/" if interface.release == "1.0" else "/v1/tasks/"
                response = await http.get(f"{interface.url.rstrip('/')}{path}{task_id}", headers=headers)
    except TimeoutError:
        return failed(name, f"{interface.url}: no answer within {deadline_s:g} s",
                      "answer A2A requests promptly at the interface URL the card declares")
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return failed(name, f"{interface.url}: {type(exc).__name__}: {exc}",
                      "advertise an interface URL that clients can reach (the agent service: --public-url)")
    if response.status_code in (401, 403):
        refused = "the token given was refused" if token else "it wants credentials"
        return failed(name, f"{interface.url} answered HTTP {response.status_code}: {refused}",
                      "check the token" if token else TOKEN_FIX)
    if interface.binding == "JSONRPC":
        return _judge_jsonrpc(name, interface, response)
    return _judge_rest(name, interface, response)


_JSONRPC_ERRORS = {-32001: "TaskNotFound", -32601: "MethodNotFound", -32602: "InvalidParams",
                   -32009: "VersionNotSupported"}


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _judge_jsonrpc(name: str, interface: Interface, response: httpx.Response) -> Check:
    serve = f"serve A2A {interface.release} JSON-RPC at {interface.url}, the URL the card declares"
    body = _json(response)
    if not isinstance(body, dict) or body.get("jsonrpc") != "2.0" or ("error" in body) == ("result" in body):
        return failed(name, f"{interface.url} answered HTTP {response.status_code} without a JSON-RPC 2.0 response: "
                            f"{response.text[:80]!r}", serve)
    if "result" in body:
        return passed(name, f"{interface.url} answered a lookup of an unknown task with a result")
    error = body["error"]
    code = error.get("code") if isinstance(error, dict) else None
    if not isinstance(code, int):
        return failed(name, f"{interface.url} answered a JSON-RPC error without an integer code: {error!r:.80}", serve)
    message = str(error.get("message", ""))[:120] if isinstance(error, dict) else ""
    if code == -32009:
        return failed(name, f"{interface.url} refuses A2A-Version {interface.release}: {message}",
                      f"serve A2A {interface.release} at this URL, or declare the version it speaks")
    label = _JSONRPC_ERRORS.get(code, "error")
    return passed(name, f"{interface.url} answered a lookup of an unknown task with JSON-RPC {label} {code} "
                        f"({message})")


def _judge_rest(name: str, interface: Interface, response: httpx.Response) -> Check:
    serve = f"serve A2A {interface.release} HTTP+JSON at {interface.url}, the URL the card declares"
    body = _json(response)
    if response.status_code == 404 and isinstance(body, dict):
        return passed(name, f"{interface.url} answered a lookup of an unknown task with 404 and a JSON error")
    if response.status_code == 404:
        return failed(name, f"{interface.url} answered 404 without a JSON body: nothing A2A is served there", serve)
    if isinstance(body, dict) and "VERSION_NOT_SUPPORTED" in str(body.get("error", "")):
        return failed(name, f"{interface.url} refuses A2A-Version {interface.release}",
                      f"serve A2A {interface.release} at this URL, or declare the version it speaks")
    return failed(name, f"{interface.url} answered a lookup of an unknown task with HTTP {response.status_code} "
                        f"(expected 404 and a JSON error): {response.text[:80]!r}", serve)
