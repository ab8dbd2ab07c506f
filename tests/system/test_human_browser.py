"""A person takes a seat from a web browser (issue 15): runs started from run files with `player = "human"`, and
the person played by headless Chromium, reading the page and clicking as a person would.

Needs Debian's `chromium` and `chromium-driver`, as tests/system/test_report_browser.py does.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from collabgap.services.coordinator import (
    EpisodeRecord,
    RunOutcome,
    RunProgress,
    execute_run,
    load_records,
    load_run_file,
    run_paths,
)
from tests._browser import chromium, console_errors

TURN_S = 60.0
"""The longest this person waits for anything: a game to appear, their turn, the page to take a message."""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    driver = chromium(tmp_path / "profile")
    yield driver
    driver.quit()


def run_file(tmp_path: Path, name: str, conditions: str, *, mazes: int = 1, games: int = 1,
             turn_timeout_s: float = TURN_S * 2) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\nruns_dir = "{tmp_path / "runs"}"\ngrader = "grader"\n\n'
                    '[agents.person]\nplayer = "human"\n\n'
                    '[agents.cartographer]\nplayer = "scripted:cartographer"\n\n'
                    '[agents.grader]\nplayer = "scripted:grader"\n\n'
                    f"[mazes]\ncount = {mazes}\nseed = 3\n\n{conditions}\n"
                    f"[limits]\nturn_timeout_s = {turn_timeout_s}\ngame_timeout_s = 600\n\n"
                    f"[concurrency]\ngames = {games}\n")
    return path


def pair(mode: str) -> str:
    return (f'[[conditions]]\nkind = "pair"\nmode = "{mode}"\npairing = "explicit"\n'
            'pairs = [["person", "cartographer"]]\n')


@contextlib.contextmanager
def running(path: Path) -> Iterator[tuple[str, Future[RunOutcome]]]:
    """Run the file in a thread; yield the page the run printed for the person, and the run's outcome to come."""
    run = load_run_file(path)
    ready = threading.Event()
    progress = RunProgress()
    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(execute_run, run, path, on_plan=lambda _: ready.set(), progress=progress)
        while not ready.wait(0.1):
            if outcome.done():
                outcome.result()  # the run failed before it started: raise its error here
        yield progress.human_pages["person"], outcome


def records_of(path: Path) -> list[EpisodeRecord]:
    run = load_run_file(path)
    run_dir, _ = run_paths(run, path)
    return load_records(run_dir)


def waiting_games(browser: webdriver.Chrome) -> list[str]:
    try:
        rows = browser.find_elements(By.CSS_SELECTOR, "#lobby tr[data-game]")
        return [row.get_attribute("data-game") or "" for row in rows]
    except StaleElementReferenceException:  # the lobby reloads itself every few seconds
        return []


def join_a_game(browser: webdriver.Chrome, page: str, *, besides: frozenset[str] = frozenset()) -> str:
    """Open the lobby, wait for a game not in `besides`, join it; returns its key."""
    browser.get(page)
    key: str = WebDriverWait(browser, TURN_S).until(
        lambda b: next((k for k in waiting_games(b) if k not in besides), ""))
    browser.find_element(By.CSS_SELECTOR, f'#lobby tr[data-game="{key}"] button').click()
    WebDriverWait(browser, TURN_S).until(lambda b: b.find_elements(By.ID, "game"))
    return key


def lines(browser: webdriver.Chrome, who: str) -> list[str]:
    try:
        return [item.find_element(By.TAG_NAME, "pre").text
                for item in browser.find_elements(By.CSS_SELECTOR, f"#conversation li.{who}")]
    except StaleElementReferenceException:
        return lines(browser, who)


def my_turn(browser: webdriver.Chrome) -> bool:
    """Wait until it is this person's turn (True) or the game is over (False)."""
    status = WebDriverWait(browser, TURN_S).until(
        lambda b: b.find_element(By.ID, "status").get_attribute("class") in ("your-turn", "over")
        and b.find_element(By.ID, "status"))
    return status.get_attribute("class") == "your-turn"


def send(browser: webdriver.Chrome, text: str, move: str | None = None) -> None:
    """Type a message (a move button adds its MOVE: line), send it, and wait until the page shows it sent."""
    sent = len(lines(browser, "you"))
    box = browser.find_element(By.ID, "text")
    box.send_keys(text)
    if move is not None:
        browser.find_element(By.CSS_SELECTOR, f'button.move[data-move="{move}"]').click()
        assert (box.get_attribute("value") or "").endswith(f"\nMOVE: {move}")
    browser.find_element(By.ID, "send").click()
    WebDriverWait(browser, TURN_S).until(lambda b: len(lines(b, "you")) == sent + 1)


def play(browser: webdriver.Chrome, mode: str) -> None:
    """Share the map first, then agree with each move the partner proposes, until the game is over."""
    own_map = browser.find_element(By.CSS_SELECTOR, "pre.map").text
    first = True
    while my_turn(browser):
        partner = (lines(browser, "partner") or [""])[-1]
        vote = re.search(r"^MOVE: (\w+)" if mode == "referee" else r"^(?:Proposal|Agreed): (\w+)", partner, re.M)
        if first:
            send(browser, f"Hello! Here is my whole map (rows top to bottom, ? = hidden from me):\n{own_map}")
            first = False
        elif vote is not None and mode == "referee":
            send(browser, f"Agreed, {vote.group(1)}.", move=vote.group(1))
        elif vote is not None:
            send(browser, f"Agreed: {vote.group(1)}")
        else:
            send(browser, "My map is in my first message. Please propose the next move.")


def test_a_person_plays_a_referee_game_to_solved_and_a_paper_game_to_the_grader(
        browser: webdriver.Chrome, tmp_path: Path) -> None:
    path = run_file(tmp_path, "human-games", pair("referee") + "\n" + pair("paper"))
    with running(path) as (page, outcome):
        join_a_game(browser, page)
        assert "Your map" in browser.page_source and "MOVE: up" in browser.find_element(By.ID, "moves").text
        assert "Stepping into a wall" in browser.find_element(By.CSS_SELECTOR, "pre.task").text  # the prompt's rules
        play(browser, "referee")
        assert browser.find_element(By.ID, "status").text == "The game is over: solved (goal)."
        assert any("executed" in line for line in lines(browser, "referee")), "the referee's outcome of each move"
        join_a_game(browser, page)
        assert not browser.find_elements(By.ID, "moves"), "paper mode: no votes, free dialogue"
        play(browser, "paper")
        assert console_errors(browser) == []
        assert outcome.result().played == 2
    referee_game, paper_game = sorted(records_of(path), key=lambda r: r.spec.mode, reverse=True)
    assert (referee_game.spec.mode, referee_game.status, referee_game.end_reason) == ("referee", "solved", "goal")
    assert referee_game.spec.seat_a.player_kind == "human" and referee_game.spec.seat_b is not None
    assert referee_game.spec.seat_b.player_kind == "agent"
    assert paper_game.spec.mode == "paper" and paper_game.grading is not None and paper_game.grading.error is None
    assert paper_game.grading.route and paper_game.error is None


def test_a_person_who_never_replies_times_out_and_the_run_plays_on(browser: webdriver.Chrome, tmp_path: Path) -> None:
    path = run_file(tmp_path, "human-timeout", pair("referee"), mazes=2, turn_timeout_s=20)
    with running(path) as (page, outcome):
        browser.get(page)
        first: str = WebDriverWait(browser, TURN_S).until(lambda b: next(iter(waiting_games(b)), ""))
        join_a_game(browser, page, besides=frozenset({first}))  # the first game waits in vain, then times out
        play(browser, "referee")
        assert outcome.result().played == 2
    timed_out, played = sorted(records_of(path), key=lambda r: r.error is None)
    assert timed_out.error is not None and timed_out.error.kind == "agent_timeout"
    assert (timed_out.error.seat, timed_out.error.blame, timed_out.status) == ("A", "agent:person", "ended")
    assert timed_out.messages == [] and timed_out.score is not None
    assert played.status == "solved" and played.messages[0].player == "person"


def test_two_people_in_two_games_never_see_each_others_map_or_messages(
        browser: webdriver.Chrome, tmp_path: Path) -> None:
    other = chromium(tmp_path / "other-profile")
    try:
        path = run_file(tmp_path, "human-pair", pair("referee"), mazes=2, games=2)
        with running(path) as (page, outcome):
            mine = join_a_game(browser, page)
            theirs = join_a_game(other, page, besides=frozenset({mine}))
            my_map, their_map = (b.find_element(By.CSS_SELECTOR, "pre.map").text for b in (browser, other))
            assert my_map != their_map
            other.get(f"{page}play/{mine}")
            assert "belongs to the browser that joined it" in other.page_source and my_map not in other.page_source
            other.get(f"{page}play/{theirs}")
            for person, words in ((browser, "Person one here, on my own."), (other, "Person two here.")):
                assert my_turn(person)
                send(person, f"{words} ACTI!")
            assert outcome.result().played == 2
            assert not any("Person two" in line for line in lines(browser, "partner") + lines(browser, "you"))
            assert not any("Person one" in line for line in lines(other, "partner") + lines(other, "you"))
    finally:
        other.quit()
    texts = {record.maze_id: [m.text for m in record.messages] for record in records_of(path)}
    assert sorted(len(t) for t in texts.values()) == [1, 1]
