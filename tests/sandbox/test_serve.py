"""`faturas serve --sandbox` as a newcomer uses it: the real command in a subprocess, driven in Chromium.

Log in with the printed credentials, add a sample unit by typing its printed portal credentials, press
"Aderir automaticamente" (checked at the simulator through its admin API), run a billing cycle from the
page, and watch the bill get stored and forwarded into the client's mailbox of the embedded mail system.
"""

from __future__ import annotations

import email
import email.policy
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from sandbox.serve import SANDBOX_LOGIN
from simulator.portal.client import AdminClient

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
MARIA = "maria@cliente.example"


@dataclass
class Sandbox:
    """The running `faturas serve --sandbox` and what it printed."""

    process: subprocess.Popen
    output: list[str]
    data_dir: Path
    lines: queue.Queue
    readers: list[threading.Thread]

    @property
    def text(self) -> str:
        return "\n".join(self.output)

    def value(self, label: str) -> str:
        match = re.search(rf"^  {label}: +(\S+)", self.text, re.MULTILINE)
        assert match, f"{label!r} not printed:\n{self.text}"
        return match.group(1).rstrip("/")

    def sample(self, name: str) -> dict[str, str]:
        line = next(line for line in self.output if line.startswith(f"  - {name} |"))
        return dict(part.strip().rsplit(" ", 1) for part in line.split("|")[1:])

    def stop(self, timeout: float = 40.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.drain()
        return code

    def drain(self) -> None:
        """What it printed up to its exit."""
        for reader in self.readers:
            reader.join(10)
        while not self.lines.empty():
            if (line := self.lines.get()) is not None:
                self.output.append(line)


def _read_lines(stream, lines: queue.Queue) -> None:  # noqa: ANN001 - a text pipe
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    data_dir = tmp_path / "sandbox"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FATURAS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "cli", "--data-dir", str(data_dir), "serve", "--sandbox", "--port", "0"],
        cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []
    readers = [threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True),
               threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    running = Sandbox(process=process, output=[], data_dir=data_dir, lines=lines, readers=readers)
    deadline = time.monotonic() + 90
    while not any(line.startswith("Then:") for line in running.output):
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            line = None
        if line is None:
            process.kill()
            pytest.fail(f"the sandbox did not start:\n{running.text}\n{''.join(errors)}")
        running.output.append(line)
    yield running
    if process.poll() is None:  # the test failed before stopping it
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    running.drain()
    process.stdout.close()
    process.stderr.close()
    assert not [line for line in errors if "Traceback" in line], "".join(errors)


def _refused(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return False
    except OSError:
        return True


@pytest.fixture
def page(browser_type_launch_args) -> Iterator[Page]:  # noqa: ANN001 - pytest-playwright's launch options
    """A browser of this test's own, closed with it. pytest-playwright's session-wide one keeps an event loop
    running in the main thread, and every later test that runs the bot (`asyncio.run`) would then fail."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**browser_type_launch_args)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_sandbox_newcomer_enrols_a_unit_and_receives_the_forwarded_bill(page: Page, sandbox: Sandbox):
    dashboard = sandbox.value("dashboard")
    simulator = sandbox.value("CEMIG simulator")
    token = re.search(r"bearer token (\S+)\)", sandbox.text).group(1)
    assert sandbox.value("login") == SANDBOX_LOGIN
    assert sandbox.value("data folder") == str(sandbox.data_dir)
    maria = sandbox.sample("Maria Aparecida Souza")
    page.set_default_timeout(20_000)

    # Log in with the printed credentials.
    page.goto(f"{dashboard}/")
    page.get_by_label("E-mail").fill(sandbox.value("login"))
    page.get_by_label("Senha").fill(sandbox.value("password"))
    page.get_by_role("button", name="Entrar").click()
    expect(page.get_by_role("heading", name="Unidades")).to_be_visible()
    expect(page.get_by_role("complementary", name="Sandbox")).to_contain_text(simulator)

    # Add the unit by typing the printed sample credentials.
    page.get_by_role("link", name="Nova unidade").click()
    expect(page.get_by_role("heading", name="Clientes de exemplo (sandbox)")).to_be_visible()
    page.get_by_label("Nome do cliente").fill("Maria Aparecida Souza")
    page.get_by_label("CPF/CNPJ do titular").fill(maria["holder document"])
    page.get_by_label("Nº da instalação (10 dígitos)").fill(maria["installation"])
    page.get_by_label("E-mail para receber as faturas").fill(maria["client e-mail"])
    page.get_by_label("Login da Agência Virtual (CPF/CNPJ ou e-mail)").fill(maria["portal login"])
    page.get_by_label("Senha da Agência Virtual").fill(maria["portal password"])
    page.get_by_role("button", name="Cadastrar unidade").click()
    expect(page.get_by_role("status")).to_have_text("Unidade cadastrada.")

    # "Aderir automaticamente": the in-process service's bot enrols it at the simulator.
    page.get_by_role("button", name="Aderir automaticamente").click()
    expect(page.locator("#adesao-status")).to_have_text("Aderida à Conta Digital", timeout=90_000)
    # The live status updates the label, then reloads the page: wait for the page rendered after it.
    expect(page.locator("#adesao")).to_have_attribute("data-final", "sim")
    expect(page.get_by_role("button", name="Aderir automaticamente")).to_be_enabled()
    with AdminClient(simulator, token) as admin:
        installation = admin.installation(maria["installation"])
        customer = admin.customer(maria["portal login"])
    assert installation["enrolled"] and installation["adhesion_submissions"] == 1
    assert customer["email"].startswith(f"uc-{maria['installation']}-")

    # The billing cycle from the page: the bill is read, stored and forwarded; the page shows both.
    page.get_by_role("button", name="Gerar faturas do mês (simulador)").click()
    expect(page.get_by_role("status")).to_contain_text("1 fatura(s)")
    forwarded = page.locator("#faturas").get_by_role("row").filter(has_text=f"Encaminhada para {MARIA}")
    mailbox = page.locator("#caixa-do-cliente").get_by_role("row").filter(has_text=".pdf")
    deadline = time.monotonic() + 60
    while not (forwarded.count() and mailbox.count()) and time.monotonic() < deadline:
        page.wait_for_timeout(1000)  # the service works in the background: look again
        page.reload()
    expect(forwarded).to_have_count(1)
    expect(mailbox).to_have_count(1)
    expect(page.locator("#adesao-status")).to_have_text("Verificada (primeira fatura recebida)")

    # Ctrl-C's twin: SIGTERM stops everything cleanly, the simulator included.
    assert sandbox.stop() == 0
    assert sandbox.output[-1] == "sandbox stopped"
    assert _refused(simulator) and _refused(dashboard)

    # The client's mailbox in the embedded mail system: exactly one forward, with the bill's PDF.
    (received,) = sorted((sandbox.data_dir / "clients" / MARIA).glob("*.eml"))
    message = email.message_from_bytes(received.read_bytes(), policy=email.policy.default)
    assert MARIA in message["To"] and "faturas@faturas.example.com" in message["From"]
    (pdf,) = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    # Bills from 2026 are named after the UC code CEMIG prints on them, no longer the installation.
    assert pdf.get_content().startswith(b"%PDF-") and pdf.get_filename().startswith("Conta_CEMIG_")
    assert f"instalação {maria['installation']}" in message["Subject"]
