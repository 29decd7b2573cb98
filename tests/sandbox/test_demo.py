"""`faturas demo` end to end, its summary checked against the simulator's and the mail servers' state."""

from __future__ import annotations

import email
import email.policy

import pytest
from rich.console import Console

from sandbox.demo import CYCLES, SAMPLES, run_demo

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_demo_enrols_bills_and_forwards_every_sample_unit(tmp_path):
    console = Console(record=True, width=200)
    run = run_demo(console=console, data_dir=tmp_path / "demo")
    output = console.export_text()

    # The simulator: every sample installation enrolled once, bills addressed to the unit's inbox.
    installations = {i["installation"]: (c, i) for c in run.simulator_report["customers"] for i in c["installations"]}
    assert set(installations) == {s.installation for s in SAMPLES}
    for customer, installation in installations.values():
        assert installation["enrolled"] and installation["adhesion_submissions"] == 1
        assert customer["email"].startswith(f"uc-{installation['installation']}-")

    # The summary: one row per sample, verified by the first bill, both cycles stored and forwarded once.
    assert [r.installation for r in run.rows] == [s.installation for s in SAMPLES]
    for row, sample in zip(run.rows, SAMPLES, strict=True):
        assert row.adhesion == "verified" and row.bills == len(CYCLES) and row.forwarded == len(CYCLES)
        assert row.forwarded_to == sample.email
        assert all(amount != "-" for amount in row.amounts)
        assert row.installation in output and sample.email in output

    # The client relay: exactly one forward per bill, each with the original PDF and a pt-BR subject.
    assert len(run.relay_messages) == len(SAMPLES) * len(CYCLES)
    assert len({content for _, content in run.relay_messages}) == len(run.relay_messages)
    for recipient, content in run.relay_messages:
        message = email.message_from_bytes(content, policy=email.policy.default)
        pdfs = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
        assert len(pdfs) == 1 and pdfs[0].get_content().startswith(b"%PDF-")
        assert recipient in {s.email for s in SAMPLES}
    assert run.report.exists() and "Demonstração do faturas" in run.report.read_text(encoding="utf-8")


def test_the_summary_is_not_cut_when_stdout_is_not_a_terminal():
    import io

    from sandbox.demo import DemoRow, print_summary

    row = DemoRow(unit_id=1, installation="3000000001", client="Maria da Silva Sauro Longo de Andrade",
                  adhesion="verified", bills=2, amounts=("107.59", "278.17"), consumption_kwh=("364", "363"),
                  compensated_kwh=("314", "163"),
                  forwarded_to="maria.da.silva.com.um.endereco.bem.comprido@cliente-exemplo.com.br", forwarded=2)
    out = io.StringIO()
    print_summary(Console(file=out, width=80, force_terminal=False), (row,))
    text = out.getvalue()
    assert "forwarded to: maria.da.silva.com.um.endereco.bem.comprido@cliente-exemplo.com.br (2)" in text
    assert "client: Maria da Silva Sauro Longo de Andrade" in text and "…" not in text
