"""The import structure of the packages: which package may import which, and no import cycle.

Pure AST over the source files of `protocol/`, `referee/` and `services/` (installed as `collabgap.*`; the scan is
`tests/_imports.py`): an import counts wherever it stands, inside a function too, but not under `if TYPE_CHECKING:`.
Every failure names the offending import as file:line.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._imports import Import, all_imports, imports_in, module_files, within

PROTOCOL = "collabgap.protocol"
REFEREE = "collabgap.referee"
SERVICES = "collabgap.services"
SHARED = "collabgap.services.shared"
AGENT = "collabgap.services.agent"
COORDINATOR = "collabgap.services.coordinator"
# The protocol is pure data and rules, so anything can use it without starting a network or a database.
IO_LIBRARIES = frozenset({"asyncio", "httpx", "httpx2", "mcp", "a2a", "starlette", "uvicorn", "sqlalchemy", "anyio"})
# Coordinator subpackage -> the subpackages it may import; every one may import the root `_errors` and `_records`.
SUBPACKAGE_MAY_IMPORT: Mapping[str, frozenset[str]] = {
    "game": frozenset(),
    "analysis": frozenset(),
    "interop": frozenset({"game", "analysis", "runs"}),
    "runs": frozenset({"game", "analysis"}),
    "report": frozenset({"runs", "analysis", "game"}),
    "scale": frozenset({"runs", "game"}),
}
COORDINATOR_ROOT = frozenset({"_errors", "_records"})
# (importer, imported module) -> the names it may take across a boundary the rules otherwise close.
# The run file names its seats in the agent's own player-spec grammar, so every player a run file accepts is one the
# agent service can start, and `HUMAN_PLAYER` marks the seat a person takes; the run starts those services from the
# agent's own settings models (`AgentSettings`, `VendorSpec`, `HumanSettings`).
COORDINATOR_USES_OF_AGENT: Mapping[tuple[str, str], frozenset[str]] = {
    (f"{COORDINATOR}.runs._runfile", AGENT): frozenset({"HUMAN_PLAYER", "PlayerSpecError", "canonical_player",
                                                         "AgentSettings", "VendorSpec"}),
    (f"{COORDINATOR}.runs._run", AGENT): frozenset({"HUMAN_PLAYER", "HumanSettings"}),
}
# The command line and its serve function are the one program that starts every service, the referee among them:
# they may take the referee's public face (`collabgap.referee`), nothing behind it.
SERVICE_ENTRY_POINTS = frozenset({f"{SERVICES}._cli", f"{SERVICES}._serve"})


def coordinator_part(module: str) -> str | None:
    """`game`, `runs`…, `root` for `_errors`/`_records`, `init` for the coordinator package itself; None outside."""
    if module == COORDINATOR:
        return "init"
    if not within(module, COORDINATOR):
        return None
    part = module.removeprefix(COORDINATOR + ".").split(".")[0]
    return "root" if part in COORDINATOR_ROOT else part


def coordinator_may_take(edge: Import) -> bool:
    names = COORDINATOR_USES_OF_AGENT.get((edge.importer, edge.target))
    return names is not None and edge.names <= names


def failures(edges: list[Import], wrong: str) -> str:
    return f"{wrong}:\n" + "\n".join(f"  {edge}" for edge in edges)


def strongly_connected(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the strongly connected components of `graph`."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component: list[str] = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_scan_counts_imports_inside_functions_but_not_for_type_checking_only() -> None:
    source = ("from typing import TYPE_CHECKING\nfrom .. import _errors\nif TYPE_CHECKING:\n    import yaml\n"
              "else:\n    import json\ndef load() -> None:\n    from ._b import thing\n")
    modules = frozenset({"pkg.sub._a", "pkg.sub._b", "pkg._errors"})
    found = {(edge.target, edge.where, edge.lazy) for edge in imports_in("pkg.sub._a", source, "a.py", False, modules)}
    assert found == {("typing", "a.py:1", False), ("pkg._errors", "a.py:2", False), ("json", "a.py:6", False),
                     ("pkg.sub._b", "a.py:8", True)}


def test_the_cycle_search_finds_every_module_on_a_cycle() -> None:
    components = strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert sorted(components) == [["a", "b", "c"], ["d"]]


def test_protocol_imports_neither_the_services_nor_an_io_library() -> None:
    wrong = [edge for edge in all_imports() if within(edge.importer, PROTOCOL) and (
        within(edge.target, REFEREE) or within(edge.target, SERVICES) or edge.target.split(".")[0] in IO_LIBRARIES)]
    assert not wrong, failures(wrong, "the protocol imports a service or an I/O library")


def test_referee_and_services_never_import_each_other() -> None:
    wrong = [edge for edge in all_imports()
             if (within(edge.importer, REFEREE) and within(edge.target, SERVICES))
             or (within(edge.importer, SERVICES) and within(edge.target, REFEREE)
                 and not (edge.importer in SERVICE_ENTRY_POINTS and edge.target == REFEREE))]
    assert not wrong, failures(wrong, "the referee and the services import each other")


def test_shared_imports_only_the_protocol() -> None:
    wrong = [edge for edge in all_imports() if within(edge.importer, SHARED) and within(edge.target, "collabgap")
             and not within(edge.target, PROTOCOL) and not within(edge.target, SHARED)]
    assert not wrong, failures(wrong, "services.shared imports beyond the protocol")


def test_agent_and_coordinator_import_each_other_only_where_named() -> None:
    wrong = [edge for edge in all_imports()
             if (within(edge.importer, AGENT) and within(edge.target, COORDINATOR))
             or (within(edge.importer, COORDINATOR) and within(edge.target, AGENT)
                 and not coordinator_may_take(edge))]
    assert not wrong, failures(wrong, "the agent and the coordinator import each other beyond what is named")


def test_coordinator_subpackages_import_only_in_the_allowed_directions() -> None:
    wrong: list[Import] = []
    for edge in all_imports():
        source, target = coordinator_part(edge.importer), coordinator_part(edge.target)
        if source is None or target is None or source == target:
            continue
        if source == "init":
            continue  # the package's face re-exports every subpackage
        if target == "init" or source == "root" or (target != "root" and target not in SUBPACKAGE_MAY_IMPORT[source]):
            wrong.append(edge)
    assert not wrong, failures(wrong, "a coordinator module imports against the layering "
                                      "(or imports the coordinator's own __init__)")


def test_no_import_cycle() -> None:
    edges = all_imports()
    modules = set(module_files())
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for edge in edges:
        if edge.target in modules and edge.target != edge.importer:
            graph[edge.importer].add(edge.target)
    cycles = [component for component in strongly_connected(graph) if len(component) > 1]
    wrong = [edge for component in cycles for edge in edges
             if edge.importer in component and edge.target in component and edge.target != edge.importer]
    assert not cycles, failures(wrong, f"import cycles among {cycles}")
