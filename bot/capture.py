"""`faturas adhere UNIT --capture DIR`: a supervised run that keeps what extending the vocabulary needs.

The first run against a portal the bot has not seen (the real Agência Virtual, a redesign) should yield, in
one sitting, every screen as the bot saw it: one ARIA snapshot per recognised screen (roles, names, texts:
what the recognisers match against), numbered in order, and the run's HAR, both scrubbed of the portal
password and login. With `--headed` a person watches and may solve a captcha. It is a real adhesion: it
changes the portal, exactly once, like any run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.adhesion import UnitOutcome
from bot.har import record_unit, unit_secrets
from bot.scrub import scrub_bytes
from config.context import AppContext

HAR_NAME = "recording.har.zip"


@dataclass
class ScreenCapture:
    """Writes `NN-<screen>.aria.yml` into `folder` for each screen recognised.

    A screen seen again at the same address right after itself is written once.
    """

    folder: Path
    secrets: list[str]
    written: list[Path] = field(default_factory=list)
    _last: tuple[str, str] | None = None

    async def __call__(self, screen: str, url: str, snapshot: Callable[[], Awaitable[str]]) -> None:
        """The flow's screen hook (flows.base.ScreenHook)."""
        if self._last == (screen, url):
            return
        self._last = (screen, url)
        text = f"# screen: {screen}\n# url: {url}\n{await snapshot()}\n"
        path = self.folder / f"{len(self.written) + 1:02d}-{screen}.aria.yml"
        path.write_bytes(scrub_bytes(text.encode("utf-8"), [s for s in self.secrets if len(s) >= 4]))
        self.written.append(path)


def capture_unit(app: AppContext, unit_ref: str, folder: Path, *, headed: bool = False) -> tuple[UnitOutcome,
                                                                                                  list[Path]]:
    """Enrol one unit while writing its screens' ARIA snapshots and its scrubbed HAR into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    _, secrets = unit_secrets(app, unit_ref)
    capture = ScreenCapture(folder, secrets)
    outcome = record_unit(app, unit_ref, folder / HAR_NAME, headed=headed, on_screen=capture)
    return outcome, [*capture.written, folder / HAR_NAME]
