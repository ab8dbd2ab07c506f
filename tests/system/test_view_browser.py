"""Issue 12, part 1, in a real browser: `collabgap view` over real runs with errors in them, in headless Chromium.

Needs Debian's `chromium` and `chromium-driver`; skipped without them (see test_report_browser.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from collabgap.services.coordinator import EpisodeRecord, Store
from collabgap.services.coordinator.report._view import ViewSource, create_view_app
from tests._browser import console_errors
from tests._serving import serving
from tests.conftest import Stack
from tests.services.coordinator.test_view import Runs, play_runs

from .test_report_browser import browser  # noqa: F401 - the fixture, shared with the report's browser tests

POLL_S = 0.2
WAIT_S = 10.0
"""Bound on waiting for the page to show what the store holds: it polls every `POLL_S`."""


@pytest.fixture(scope="module")
def runs(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    return play_runs(stack, tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def view(runs: Runs) -> Iterator[str]:
    with serving(create_view_app(ViewSource(runs.folder), poll_s=POLL_S)) as url:
        yield url


def rows(browser: webdriver.Chrome) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, "#episodes tbody tr"))


def open_page(browser: webdriver.Chrome, url: str) -> None:
    browser.get(url)
    console_errors(browser)  # what an earlier page logged is not this page's concern


def test_the_filter_narrows_the_list_and_loads_without_errors(browser: webdriver.Chrome, view: str,
                                                              runs: Runs) -> None:
    open_page(browser, f"{view}/runs/mixed/episodes")
    every = rows(browser)
    assert every >= len(runs.mixed) == 6
    Select(browser.find_element(By.ID, "filter-blame")).select_by_value("agent:rude")
    browser.find_element(By.ID, "filter-apply").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: "blame=agent" in b.current_url)
    assert rows(browser) == sum(r.flagged for r in runs.mixed) == 2
    browser.find_element(By.CSS_SELECTOR, "#episodes tbody tr a").click()
    WebDriverWait(browser, WAIT_S).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#maze-board .cell"))
    assert browser.find_elements(By.CSS_SELECTOR, "#maps .map .grid")  # the seats' maps, drawn by the viewer
    assert "agent:rude" in browser.find_element(By.ID, "episode-error").text
    assert console_errors(browser) == []


def test_a_cell_link_opens_its_episodes(browser: webdriver.Chrome, view: str, runs: Runs) -> None:
    open_page(browser, f"{view}/runs/mixed")
    assert browser.find_elements(By.CSS_SELECTOR, "figure.figure svg")
    link = browser.find_element(By.CSS_SELECTOR, "#cells-table tbody tr td a")
    label = link.text
    link.click()
    WebDriverWait(browser, WAIT_S).until(lambda b: "cell=" in b.current_url)
    assert label.split()[0] in browser.find_element(By.CLASS_NAME, "chips").text
    seats = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "#episodes tbody tr td:nth-child(4)")}
    assert len(seats) == 1 and rows(browser) == 2  # one cell, on each of the run's two mazes
    assert console_errors(browser) == []


def _copy(record: EpisodeRecord, episode_id: str) -> EpisodeRecord:
    return record.model_copy(update={"spec": record.spec.model_copy(update={"episode_id": episode_id})})


def test_a_run_in_progress_updates_live(browser: webdriver.Chrome, view: str, runs: Runs) -> None:
    open_page(browser, view)
    progress = browser.find_element(By.CSS_SELECTOR, '[data-run="broken"] [data-field="progress"]')
    assert progress.text == "2 / 2"
    with Store.open(f"sqlite:///{runs.folder / 'broken' / 'store.db'}") as store:
        assert store.claim("broken", "late/r0", "test-runner", ttl_s=60)
        WebDriverWait(browser, WAIT_S).until(
            lambda b: b.find_element(By.CSS_SELECTOR, '[data-run="broken"] [data-field="status"]').text == "running")
        assert store.save_episode("broken", _copy(runs.broken[0], "late/r0"))
    WebDriverWait(browser, WAIT_S).until(lambda b: progress.text == "3 / 2")
    status = browser.find_element(By.CSS_SELECTOR, '[data-run="broken"] [data-field="status"]')
    assert status.text == "finished with errors"
    assert console_errors(browser) == []
