"""Issue 12, part 1: `collabgap view` over a real store: runs played by real services, with agent failures and
platform errors in them, read back through the app over HTTP (httpx's ASGI transport)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from collabgap.services.coordinator import EpisodeRecord, MessageRecord, Store, analyze, execute_run, load_run_file
from collabgap.services.coordinator.report._view import ViewSource, create_view_app
from tests._serving import serving
from tests.conftest import Stack
from tests.system._rude_agent import app as rude_app

TOKEN_ENV = "COLLABGAP_VIEW_TEST_REFEREE_TOKEN"
WRONG_TOKEN_ENV = "COLLABGAP_VIEW_TEST_WRONG_TOKEN"
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


@dataclass(frozen=True)
class Runs:
    """A runs folder holding `mixed` (scripted players, and a rude agent whose failures are scored and flagged)
    and `broken` (its referee refuses the run's token: every episode a platform error)."""

    folder: Path
    mixed: list[EpisodeRecord]
    broken: list[EpisodeRecord]


def _run_file(folder: Path, name: str, referee: str, token_env: str, agents: dict[str, str], body: str) -> Path:
    entries = "".join(f'[agents.{agent}]\nurl = "{url}"\n' for agent, url in agents.items())
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\nruns_dir = "{folder}"\nretries = 0\n[referee]\nurl = "{referee}"\n'
                    f'token_env = "{token_env}"\n{entries}[mazes]\ncount = 2\nsize = 5\nseed = 7\n{body}'
                    "[limits]\nmessages = 30\nturn_timeout_s = 5\n")
    return path


def play_runs(stack: Stack, folder: Path) -> Runs:
    """Play both runs into `folder` through `execute_run`, as `collabgap run` does."""
    scripted = {"cartographer": stack.cartographer.url, "follower": stack.follower.url}
    with serving(rude_app) as rude, pytest.MonkeyPatch.context() as env:
        env.setenv(TOKEN_ENV, stack.token.get_secret_value())
        env.setenv(WRONG_TOKEN_ENV, "not-the-referees-token")
        mixed = _run_file(folder, "mixed", stack.referee_url, TOKEN_ENV, {**scripted, "rude": f"{rude}/silent"},
                          '[[conditions]]\nkind = "solo-full"\nagents = ["cartographer"]\n[[conditions]]\n'
                          'kind = "pair"\npairing = "explicit"\npairs = [["cartographer", "follower"], '
                          '["follower", "rude"]]\n')
        broken = _run_file(folder, "broken", stack.referee_url, WRONG_TOKEN_ENV, scripted,
                           '[[conditions]]\nkind = "solo-full"\nagents = ["cartographer"]\n')
        for path in (mixed, broken):
            execute_run(load_run_file(path), path)
    with Store.open(f"sqlite:///{folder / 'mixed' / 'store.db'}") as store:
        mixed_records = store.episodes("mixed")
    with Store.open(f"sqlite:///{folder / 'broken' / 'store.db'}") as store:
        broken_records = store.episodes("broken")
    return Runs(folder, mixed_records, broken_records)


def save_hostile_episode(folder: Path, like: EpisodeRecord) -> EpisodeRecord:
    """Store a copy of `like` whose agent-written text, names and error are markup, as a hostile agent might write."""
    message = MessageRecord(index=0, seat="A", player=HOSTILE, text=f"MOVE: down {HOSTILE}", latency_s=0.1)
    assert like.error is not None
    record = like.model_copy(update={
        "spec": like.spec.model_copy(update={"episode_id": f"hostile/{HOSTILE}/r0"}), "messages": [message],
        "error": like.error.model_copy(update={"message": HOSTILE})})
    with Store.open(f"sqlite:///{folder / 'mixed' / 'store.db'}") as store:
        assert store.save_episode("mixed", record)
    return record


@pytest.fixture(scope="module")
def runs(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return play_runs(stack, tmp_path_factory.mktemp("runs"))


@pytest.fixture
async def view(runs: Runs) -> AsyncIterator[httpx.AsyncClient]:
    app = create_view_app(ViewSource(runs.folder))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        yield client


def shown(page: str) -> int:
    """How many episodes the episode list says match."""
    found = re.search(r'id="shown">Episodes (?:\d+–\d+|none) of (\d+)<', page)
    assert found is not None, page
    return int(found.group(1))


def links(page: str, prefix: str) -> list[str]:
    return [html.unescape(href) for href in re.findall(rf'href="({re.escape(prefix)}[^"]*)"', page)]


async def test_the_runs_list_names_each_run_with_its_progress_and_status(view: httpx.AsyncClient,
                                                                         runs: Runs) -> None:
    page = (await view.get("/")).text
    assert 'href="/runs/mixed"' in page and 'href="/runs/broken"' in page
    progress = {run["run_id"]: run for run in (await view.get("/api/runs")).json()}
    assert progress["mixed"]["stored"] >= len(runs.mixed) == progress["mixed"]["planned"] == 6
    broken = {"errors": 2, "status": "finished with errors", "progress": "2 / 2"}
    assert progress["broken"] | broken == progress["broken"]


async def test_filters_narrow_the_episode_list(view: httpx.AsyncClient, runs: Runs) -> None:
    every = shown((await view.get("/runs/mixed/episodes")).text)
    flagged = [r for r in runs.mixed if r.error is not None]
    assert flagged and all(r.error is not None and r.error.blame == "agent:rude" for r in flagged)
    assert shown((await view.get("/runs/mixed/episodes", params={"blame": "agent:rude"})).text) == len(flagged) < every
    assert shown((await view.get("/runs/mixed/episodes", params={"condition": "solo-full"})).text) == 2
    assert shown((await view.get("/runs/mixed/episodes", params={"agent": "follower", "mode": "referee"})).text) == 4
    assert shown((await view.get("/runs/mixed/episodes", params={"error_kind": "protocol_violation",
                                                                  "agent": "cartographer"})).text) == 0
    errors = (await view.get("/runs/broken/episodes", params={"status": "error", "blame": "platform"})).text
    assert shown(errors) == len(runs.broken) == 2


async def test_search_finds_an_episode_by_what_was_said(view: httpx.AsyncClient, runs: Runs) -> None:
    said = next(r for r in runs.mixed if r.spec.condition == "pair" and r.error is None)
    words = said.messages[-1].text.split("\n")[0][:40]
    found = (await view.get("/runs/mixed/episodes", params={"q": words.upper()})).text
    assert said.spec.episode_id in html.unescape(found) and shown(found) >= 1
    assert shown((await view.get("/runs/mixed/episodes", params={"q": "nobody wrote 100% of_this"})).text) == 0


async def test_each_cell_of_the_run_page_links_to_exactly_its_episodes(view: httpx.AsyncClient, runs: Runs) -> None:
    page = (await view.get("/runs/mixed")).text
    assert "<svg" in page and 'id="cells-table"' in page
    cells = analyze(runs.mixed).cells
    hrefs = list(dict.fromkeys(links(page, "/runs/mixed/episodes?cell=")))
    assert len(hrefs) == len(cells) == 3
    for cell, href in zip(cells, hrefs, strict=True):
        assert shown((await view.get(href)).text) == cell.episodes


async def test_sorting_orders_the_list(view: httpx.AsyncClient) -> None:
    page = (await view.get("/runs/mixed/episodes", params={"sort": "weighted", "desc": "1",
                                                           "condition": "pair"})).text
    scores = [float(s) for s in re.findall(r'<td class="">(-?\d\.\d{3})</td>', page)]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)
    assert (await view.get("/runs/mixed/episodes", params={"sort": "nonsense"})).status_code == 400


async def test_an_agent_failure_keeps_its_maze_moves_and_blame(view: httpx.AsyncClient, runs: Runs) -> None:
    failed = next(r for r in runs.mixed if r.flagged)
    assert failed.maze and failed.views and failed.score is not None and len(failed.moves) == failed.score.moves
    page = (await view.get(f"/runs/mixed/episode/{failed.spec.episode_id}")).text
    assert 'id="episode-error"' in page and "agent:rude" in page and "protocol_violation" in page
    assert '"maze":["' + failed.maze[0] in page and '<script src="/static/viewer.js">' in page
    assert (await view.get("/static/viewer.js")).status_code == 200


async def test_a_platform_error_shows_its_blame_and_says_what_it_lacks(view: httpx.AsyncClient, runs: Runs) -> None:
    error = runs.broken[0]
    assert error.error is not None and error.error.platform
    page = (await view.get(f"/runs/broken/episode/{error.spec.episode_id}")).text
    assert "Platform error (not scored)" in page and "<code>platform</code>" in page
    assert html.escape(error.error.message[:60]) in page
    assert (await view.get("/runs/broken/episode/no/such/episode")).status_code == 404


async def test_agent_written_text_is_escaped_everywhere(view: httpx.AsyncClient, runs: Runs) -> None:
    hostile = save_hostile_episode(runs.folder, next(r for r in runs.mixed if r.flagged))
    listed = (await view.get("/runs/mixed/episodes", params={"q": "onerror"})).text
    [href] = links(listed, "/runs/mixed/episode/hostile")
    page = (await view.get(href)).text
    for text in (listed, page):
        assert "<script>alert" not in text and "<img src=x" not in text
    assert html.escape(HOSTILE) in page and "\\u003cscript\\u003e" in page  # shown as text; inert in the JSON
    assert (await view.get(href)).headers["content-security-policy"].startswith("default-src 'none'")
    assert hostile.spec.episode_id in html.unescape(listed)


async def test_the_view_answers_only_loopback_host_names(view: httpx.AsyncClient) -> None:
    assert (await view.get("/", headers={"Host": "attacker.example"})).status_code == 400


async def test_an_empty_folder_lists_no_runs_and_gains_no_files(tmp_path: Path) -> None:
    app = create_view_app(ViewSource(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        assert "No runs here yet." in (await client.get("/")).text
        assert (await client.get("/runs/anything")).status_code == 404
    assert list(tmp_path.iterdir()) == []  # read-only: the view created nothing
