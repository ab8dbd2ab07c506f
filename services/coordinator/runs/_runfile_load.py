"""Reading a run file: TOML parsed, validated against `RunFile`, then checked for what would otherwise fail once
services run (key variables, prompts, prices, repeated cells, the mazes, the plan's size); every refusal names
the file, the line and the reason.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections import Counter
from pathlib import Path

import pydantic

from collabgap.protocol import CollabgapError, generate_maze

from .._errors import ConfigError
from ..game._prices import PriceTable
from ..game._prompts import Prompts
from ._plan import plan_size, repeated_cell
from ._runfile import RunFile


def _line_of(text: str, location: tuple[int | str, ...]) -> int | None:
    """The line a validation error points at: each named table or key in turn, the n-th block of an array of
    tables (`[[conditions]]`) where an index follows its name; the nearest one found."""
    lines = text.splitlines()
    start, found = 0, None
    for position, part in enumerate(location):
        if not isinstance(part, str):
            continue
        after = location[position + 1] if position + 1 < len(location) else None
        nth = after if isinstance(after, int) else 0
        name = re.escape(part)
        here = re.compile(rf"^\s*\"?{name}\"?\s*=|^\s*\[\[?\s*(?:[^\]]*\.)?\"?{name}\"?\s*(?:\.|\])")
        matches = [number for number, line in enumerate(lines[start:], start=start) if here.match(line)]
        if len(matches) <= nth:
            break
        start = matches[nth]
        found = start + 1
    return found


def _label(location: tuple[int | str, ...]) -> str:
    """`agents.gpt.player`, `conditions[1].kind`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location).lstrip(".") or "file"


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read run file {path}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not a run file: byte {exc.start} is not UTF-8 text "
                          "(a run file is TOML, in UTF-8)") from exc
    if not text.strip():
        raise ConfigError(f"{path}: the run file is empty (docs/running.md shows what it holds)")
    return text


def _beside(path: Path, name: Path | None) -> Path | None:
    """A path the run file names, from the run file's folder."""
    return None if name is None or name.is_absolute() else (path.parent / name).resolve()


def load_run_file(path: Path, *, environ: dict[str, str] | None = None) -> RunFile:
    """Read, validate and check a run file; nothing starts unless all of it can work.

    Besides the schema, it checks what would otherwise fail once services run: the key variables, the prompt
    folder and price file (made absolute, from the run file's folder), repeated cells, the mazes, the plan's size
    against `max_episodes`, and that a dollar cap can price every LLM player's model.

    Raises:
        ConfigError: with the file, the line where it can be found, and the reason.
    """
    environ = dict(os.environ) if environ is None else environ
    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        run = RunFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            line = _line_of(text, error["loc"])
            reason = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"{path}:{line or '?'}: {_label(error['loc'])}: {reason}")
        raise ConfigError("run file refused:\n" + "\n".join(problems)) from exc

    def problem(location: tuple[int | str, ...], reason: str, *, line_at: tuple[int | str, ...] = ()) -> str:
        return f"{path}:{_line_of(text, line_at or location) or '?'}: {_label(location)}: {reason}"

    run = run.model_copy(update={"prompts_dir": _beside(path, run.prompts_dir),
                                 "prices_file": _beside(path, run.prices_file)})
    if run.prompts_dir is not None:
        try:
            Prompts.load(run.prompts_dir)
        except (ConfigError, OSError, ValueError) as exc:
            raise ConfigError(problem(("prompts_dir",), f"{exc} (a folder, from the run file's folder)")) from exc
    try:
        prices = PriceTable.load(run.prices_file)
    except ConfigError as exc:
        raise ConfigError(problem(("prices_file",), f"{exc} (a file, from the run file's folder)")) from exc
    if run.referee is not None and not environ.get(run.referee.token_env):
        raise ConfigError(problem(("referee",), f"set {run.referee.token_env} to the referee's coordinator token"))
    for name, agent in run.agents.items():
        for variable in (agent.key_env, agent.token_env):
            if variable and not environ.get(variable):
                raise ConfigError(problem(("agents", name), f"set {variable} in the environment (the run file "
                                                            "names it; it never holds keys)"))
    if (repeated := repeated_cell(run)) is not None:
        index, cell, first = repeated
        where = "earlier in this block" if first == index else f"by conditions[{first}]"
        raise ConfigError(problem(("conditions", index), f"plays {cell} again, already planned {where}; "
                                                         "remove the repeat"))
    try:
        mazes = run.maze_params(path.parent)
    except (OSError, ValueError) as exc:
        raise ConfigError(problem(("mazes",), str(exc))) from exc
    if not mazes:
        raise ConfigError(problem(("mazes",), "the run has no mazes"))
    if twice := [maze_id for maze_id, count in Counter(m.maze_id for m in mazes).items() if count > 1]:
        raise ConfigError(problem(("mazes",), f"maze {twice[0]} is listed twice; its episodes would be played twice"))
    if (size := plan_size(run, len(mazes))) > run.max_episodes:
        cells = size // (len(mazes) * run.repetitions)
        repetitions = f"{run.repetitions} repetition{'s' if run.repetitions > 1 else ''}"
        raise ConfigError(problem(
            ("max_episodes",), f"the run plans {size:,} episodes ({cells:,} cells × {len(mazes):,} mazes × "
                               f"{repetitions}), more than max_episodes = {run.max_episodes:,}; plan fewer, or "
                               "raise max_episodes",
            line_at=("max_episodes",) if "max_episodes" in data else ("mazes",)))
    try:
        for maze in mazes:
            generate_maze(maze)
    except (CollabgapError, ValueError) as exc:
        raise ConfigError(problem(("mazes",), str(exc))) from exc
    if run.budget.max_usd is not None:
        table = run.prices_file or "the packaged price table"
        if unpriced := [problem(("agents", name, "player"), f"model {agent.model!r} has no price in {table}")
                        for name, agent in run.agents.items() if agent.model and not prices.priced(agent.model)]:
            raise ConfigError("\n".join(unpriced) + "\nbudget.max_usd cannot count what an unpriced model costs: "
                              "add its price to a prices_file, or remove the dollar cap. (Agents given by `url` "
                              "name their model only when they answer; the run checks those then.)")
    return run
