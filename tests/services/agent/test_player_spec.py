"""Player specs (issue 12 part 5): `openai/MODEL` reads as `openai:MODEL` everywhere, and a bad spec is answered
with the accepted forms, by the agent service, by run files and by `collabgap agent serve`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from collabgap.services.agent import AgentSettings, PlayerSpecError, create_agent_app, parse_player
from collabgap.services.coordinator import ConfigError, load_run_file
from tests._command import COLLABGAP

FORMS = ("scripted:cartographer, scripted:follower, scripted:grader, openai:<model>, anthropic:<model> "
         "(or openai/<model>, anthropic/<model>)")


@pytest.mark.parametrize(("spec", "kind", "name"), [
    ("openai/gpt-4.1-mini", "openai", "gpt-4.1-mini"),
    ("openai:gpt-4.1-mini", "openai", "gpt-4.1-mini"),
    ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5"),
    ("openai/meta-llama/llama-3.1-8b", "openai", "meta-llama/llama-3.1-8b"),
    ("openai:org/model:v2", "openai", "org/model:v2"),
    ("scripted:follower", "scripted", "follower"),
])
def test_both_spellings_name_the_same_player(spec: str, kind: str, name: str) -> None:
    assert parse_player(spec) == (kind, name)
    assert AgentSettings(player=spec, public_url="http://agent.test").player == f"{kind}:{name}"


@pytest.mark.parametrize("spec", ["gpt-4o", "gemini/gemini-2.5-pro", "openai/", "openai:gpt 4", "scripted/follower",
                                  "scripted:nobody", "fixture:tck"])
def test_a_bad_spec_is_refused_with_the_accepted_forms(spec: str) -> None:
    with pytest.raises(PlayerSpecError) as caught:
        parse_player(spec)
    assert str(caught.value) == f"unknown player {spec!r}; accepted: {FORMS}"


def test_the_tck_fixture_is_a_spec_only_an_agent_service_serves() -> None:
    assert parse_player("fixture:tck", tck_fixture=True) == ("fixture", "tck")
    assert AgentSettings(player="fixture:tck", public_url="http://agent.test").player == "fixture:tck"


def test_the_agent_service_refuses_a_bad_spec_before_it_builds_anything() -> None:
    with pytest.raises(PlayerSpecError, match="accepted: scripted:cartographer"):
        create_agent_app(AgentSettings(player="openai/", public_url="http://agent.test"))


def test_a_run_file_keeps_the_colon_form_of_a_slash_spec(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('name = "t"\n\n[agents.claude]\nplayer = "anthropic/claude-sonnet-4-5"\napi_key_env = "K"\n\n'
                    '[[conditions]]\nkind = "solo-full"\nagents = ["claude"]\n')
    run = load_run_file(path, environ={"K": "key"})
    assert run.agents["claude"].player == "anthropic:claude-sonnet-4-5"
    assert (run.agents["claude"].model, run.agents["claude"].key_env) == ("claude-sonnet-4-5", "K")


def test_a_run_file_answers_a_bad_spec_with_the_accepted_forms(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('name = "t"\n\n[agents.g]\nplayer = "gemini/gemini-2.5-pro"\n\n'
                    '[[conditions]]\nkind = "solo-full"\nagents = ["g"]\n')
    with pytest.raises(ConfigError) as caught:
        load_run_file(path, environ={})
    assert f"run.toml:4: agents.g.player: Value error, unknown player 'gemini/gemini-2.5-pro'; accepted: {FORMS}" \
        in str(caught.value)


def test_agent_serve_answers_a_bad_spec_in_one_line_with_the_accepted_forms() -> None:
    done = subprocess.run([*COLLABGAP, "agent", "serve", "--player", "gemini/gemini-2.5-pro", "--port", "1"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr == f"error: unknown player 'gemini/gemini-2.5-pro'; accepted: {FORMS}\n"


def test_agent_serve_reads_a_slash_spec_as_that_vendor_and_model() -> None:
    """The key check runs before anything is served, so its message shows how the spec was read."""
    environ = {name: value for name, value in os.environ.items() if name != "OPENAI_API_KEY"}
    done = subprocess.run([*COLLABGAP, "agent", "serve", "--player", "openai/gpt-4.1-mini", "--port", "1"],
                          capture_output=True, text=True, timeout=60, env=environ)
    assert done.returncode == 2
    assert done.stderr == "error: set OPENAI_API_KEY to call openai model 'gpt-4.1-mini'\n"
