"""A grader's answer, read: the YAML route of the paper's grader prompt (Fig. A.6) as cells for the referee."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .._errors import GraderError


def parse_grading(text: str) -> tuple[list[str], dict[str, object]]:
    """The route and schema of a grader's YAML answer (fenced or bare), in the paper's shape (Fig. A.6).

    The route is the cells (or directions) of the `turn_type: move` entries, in turn order; `consider` entries
    are dropped. Each cell becomes one entry `"a, b"` for the referee. The older shape, `schema` and a `route`
    list of plain cells or directions, is read too.

    Raises:
        GraderError: the answer is empty, is not YAML, or has no `route` list.
    """
    if not text.strip():
        raise GraderError("the grader's answer is empty")
    fenced = re.search(r"```[A-Za-z]*[ \t]*\n(.*?)(?:```|$)", text, re.DOTALL)
    try:
        data = yaml.safe_load(fenced.group(1) if fenced else text)
    except yaml.YAMLError as exc:
        raise GraderError(f"the grader's answer is not YAML: {str(exc)[:300]}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("route"), list):
        raise GraderError("the grader's answer has no `route` list")
    items = data["route"]
    entries = sorted((item for item in items if isinstance(item, dict)), key=_turn)
    moves = [item.get("coordinates") for item in entries if str(item.get("turn_type", "move")).lower() == "move"]
    steps = [*moves, *(item for item in items if not isinstance(item, dict))]
    schema = data.get("route_schema", data.get("schema"))
    return ([cell for step in steps for cell in _cells(step)],
            {str(k): v for k, v in schema.items()} if isinstance(schema, dict) else {})


def _turn(item: dict[Any, Any]) -> float:
    """An entry's turn number; entries without one keep their place at the end."""
    try:
        return float(item.get("turn"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("inf")


def _cells(step: object) -> list[str]:
    """The route entries of one move: `[[2, 1], [2, 2]]`, `[2, 1]`, `"(2, 1)"`, `["down"]` or `"down"`."""
    if isinstance(step, list) and step and all(isinstance(part, list) for part in step):
        return [", ".join(str(v) for v in part) for part in step]
    if isinstance(step, list) and len(step) == 2 and not any(isinstance(v, (list, dict)) for v in step):
        return [", ".join(str(v) for v in step)]
    if isinstance(step, list):
        return [cell for part in step for cell in _cells(part)]
    return [] if step is None or isinstance(step, dict) else [str(step)]
