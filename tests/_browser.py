"""Headless Debian Chromium for the browser tests, driven by Selenium (which never downloads a browser)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,1800")


def chromium(profile: Path) -> webdriver.Chrome:
    """Headless Chromium with its own profile (a browser of its own, with its own cookies), its console log kept
    for the tests to read; the test skips where Debian's chromium and chromium-driver are missing."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip("no browser: install Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def console_errors(browser: webdriver.Chrome) -> list[str]:
    """Errors the page logged (uncaught exceptions, failed loads) since the last call."""
    entries: list[dict[str, str]] = browser.get_log("browser")  # type: ignore[no-untyped-call]  # selenium: untyped
    return [entry["message"] for entry in entries if entry["level"] in ("SEVERE", "ERROR")]
