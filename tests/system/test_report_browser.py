"""The HTML report in a real browser (DESIGN.md §3.4): games played by real services, replayed in headless Chromium.

Needs Debian's `chromium` and `chromium-driver` (`apt-get install -y chromium chromium-driver`); Selenium drives
them and never downloads a browser.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select

from collabgap.services.coordinator import DemoSettings, EpisodeRecord, run_demo
from collabgap.services.coordinator.report._report import build_report
from tests._browser import chromium, console_errors

Played = tuple[str, list[EpisodeRecord]]
"""The report page's URL, and the records it shows."""


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class names it so
        """Keep the test output clean."""


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile, its console log kept for the tests to read."""
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def played(browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Played]:
    """The demo's real games on two mazes, reported and served on a loopback port: (page URL, records)."""
    runs = tmp_path_factory.mktemp("runs")
    records = run_demo(DemoSettings(mazes=2, runs_dir=runs)).records
    folder = build_report(records, runs / "report").report_html.parent
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/report.html", records
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def open_report(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    console_errors(browser)  # what an earlier page logged is not this page's concern


def current_cell(browser: webdriver.Chrome) -> tuple[int, int]:
    [cell] = browser.find_elements(By.CSS_SELECTOR, "#maze-board .cell.current")
    return int(cell.get_attribute("data-row") or -1), int(cell.get_attribute("data-col") or -1)


def choose(browser: webdriver.Chrome, index: int) -> None:
    Select(browser.find_element(By.ID, "episode-select")).select_by_index(index)


def click(browser: webdriver.Chrome, element_id: str, times: int = 1) -> WebElement:
    button = browser.find_element(By.ID, element_id)
    for _ in range(times):
        button.click()
    return button


def test_report_page_loads_without_console_errors(browser: webdriver.Chrome, played: Played) -> None:
    url, _ = played
    browser.get(url)
    assert browser.find_elements(By.CSS_SELECTOR, "#maze-board .cell")
    assert console_errors(browser) == []


def test_heatmap_draws_every_seating_of_the_demo_players(browser: webdriver.Chrome,
                                                          played: Played) -> None:
    """Two players, so a 2 × 2 matrix of pair cells, each visible with its mean ± CI and n, beside a colour bar."""
    url, _ = played
    open_report(browser, url)
    heatmap = browser.find_element(By.CSS_SELECTOR, "#heatmap svg#figure-pairs")
    assert heatmap.is_displayed() and heatmap.size["width"] > 300 and heatmap.size["height"] > 200
    texts = [node.text for node in heatmap.find_elements(By.TAG_NAME, "text")]
    assert len([text for text in texts if "±" in text]) == 4 and len([t for t in texts if t.startswith("n = ")]) == 4
    assert {"seat A (opens)", "seat B (answers)", "mean weighted score"} <= set(texts)
    assert browser.find_element(By.ID, "policy").text == "agent failures: scored (counted in n)"
    gap = browser.find_element(By.CSS_SELECTOR, "#gap-chart svg#figure-gap")
    assert gap.is_displayed() and "mean weighted score" in gap.text
    assert browser.find_element(By.ID, "cost-table").is_displayed()
    assert "conditions" in browser.find_element(By.ID, "run-settings").text
    assert console_errors(browser) == []


def test_viewer_replays_a_game_forward_and_back(browser: webdriver.Chrome, played: Played) -> None:
    """Next moves the current cell along the agreed moves; Previous takes it back (DESIGN.md §3.4)."""
    url, records = played
    index, game = next((i, r) for i, r in enumerate(records)
                       if r.spec.condition == "pair" and len(r.moves) >= 3 and all(m.valid for m in r.moves[:3]))
    open_report(browser, url)
    choose(browser, index)
    label = browser.find_element(By.ID, "step-label")
    total = len(game.moves)
    assert label.text == f"step 0 of {total}"
    assert current_cell(browser) == game.moves[0].source
    assert len(browser.find_elements(By.CSS_SELECTOR, "#maps figure")) == 2, "both seats' private maps"
    click(browser, "step-next", times=3)
    assert label.text == f"step 3 of {total}"
    assert current_cell(browser) == game.moves[2].target
    click(browser, "step-prev")
    assert label.text == f"step 2 of {total}"
    assert current_cell(browser) == game.moves[1].target
    messages = browser.find_elements(By.CSS_SELECTOR, "#messages li")
    assert len(messages) == len(game.messages)
    assert console_errors(browser) == []


def test_viewer_marks_the_invalid_step_that_ended_a_game(browser: webdriver.Chrome,
                                                          played: Played) -> None:
    url, records = played
    ended = [(i, r) for i, r in enumerate(records) if r.moves and not r.moves[-1].valid]
    if not ended:
        pytest.skip("no game of this demo run ended on an invalid step")
    index, game = ended[0]
    open_report(browser, url)
    choose(browser, index)
    click(browser, "step-next", times=len(game.moves))
    assert browser.find_element(By.ID, "step-label").text == f"step {len(game.moves)} of {len(game.moves)}"
    assert browser.find_elements(By.CSS_SELECTOR, "#maze-board .cell.current.invalid")
    assert "invalid" in browser.find_element(By.ID, "step-note").text
    assert not browser.find_element(By.ID, "step-next").is_enabled()
