"""PDFs are read in a limited child process (issue 14, item 7): a flate bomb costs a bill, not the worker."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from processor.errors import BillUnreadable
from processor.isolate import _READERS, read_isolated, warm_reader
from processor.types import PdfPart
from storage.engine import session_scope
from storage.mail_models import MailMessage
from tests.processor.bomb import bomb_pdf
from tests.processor.mime import bill, bill_message, plain_message

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomba.pdf"
    path.write_bytes(bomb_pdf(2048))  # 2 MB on disk, 2 GiB inflated (3.1 GB peak RSS when read in-process)
    return path


def test_a_flate_bomb_ends_too_large_and_the_reader_stays_small(bomb):
    done = subprocess.run([sys.executable, "-m", "tests.processor.bomb", str(bomb), "512"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["bills"] == 0 and result["failures"][0][1] == "too_large", result
    assert result["peak_rss_mb"] < 300, result  # the process that reads mail never holds the inflated stream


def test_a_flate_bomb_in_the_mail_is_quarantined_and_the_good_bill_goes_on(world, bomb):
    world.settings = world.settings.model_copy(update={"shards": 1})
    unit = world.add_unit(1)
    world.deliver(plain_message(unit.inbox_address, attachments=[(bomb.read_bytes(), "application/pdf",
                                                                  "fatura.pdf", "attachment")]),
                  bill_message(unit.inbox_address, unit.installation, "2026-10"))
    world.poll()
    with session_scope(world.engine) as session:
        rows = {m.uid: m for m in session.exec(select(MailMessage))}
    assert rows[1].stage == "too_large" and "MiB" in rows[1].error and rows[1].user_message
    assert rows[2].stage == "parsed"
    assert world.counts() == {"INBOX": 0, "Processed": 1, "Quarantine": 1} and len(world.smtp.messages) == 1


def test_a_pdf_that_takes_too_long_is_abandoned_as_unreadable():
    generated = bill("3000055479", "2025-10")  # a 2024-layout bill prints the installation
    with pytest.raises(BillUnreadable, match="took over"):
        read_isolated(PdfPart(filename="lenta.pdf", data=generated.pdf), passwords=(), utility="cemig",
                      installations=(), limit_bytes=512 * 2**20, timeout_s=0.0001)
    read = read_isolated(PdfPart(filename="conta.pdf", data=generated.pdf), passwords=(), utility="cemig",
                         installations=("3000055479",), limit_bytes=512 * 2**20, timeout_s=60)
    assert read.bill.reference_month == "2025-10" and not read.needs_review


def test_a_warmed_reader_is_the_one_that_reads_the_first_bill():
    limit = 384 * 2**20  # a limit of its own: a reader no other test started
    warm_reader(limit)
    reader = _READERS[limit]
    child = reader._child
    assert child is not None and child.is_alive()  # started before any PDF: the service pays it at start-up
    generated = bill("3000055479", "2025-10")
    read = read_isolated(PdfPart(filename="conta.pdf", data=generated.pdf), passwords=(), utility="cemig",
                         installations=("3000055479",), limit_bytes=limit, timeout_s=60)
    assert read.bill.reference_month == "2025-10"
    assert reader._child is child  # no second start for the first bill
