"""The deployment files under examples/deploy/: systemd accepts the units, the example configuration loads."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "examples" / "deploy"
HARDENING = ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "User=faturas",
             "CapabilityBoundingSet=", "UMask=0077")


def _verify(unit: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("name", ["faturas-web.service", "faturas-worker@.service"])
def test_systemd_accepts_each_unit_with_its_hardening(tmp_path, name):
    assert shutil.which("systemd-analyze"), "scripts/setup --test-services installs systemd"
    text = (DEPLOY / name).read_text()
    for option in HARDENING:
        assert f"\n{option}\n" in text, f"{name} lacks {option}"
    # The units name /opt/faturas; verify needs ExecStart to exist, so point it at this checkout's venv.
    local = tmp_path / name.replace("@.", "@1.")
    local.write_text(text.replace("/opt/faturas/.venv/bin/faturas", str(Path(sys.executable).parent / "faturas")))
    result = _verify(local)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_verify_reports_a_broken_unit(tmp_path):
    """The check above can fail: systemd-analyze names an unknown option and a bad value on stderr."""
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=/bin/true\nProtectSystem=sometimes\nNoNewPrivilege=yes\n")
    result = _verify(broken)
    assert "protect system value" in result.stderr and "NoNewPrivilege" in result.stderr, result.stderr


def test_the_example_configuration_loads(tmp_path):
    text = (DEPLOY / "faturas.toml").read_text().replace("/etc/faturas", str(tmp_path))
    for secret in ("imap.pw", "smtp.pw"):
        (tmp_path / secret).write_text("app-password\n")
    (tmp_path / "faturas.toml").write_text(text.replace("credit_growth_months = 6", "credit_growth_months = 7"))
    settings = load_settings({"HOME": str(tmp_path)}, tmp_path / "faturas.toml")
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert settings.mail.accounts[0].password.get_secret_value() == "app-password"
    assert settings.mail.smtp is not None and settings.mail.smtp.tls == "starttls"
    assert settings.web_secure_cookies and settings.report_credit_growth_months == 7
