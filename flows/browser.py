"""Browser settings from the `playwright.config` TOML file, turned into Playwright launch options.

The file is read only when asked (never at import time) and the result is passed down explicitly.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_CHROMIUM = "/usr/bin/chromium"
DEBIAN_HEADLESS_SHELL = "/usr/lib/chromium/chromium-headless-shell"
"""Debian's `chromium-headless-shell` package: the old headless mode, the binary Playwright itself runs
headless. On a 2-core machine a new context costs about a quarter of full Chromium's CPU and a page
load about half (bench/results/adhesion.md)."""

AUTOMATION_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
"""Chromium switches for unattended automation, added to every launch (the bot, the demo, the tests);
`playwright.config`'s `args` come on top, duplicates dropped.

Playwright already passes its own long list (--disable-dev-shm-usage, --disable-extensions,
--disable-background-timer-throttling, --disable-renderer-backgrounding…). Measured on top of these, on
the adhesion flow: --disable-software-rasterizer and disabling site isolation change nothing,
--in-process-gpu and --no-zygote cost more CPU; none is added."""


@dataclass(frozen=True)
class BrowserSettings:
    """What `playwright.config` says about the browser, the timeouts and the artifacts."""

    executable: str = "auto"
    headless: bool = True
    slow_mo_ms: int = 0
    args: tuple[str, ...] = ()
    action_timeout_ms: int = 15_000
    navigation_timeout_ms: int = 30_000
    operator_challenge_s: int = 300
    tracing_policy: str = "retain-on-failure"
    trace_snapshots: bool = True
    """DOM snapshots and the network log in traces (Playwright records both or neither). Off, a kept trace
    has only the actions, their timings, errors and console; it saves ~0.45 s of CPU per unit."""
    artifacts_dir: str = "artifacts"
    retention_days: int = 30
    concurrency: int = 2
    base_urls: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None, environ: dict[str, str] | None = None) -> BrowserSettings:
        """Read the TOML file at `path` (defaults when it is None or absent); env overrides base URLs."""
        data: dict = {}
        if path is not None and path.exists():
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        browser = data.get("browser", {})
        timeouts = data.get("timeouts", {})
        tracing = data.get("tracing", {})
        bot = data.get("bot", {})
        base_urls = {name: str(section.get("base_url", "")) for name, section in data.get("utilities", {}).items()}
        env = os.environ if environ is None else environ
        for name in list(base_urls) + ["cemig"]:
            override = env.get(f"FATURAS_{name.upper()}_BASE_URL")
            if override:
                base_urls[name] = override
        policy = str(tracing.get("policy", "retain-on-failure"))
        if policy not in {"on", "off", "retain-on-failure"}:
            raise ValueError(f"playwright.config: tracing.policy must be on, off or retain-on-failure, not {policy!r}")
        return cls(
            executable=str(browser.get("executable", "auto")),
            headless=bool(browser.get("headless", True)),
            slow_mo_ms=int(browser.get("slow_mo_ms", 0)),
            args=tuple(browser.get("args", ())),
            action_timeout_ms=int(timeouts.get("action_ms", 15_000)),
            navigation_timeout_ms=int(timeouts.get("navigation_ms", 30_000)),
            operator_challenge_s=int(timeouts.get("operator_challenge_s", 300)),
            tracing_policy=policy,
            trace_snapshots=bool(tracing.get("snapshots", True)),
            artifacts_dir=str(tracing.get("artifacts_dir", "artifacts")),
            retention_days=int(tracing.get("retention_days", 30)),
            concurrency=int(bot.get("concurrency", 2)),
            base_urls=base_urls,
        )

    def executable_path(self, *, headless: bool | None = None) -> str | None:
        """The Chromium binary to launch, or None to let Playwright use its own download.

        `auto` prefers Playwright's own Chromium (`playwright install chromium`, which runs its headless
        shell when headless) and falls back to Debian's packages where browsers cannot be downloaded:
        `chromium-headless-shell` when headless and installed, else `chromium` (a visible window for
        `--headed` always needs the full browser).
        """
        if self.executable != "auto":
            return self.executable
        if _playwright_chromium_installed():
            return None
        headless = self.headless if headless is None else headless
        if headless and Path(DEBIAN_HEADLESS_SHELL).exists():
            return DEBIAN_HEADLESS_SHELL
        if Path(DEBIAN_CHROMIUM).exists():
            return DEBIAN_CHROMIUM
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        return found

    def launch_options(self, *, headless: bool | None = None) -> dict:
        """Keyword arguments for `browser_type.launch()`: AUTOMATION_ARGS, then the configured args."""
        headless = self.headless if headless is None else headless
        options: dict = {
            "headless": headless,
            "slow_mo": self.slow_mo_ms,
            "args": list(dict.fromkeys((*AUTOMATION_ARGS, *self.args))),
        }
        executable = self.executable_path(headless=headless)
        if executable:
            options["executable_path"] = executable
        return options


def _playwright_chromium_installed() -> bool:
    """Whether `playwright install chromium` has put a browser in Playwright's cache."""
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    base = Path(root)
    return base.is_dir() and any(base.glob("chromium-*/chrome-linux*/chrome"))
