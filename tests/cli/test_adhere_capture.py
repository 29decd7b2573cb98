"""`faturas adhere UNIT --capture DIR`: the supervised run writes every screen it recognised and its HAR, scrubbed.

Real Chromium against the simulator, on two families whose markup differs (the new portal and the
Material-UI-like one): the capture must follow the journey as the bot recognised it, not one family's pages.
"""

from __future__ import annotations

import re
import zipfile

import pytest

from bot.capture import HAR_NAME
from storage.errors import UnitInputError
from tests.bot.test_artifacts_on_disk import _files_holding
from tests.cli.test_adhere import cli  # noqa: F401 - the CLI fixture

pytestmark = pytest.mark.browser
PASSWORD = "Captura#Senha-2026"


@pytest.mark.parametrize("family", ["new", "mui"])
def test_a_capture_writes_each_recognised_screen_and_a_scrubbed_har(cli, simulator, tmp_path, family):  # noqa: F811
    customer = simulator.add_customer(password=PASSWORD, installations=("3000044001",),
                                      scenario={"variant": family})
    password_file = tmp_path / "pw"
    password_file.write_text(PASSWORD)
    code, out, err = cli("units", "add", "-i", "3000044001", "-n", customer.name, "-d", customer.document,
                         "--portal-login", customer.document, "--portal-password-file", str(password_file))
    assert code == 0, out + err
    folder = tmp_path / "capture"

    code, out, err = cli("adhere", "3000044001", "--capture", str(folder))

    assert code == 0, out + err
    screens = sorted(p.name for p in folder.glob("*.aria.yml"))
    kinds = [re.sub(r"^\d+-|\.aria\.yml$", "", name) for name in screens]
    journey = ["login_form", "logged_in_home", "access_data_form", "conta_digital_not_enrolled", "terms"]
    assert all(k in kinds for k in journey), kinds  # every screen of the journey, in the order it was walked
    order = [kinds.index(k) for k in journey]
    assert order == sorted(order), kinds
    login = (folder / screens[kinds.index("login_form")]).read_text()
    assert login.startswith("# screen: login_form\n# url: ") and "textbox" in login  # a real ARIA snapshot
    with zipfile.ZipFile(folder / HAR_NAME) as archive:
        har = archive.read("recording.har")
    assert b'"request"' in har
    secrets = [PASSWORD.encode(), customer.document.encode(), re.sub(r"\D", "", customer.document).encode()]
    assert _files_holding(folder, secrets) == []  # neither the password nor the login, in any file
    assert f"{len(screens)} screens captured" in out
    report = simulator.admin.report()
    (installation,) = [i for c in report["customers"] for i in c["installations"]
                       if i["installation"] == "3000044001"]
    assert installation["enrolled"] and installation["adhesion_submissions"] == 1  # a real run, submitted once


def test_a_capture_takes_one_unit(cli, simulator, tmp_path):  # noqa: F811
    code, _, err = cli("adhere", "--all-pending", "--capture", str(tmp_path / "capture"))
    assert code != 0 and not (tmp_path / "capture").exists()


def test_the_capture_refuses_two_units_before_running_anything(bot_app, tmp_path):
    from cli.adhere import _capture

    with pytest.raises(UnitInputError, match="one unit at a time; 2 were named"):
        _capture(bot_app, [1, 2], tmp_path / "capture", headed=False)
    assert not (tmp_path / "capture").exists()
