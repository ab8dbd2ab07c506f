"""Team conditions in run files and the team prompts (issue 14, parts 2 and 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabgap.protocol import SeatStart
from collabgap.services.agent.scripted import team_size
from collabgap.services.coordinator import ConfigError, MessageRecord, Prompts, load_run_file
from collabgap.services.coordinator.runs._plan import expand

RUN = """\
name = "t"

[agents.carto]
player = "scripted:cartographer"

[agents.follower]
player = "scripted:follower"

[mazes]
count = 2

[[conditions]]
kind = "team"
{condition}
"""
MAP = ["@.?", "?..", "..*"]


def load(tmp_path: Path, condition: str) -> list[str]:
    path = tmp_path / "run.toml"
    path.write_text(RUN.format(condition=condition))
    return [spec.episode_id for spec in expand(load_run_file(path), tmp_path, lambda name: f"http://{name}")]


def refusal(tmp_path: Path, condition: str) -> str:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, condition)
    return str(refused.value)


def test_a_homogeneous_team_plays_one_team_per_agent_and_size(tmp_path: Path) -> None:
    ids = load(tmp_path, 'agents = ["carto", "follower"]\npairing = "homogeneous"\nsize = [3, 4]')
    assert len(ids) == 2 * 2 * 2 and ids == load(tmp_path, 'agents = ["carto", "follower"]\npairing = '
                                                           '"homogeneous"\nsize = [3, 4]')  # stable ids
    assert {episode.rsplit("/", 2)[0] for episode in ids} == {
        "team/referee/carto+carto+carto", "team/referee/carto+carto+carto+carto",
        "team/referee/follower+follower+follower", "team/referee/follower+follower+follower+follower"}


def test_an_explicit_team_seats_its_agents_in_order_and_speaks_in_the_order_set(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN.format(condition='pairing = "explicit"\nteams = [["follower", "carto", "carto"]]\n'
                                         'order = ["B", "C", "A"]'))
    spec = expand(load_run_file(path), tmp_path, lambda name: f"http://{name}")[0]
    assert [holder.name for holder in spec.seats().values()] == ["follower", "carto", "carto"]
    assert spec.speaking_order() == ("B", "C", "A") and spec.condition == "team"
    assert spec.episode_id.startswith("team/referee/follower+carto+carto/order-BCA/")


@pytest.mark.parametrize(("condition", "reason"), [
    ('agents = ["carto"]', "a team's pairing is"),
    ('agents = ["carto"]\npairing = "homogeneous"', "needs `agents` and `size`"),
    ('pairing = "explicit"\nteams = [["carto", "carto"]]', "at least 3 items"),
    ('agents = ["carto"]\npairing = "homogeneous"\nsize = [7]', "less than or equal to 6"),
    ('agents = ["carto"]\npairing = "homogeneous"\nsize = [3, 4]\norder = ["C", "B", "A"]', "teams have 3 or 4"),
    ('pairing = "explicit"\nteams = [["carto", "nobody", "carto"]]', "unknown agents: nobody"),
])
def test_a_team_condition_that_cannot_be_planned_is_refused(tmp_path: Path, condition: str, reason: str) -> None:
    assert reason in refusal(tmp_path, condition)


def test_size_and_order_belong_to_teams(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(RUN.format(condition="").replace('kind = "team"', 'kind = "pair"\nagents = ["carto"]\nsize = [3]'))
    with pytest.raises(ConfigError, match="belong to kind"):
        load_run_file(path)


def start(mode: str, seat: str = "B") -> SeatStart:
    return SeatStart(game_id="g", seat=seat, condition="team", speaks_first=False, message_limit=50, size=3,
                     maps=[MAP], legend="", mode=mode, team=["A", "B", "C", "D"],
                     partner_text="[agent 1]: Hello")


def test_the_paper_team_prompt_keeps_the_papers_words_for_a_team_of_four() -> None:
    task, relayed = Prompts.load().start(start("paper"))
    assert task.startswith('# Task\nYou are going to play the collaborative maze game "ACTI" together with three '
                           "other agents.")
    assert "You are agent 2. Each message from another agent starts with its name, e.g. \"[agent 1]:\"." in task
    assert "once all agents agree" in task and relayed == "[agent 1]: Hello"
    assert team_size(task) == 4  # what the fake vendor's models read


def test_the_referee_team_prompt_names_the_team_and_the_labels() -> None:
    task, relayed = Prompts.load().start(start("referee", seat="C"))
    assert "as one of a team of four agents. You are agent 3." in task and "MOVE: <direction>" in task
    assert relayed == "The other agents spoke first. Their messages:\n[agent 1]: Hello"
    assert team_size(task) == 4


def test_the_team_grader_reads_every_agent() -> None:
    messages = [MessageRecord(index=i, seat=seat, text=f"hi from {seat}", latency_s=0.0)
                for i, seat in enumerate(["A", "B", "C"])]
    prompt = Prompts.load().grader(messages, solo=False, seats=3)
    assert "a dialogue between three agents" in prompt and '"<agent_1|agent_2|agent_3>|all"' in prompt
    assert prompt.endswith("[agent_1]: hi from A\n\n[agent_2]: hi from B\n\n[agent_3]: hi from C")
