"""Issue 4: a run file is refused before anything starts, with the line and the reason; it plans stable ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.coordinator import ConfigError, load_run_file
from services.coordinator._plan import expand

EXAMPLE = Path(__file__).parents[3] / "examples" / "scripted-run.toml"

GOOD = """\
name = "t"

[agents.carto]
player = "scripted:cartographer"

[agents.gpt]
player = "openai:gpt-4.1-mini"
api_key_env = "TEST_OPENAI_KEY"

[mazes]
count = 3

[[conditions]]
kind = "pair"
agents = ["carto", "gpt"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def refusal(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_run_file(write(tmp_path, text), environ={"TEST_OPENAI_KEY": "k"} if environ is None else environ)
    return str(caught.value)


def test_a_good_run_file_loads(tmp_path: Path) -> None:
    run = load_run_file(write(tmp_path, GOOD), environ={"TEST_OPENAI_KEY": "k"})
    assert run.agents["gpt"].key_env == "TEST_OPENAI_KEY"
    assert "TEST_OPENAI_KEY" in str(run.snapshot()) and "k" not in run.snapshot()["agents"]["gpt"].values()


def test_unknown_key_is_refused_with_its_line(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD.replace('[mazes]\ncount = 3', '[mazes]\ncount = 3\ncolour = "red"'))
    assert "run.toml:12: mazes.colour: unknown key" in message


def test_bad_url_is_refused_with_its_line(tmp_path: Path) -> None:
    text = GOOD + '\n[agents.remote]\nurl = "not a url"\n'
    assert "run.toml:18: agents.remote.url" in refusal(tmp_path, text)


def test_impossible_maze_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD.replace("count = 3", "count = 3\nsize = 3\nmin_path = 20\nmax_path = 25"))
    assert "mazes" in message and "route of 20 moves" in message


def test_missing_key_variable_is_refused_naming_it(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD, environ={})
    assert "run.toml:6: agents.gpt: set TEST_OPENAI_KEY" in message


def test_unknown_agent_in_a_condition_is_refused(tmp_path: Path) -> None:
    assert "unknown agents: nobody" in refusal(tmp_path, GOOD.replace('["carto", "gpt"]', '["carto", "nobody"]'))


def test_paper_mode_needs_a_grader(tmp_path: Path) -> None:
    assert "set `grader`" in refusal(tmp_path, GOOD.replace('kind = "pair"', 'kind = "pair"\nmode = "paper"'))


def test_the_example_plans_every_condition_with_stable_ids() -> None:
    run = load_run_file(EXAMPLE, environ={})
    plan = expand(run, EXAMPLE.parent, lambda name: f"http://{name}")
    again = expand(run, EXAMPLE.parent, lambda name: f"http://{name}")
    assert [s.episode_id for s in plan] == [s.episode_id for s in again]
    kinds = {(s.condition, s.mode, s.relay.kind if s.relay else None) for s in plan}
    assert kinds == {("solo-full", "referee", None), ("solo-split", "referee", None), ("pair", "referee", None),
                     ("pair", "paper", None), ("pair", "referee", "primer"), ("pair", "referee", "recovery")}
    # 4 mazes: 2 + 2 solo players, 4 ordered pairs, 2 homogeneous paper pairs, 2 + 2 relay K values
    assert len(plan) == 4 * (2 + 2 + 4 + 2 + 2 + 2)
    primer = next(s for s in plan if s.relay and s.relay.kind == "primer")
    assert (primer.seat_a.name, primer.seat_b and primer.seat_b.name) == ("cartographer", "follower")
    assert primer.relay is not None and primer.relay.seat_a is not None and primer.relay.seat_a.name == "follower"
    recovery = next(s for s in plan if s.relay and s.relay.kind == "recovery")
    assert recovery.seat_a.name == "follower" and recovery.relay is not None
    assert recovery.relay.seat_b is not None and recovery.relay.seat_b.name == "cartographer"
