"""Issue 4: a run file is refused before anything starts, with the line and the reason; it plans stable ids."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from collabgap.services.coordinator import ConfigError, load_run_file
from collabgap.services.coordinator.runs._plan import expand
from tests._command import COLLABGAP

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


# Issue 9 item 4: every bad run file is refused before anything starts, with file:line and the reason.

@pytest.mark.parametrize("player", ["scripted:nobody", "fixture:tck", "gemini:gemini-2.5-pro", "openai:gpt 4"])
def test_an_unknown_player_is_refused_on_its_line(tmp_path: Path, player: str) -> None:
    message = refusal(tmp_path, GOOD.replace('"scripted:cartographer"', f'"{player}"'))
    assert f"run.toml:4: agents.carto.player: Value error, unknown player {player!r}" in message
    assert "scripted:cartographer, scripted:follower, scripted:grader, openai:<model>" in message


def test_prompts_and_prices_are_found_from_the_run_files_folder(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "my-prompts").mkdir()
    (tmp_path / "my-prices.toml").write_text('version = "mine"\n[models."gpt-4.1-mini"]\ninput = 1\noutput = 2\n')
    write(tmp_path, 'prompts_dir = "my-prompts"\nprices_file = "my-prices.toml"\n' + GOOD)
    monkeypatch.chdir(tmp_path.parent)
    run = load_run_file(Path(tmp_path.name) / "run.toml", environ={"TEST_OPENAI_KEY": "k"})
    assert run.prompts_dir == (tmp_path / "my-prompts").resolve()
    assert run.prices_file == (tmp_path / "my-prices.toml").resolve()


def test_a_missing_prompts_folder_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, 'prompts_dir = "nowhere"\n' + GOOD)
    assert f"run.toml:1: prompts_dir: prompt directory {tmp_path / 'nowhere'} does not exist" in message


@pytest.mark.parametrize(("prices", "reason"), [
    (None, "No such file"),
    ('[models."gpt-4.1"]\ninput = 2\noutput = 8\n', "'version'"),
    ('version = "x"\n[models."gpt-4.1"]\ninput = "two"\noutput = 8\n', "could not convert"),
    ('version = "x"\n[models."gpt-4.1"]\ninput = -2\noutput = 8\n', "negative price for gpt-4.1"),
    ("version = [", "Invalid"),
])
def test_a_missing_or_invalid_price_file_is_refused(tmp_path: Path, prices: str | None, reason: str) -> None:
    if prices is not None:
        (tmp_path / "prices.toml").write_text(prices)
    message = refusal(tmp_path, 'name = "t"\nprices_file = "prices.toml"\n' + GOOD.removeprefix('name = "t"\n'))
    assert "run.toml:2: prices_file: price table" in message and reason in message


def test_a_condition_repeated_in_another_block_is_refused_on_that_block(tmp_path: Path) -> None:
    text = GOOD + '\n[[conditions]]\nkind = "pair"\npairing = "homogeneous"\nagents = ["gpt"]\n'
    message = refusal(tmp_path, text)
    assert "run.toml:17: conditions[1]: plays pair/referee/gpt+gpt again, already planned by conditions[0]" in message


def test_a_seating_repeated_in_one_block_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD.replace('agents = ["carto", "gpt"]', 'agents = ["carto", "carto"]'))
    assert "run.toml:13: conditions[0]: plays pair/referee/carto+carto again, already planned earlier" in message


def test_a_plan_over_the_limit_is_refused_with_its_size(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD.replace('name = "t"', 'name = "t"\nrepetitions = 2\nmax_episodes = 20'))
    assert ("run.toml:3: max_episodes: the run plans 24 episodes (4 cells × 3 mazes × 2 repetitions), more than "
            "max_episodes = 20") in message


def test_the_default_limit_is_a_hundred_thousand_episodes(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD.replace("count = 3", "count = 25001"))
    assert "run.toml:10: max_episodes: the run plans 100,004 episodes" in message
    assert "more than max_episodes = 100,000" in message


@pytest.mark.parametrize(("content", "reason"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "run.toml:1: not a run file: byte 0 is not UTF-8 text"),
    (b'name = "t"\n\xff\xfe', "run.toml:2: not a run file: byte 11 is not UTF-8 text"),
    (b"", "run.toml: the run file is empty"),
    (b"\n  \n", "run.toml: the run file is empty"),
])
def test_a_binary_or_empty_file_gets_a_message(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "run.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=reason):
        load_run_file(path, environ={})


def test_a_folder_is_not_a_run_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read run file .*: Is a directory"):
        load_run_file(tmp_path, environ={})


# Issue 9 item 2: a dollar cap with a model that has no price is refused, naming the model.

CAPPED = GOOD + "\n[budget]\nmax_usd = 5.0\n"


def test_a_dollar_cap_with_an_unpriced_model_is_refused_naming_it(tmp_path: Path) -> None:
    text = CAPPED.replace("openai:gpt-4.1-mini", "openai:gpt-7-turbo") + (
        '\n[agents.judge]\nplayer = "anthropic:claude-unknown-1"\napi_key_env = "TEST_OPENAI_KEY"\n')
    message = refusal(tmp_path, text)
    assert "run.toml:7: agents.gpt.player: model 'gpt-7-turbo' has no price in the packaged price table" in message
    assert "run.toml:21: agents.judge.player: model 'claude-unknown-1' has no price" in message
    assert "budget.max_usd cannot count" in message and "`url`" in message


def test_a_dollar_cap_accepts_dated_ids_and_the_users_own_prices(tmp_path: Path) -> None:
    dated = CAPPED.replace("openai:gpt-4.1-mini", "openai:gpt-4.1-mini-2025-04-14")
    assert load_run_file(write(tmp_path, dated), environ={"TEST_OPENAI_KEY": "k"}).budget.max_usd == 5.0
    (tmp_path / "prices.toml").write_text('version = "mine"\n[models."gpt-7-turbo"]\ninput = 1\noutput = 2\n')
    own = 'prices_file = "prices.toml"\n' + CAPPED.replace("openai:gpt-4.1-mini", "openai:gpt-7-turbo")
    assert load_run_file(write(tmp_path, own), environ={"TEST_OPENAI_KEY": "k"}).agents["gpt"].model == "gpt-7-turbo"


def test_without_a_dollar_cap_an_unpriced_model_may_play(tmp_path: Path) -> None:
    run = load_run_file(write(tmp_path, GOOD.replace("gpt-4.1-mini", "gpt-7-turbo")), environ={"TEST_OPENAI_KEY": "k"})
    assert run.budget.max_usd is None


# Issue 9 item 3: the [errors] policy reaches every planned episode.

@pytest.mark.parametrize(("table", "policy"), [("", "score"), ('\n[errors]\nagent = "exclude"\n', "exclude")])
def test_the_agent_error_policy_reaches_every_episode(tmp_path: Path, table: str, policy: str) -> None:
    path = write(tmp_path, GOOD + table)
    plan = expand(load_run_file(path, environ={"TEST_OPENAI_KEY": "k"}), tmp_path, lambda name: f"http://{name}")
    assert len(plan) == 12 and {spec.agent_errors for spec in plan} == {policy}


def test_an_unknown_agent_error_policy_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, GOOD + '\n[errors]\nagent = "ignore"\n')
    assert "run.toml:18: errors.agent: Input should be 'score' or 'exclude'" in message


def test_a_changed_cap_or_limit_is_the_same_run_but_a_changed_policy_is_not(tmp_path: Path) -> None:
    environ = {"TEST_OPENAI_KEY": "k"}
    snapshot = load_run_file(write(tmp_path, GOOD), environ=environ).snapshot()
    raised = load_run_file(write(tmp_path, 'max_episodes = 50\n' + CAPPED), environ=environ).snapshot()
    excluded = load_run_file(write(tmp_path, GOOD + '[errors]\nagent = "exclude"\n'), environ=environ).snapshot()
    assert raised == snapshot and excluded["errors"] == {"agent": "exclude"} != snapshot["errors"]


def test_the_command_prints_the_refusal_and_starts_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, f'runs_dir = "{tmp_path / "runs"}"\n' + CAPPED.replace("gpt-4.1-mini", "gpt-7-turbo"))
    done = subprocess.run([*COLLABGAP, "run", str(path)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, "TEST_OPENAI_KEY": "k"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    printed = " ".join(done.stderr.split())  # the terminal wraps long lines
    assert f"error: {path}:8: agents.gpt.player: model 'gpt-7-turbo' has no price" in printed
    assert not (tmp_path / "runs").exists()


def test_the_command_refuses_a_binary_file_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_bytes(bytes(range(256)))
    done = subprocess.run([*COLLABGAP, "run", str(path), "--dry-run"], capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {path}:") and "not a run file" in done.stderr
