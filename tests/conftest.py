"""Session-wide fixtures: the real browser from playwright.config."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.browser import BrowserSettings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def browser_settings() -> BrowserSettings:
    return BrowserSettings.load(ROOT / "playwright.config")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, browser_settings):
    """pytest-playwright has no --executable-path: add Debian's Chromium and its flags here."""
    options = browser_settings.launch_options()
    options.update({k: v for k, v in browser_type_launch_args.items() if k in {"headless", "slow_mo"} and v})
    return options
