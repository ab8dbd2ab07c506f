"""Issue 9, item 7, in a real browser: the transcript viewer shows what each model saw, grader included, as text.

Needs Debian's `chromium` and `chromium-driver`; skipped without them (see test_report_browser.py).
"""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from starlette.staticfiles import StaticFiles

from collabgap.protocol import ModelCall, ModelMessage, expand_calls
from collabgap.services.coordinator import Prompts
from collabgap.services.coordinator.report._report import build_report
from tests._browser import console_errors
from tests._serving import serving
from tests.conftest import Stack

from .conftest import LLMStack
from .test_llm_games import episode, play
from .test_report_browser import (
    browser,  # noqa: F401 - the fixture, shared with the report's browser tests
    choose,
    open_report,
)

HOSTILE = '<img src=x onerror="document.title=\'owned\'">&amp;'


def opened(block: WebElement) -> list[tuple[str, str]]:
    """Open a "what the model saw" block: (role, text) of each message it shows."""
    block.find_element(By.TAG_NAME, "summary").click()
    return [(m.find_element(By.CLASS_NAME, "who").text, m.find_element(By.TAG_NAME, "pre").text)
            for m in block.find_elements(By.CLASS_NAME, "model-message")]


async def test_viewer_shows_what_each_model_and_the_grader_saw(stack: Stack, llm: LLMStack, browser: webdriver.Chrome,
                                                               tmp_path: Path) -> None:
    [game] = await play(stack, episode("paper", llm.anthropic_cartographer, llm.openai_cartographer,
                                       mode="paper", grader=llm.grader))
    assert game.grading is not None
    first = game.messages[0]
    forged_input = [ModelCall(messages=[ModelMessage(role="user", content=HOSTILE)])]
    hostile = first.model_copy(update={"model_input": forged_input})
    forged = game.model_copy(update={"spec": game.spec.model_copy(update={"episode_id": "forged"}),
                                     "messages": [hostile], "grading": None})
    folder = build_report([game, forged], tmp_path).report_html.parent
    with serving(StaticFiles(directory=folder)) as url:
        open_report(browser, f"{url}/report.html")
        choose(browser, 0)
        blocks = browser.find_elements(By.CSS_SELECTOR, "#messages li details.model-input")
        assert len(blocks) == len(game.messages)
        [request] = expand_calls(first.model_input)
        shown = opened(blocks[0])
        assert shown == [(m.role, m.content.strip()) for m in request]
        assert shown[0][0] == "system" and shown[-1][0] == "user"
        grader = browser.find_element(By.CSS_SELECTOR, "#episode-info details.model-input")
        assert opened(grader)[-1] == ("user", Prompts.load().grader(game.messages, solo=False).strip())

        choose(browser, 1)
        [block] = browser.find_elements(By.CSS_SELECTOR, "#messages li details.model-input")
        assert opened(block) == [("user", HOSTILE)]
        assert not browser.find_elements(By.CSS_SELECTOR, "#messages img") and browser.title != "owned"
        assert console_errors(browser) == []
