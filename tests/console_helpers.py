"""Fixtures of the console tests: Debian's Chromium driven by Playwright, screenshots."""

from __future__ import annotations

import os
import shutil
from typing import Any, Iterator

import pytest

CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")  # per module: each test module imports its own copy
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright; skipped only when no browser can be run."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    executable = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> str:
    """Where screenshots are saved."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS") or str(tmp_path_factory.mktemp("console-screenshots"))
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser page (1280 wide)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(20000)
    yield tab
    context.close()
