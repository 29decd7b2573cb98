"""A killed adhesion leaves no portal password on disk, and its browser files are removed by the next run.

Playwright keeps a context's trace network log and resources, and Chromium its profile, in temporary
folders that only a clean browser close removes. The bot is SIGKILLed (with its driver and browser) right
after the portal accepted the login, then every file under the test's folder (HOME, TMPDIR, the data
folder) is scanned for the password in every form a request body could hold it.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.bot.conftest import add_unit

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kill#Senha-2024!"


def _needles() -> list[bytes]:
    forms = {PASSWORD, urllib.parse.quote_plus(PASSWORD), urllib.parse.quote(PASSWORD, safe="")}
    return [form.encode() for form in forms]


def _files_holding(root: Path, needles: list[bytes]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(needle in data for needle in needles):
            hits.append(str(path.relative_to(root)))
    return hits


def _adhere(bot_app, tmp_path: Path, installation: str) -> subprocess.Popen:
    settings = bot_app.settings
    env = {**os.environ, "HOME": str(tmp_path), "TMPDIR": str(tmp_path / "tmp"),
           "FATURAS_DATA_DIR": str(settings.data_dir), "FATURAS_DATABASE_URL": settings.database_url,
           "FATURAS_SECRET_KEYS": settings.secret_keys, "FATURAS_PLAYWRIGHT_CONFIG": str(settings.playwright_config),
           "FATURAS_ADHESION_BACKOFF_S": "0.2", "FATURAS_LOG_FORMAT": "json"}
    return subprocess.Popen([sys.executable, "-m", "cli", "adhere", installation], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for_login(simulator, customer_id: int, process: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(e["kind"] == "logged_in" for e in simulator.store.events(customer_id=customer_id)):
            return
        if process.poll() is not None:
            pytest.fail(f"the bot ended before logging in: {process.stdout.read().decode()[-2000:]}")
        time.sleep(0.05)
    pytest.fail("the bot never logged in")


def test_sigkill_after_login_leaves_no_password_and_stale_folders_are_removed(bot_app, simulator, tmp_path):
    (tmp_path / "tmp").mkdir()
    customer = simulator.add_customer(password=PASSWORD)
    # The home page answers 30 s late: the bot is killed while it waits, the login request just sent.
    simulator.admin.set_scenario({"delay": {"seconds": 30, "step": "home"}}, customer=customer.id)
    add_unit(bot_app, customer)

    process = _adhere(bot_app, tmp_path, customer.installations[0])
    try:
        _wait_for_login(simulator, customer.id, process)
        time.sleep(1.5)  # the login response and redirect reach the browser, the network log is written
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process.stdout.close()

    assert _files_holding(tmp_path, _needles()) == []
    # Nothing of the browser in the system's temporary folder: it all lives in the data folder, private.
    # (multiprocessing's fork server keeps its socket folder, pymp-*, there: no browser file, no secret)
    assert [p.name for p in (tmp_path / "tmp").iterdir() if not p.name.startswith("pymp-")] == []
    browser_root = bot_app.settings.data_dir / "browser"
    assert stat.S_IMODE(browser_root.stat().st_mode) == 0o700
    stale = [p for p in browser_root.iterdir() if p.is_dir()]
    assert len(stale) == 1 and any(stale[0].rglob("*")), "the killed run's folder is left behind with files"

    # The next run removes the killed run's folder at start-up, and its own when it ends.
    simulator.admin.set_scenario({}, customer=customer.id)
    process = _adhere(bot_app, tmp_path, customer.installations[0])
    output = process.communicate(timeout=120)[0].decode()
    assert process.returncode == 0, output[-3000:]
    assert [p for p in browser_root.iterdir() if p.is_dir()] == []
    assert _files_holding(tmp_path, _needles()) == []


def test_a_recorded_har_is_scrubbed_and_leaves_nothing_behind(bot_app, simulator, tmp_path):
    import zipfile

    from bot.har import record_unit

    customer = simulator.add_customer(password=PASSWORD)
    unit_id = add_unit(bot_app, customer)
    out = tmp_path / "fixture.har.zip"
    outcome = record_unit(bot_app, str(unit_id), out)
    assert not outcome.failed, outcome.message
    with zipfile.ZipFile(out) as archive:
        recording = archive.read("recording.har")
    assert b'"request"' in recording and not any(needle in recording for needle in _needles())
    browser_root = bot_app.settings.data_dir / "browser"
    assert [p.name for p in browser_root.iterdir()] == []  # the raw HAR and the run folder are gone
    assert _files_holding(tmp_path, _needles()) == []
