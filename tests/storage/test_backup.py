"""Backups round-trip: every row and every blob comes back, on SQLite and PostgreSQL; an altered backup is refused."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from cli.main import build_app
from cli.support import EXIT_INPUT, run_app
from storage.backup import MANIFEST, backup, restore
from storage.blobs import BlobStore
from storage.engine import make_engine, session_scope
from storage.errors import BackupError
from storage.mail_models import Invoice
from storage.secrets import KeyRing, new_key
from storage.units import InboxPolicy, create_unit
from tests.factories import unit_in

POLICY = InboxPolicy(pattern="uc-{installation}-{token}", domain="faturas.example.com")


def _rows(engine) -> dict[str, list[tuple]]:
    present = set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        return {t.name: sorted(tuple(str(v) for v in row) for row in connection.execute(select(t)).all())
                for t in SQLModel.metadata.sorted_tables if t.name in present}


def _files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _fill(engine, blobs: BlobStore, keys: KeyRing) -> None:
    with session_scope(engine) as session:
        for n in range(1, 4):
            unit = create_unit(session=session, unit_in=unit_in(n, portal_login=f"cliente{n}@example.com",
                                                               portal_password=f"pw{n}",
                                                               pdf_password="1234"), keys=keys, inbox=POLICY)
            pdf = blobs.put(b"%PDF-1.7 bill " + bytes([n]) * 100)
            blobs.put(b"screenshot " + bytes([n]), keys=keys)
            session.add(Invoice(unit_id=unit.id, reference_month=f"2026-0{n}", status="parsed", fingerprint=str(n) * 64,
                                pdf_sha256=pdf, source="upload", amount_due=Decimal("123.45"),
                                data={"items": [{"description": "Energia Elétrica", "amount": "123.45"}]}))


def _target_url(database_url: str, tmp_path, postgres) -> str:
    return f"sqlite:///{tmp_path / 'restored.db'}" if database_url.startswith("sqlite") else postgres.create_database()


def test_every_row_and_blob_comes_back(database_url, tmp_path, postgres):
    keys = KeyRing((new_key(),))
    engine = make_engine(database_url)
    blobs = BlobStore(tmp_path / "blobs")
    _fill(engine, blobs, keys)
    report = backup(engine=engine, blobs_root=blobs.root, folder=tmp_path / "backup")
    assert report.rows["unit"] == 3 and report.rows["invoice"] == 3 and report.blobs == 6
    assert (tmp_path / "backup" / MANIFEST).is_file()

    target = make_engine(_target_url(database_url, tmp_path, postgres))
    restored = restore(engine=target, blobs_root=tmp_path / "restored-blobs", folder=tmp_path / "backup")
    assert restored.rows == report.rows and restored.revision == report.revision
    assert _rows(target) == _rows(engine)
    assert _files(tmp_path / "restored-blobs") == _files(blobs.root)
    again = BlobStore(tmp_path / "restored-blobs")
    with session_scope(target) as session:
        for invoice in session.exec(select(Invoice)).scalars():
            assert again.get(invoice.pdf_sha256).startswith(b"%PDF-")
    with pytest.raises(BackupError, match="not empty"):
        restore(engine=target, blobs_root=tmp_path / "restored-blobs", folder=tmp_path / "backup")
    engine.dispose()
    target.dispose()


def test_an_altered_or_unfinished_backup_is_refused(database_url, tmp_path, postgres):
    engine = make_engine(database_url)
    blobs = BlobStore(tmp_path / "blobs")
    _fill(engine, blobs, KeyRing((new_key(),)))
    backup(engine=engine, blobs_root=blobs.root, folder=tmp_path / "backup")
    with pytest.raises(BackupError, match="not empty"):
        backup(engine=engine, blobs_root=blobs.root, folder=tmp_path / "backup")
    victim = next(p for p in (tmp_path / "backup" / "blobs").rglob("*") if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"x")
    target = make_engine(_target_url(database_url, tmp_path, postgres))
    with pytest.raises(BackupError, match="altered"):
        restore(engine=target, blobs_root=tmp_path / "restored", folder=tmp_path / "backup")
    assert not (tmp_path / "restored").exists()
    (tmp_path / "backup" / MANIFEST).unlink()
    with pytest.raises(BackupError, match="no manifest.json"):
        restore(engine=target, blobs_root=tmp_path / "restored", folder=tmp_path / "backup")
    engine.dispose()
    target.dispose()


def test_the_commands_round_trip_and_name_the_key_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", f"sqlite:///{tmp_path / 'data' / 'faturas.db'}")
    monkeypatch.delenv("FATURAS_SECRET_KEYS", raising=False)
    monkeypatch.setenv("COLUMNS", "250")
    assert run_app(build_app(), ["keys", "generate"]) == 0
    assert run_app(build_app(), ["units", "add", "-i", "3000000001", "-n", "Maria", "-d", "52998224725"]) == 0
    assert run_app(build_app(), ["backup", str(tmp_path / "bk")]) == 0
    out = capsys.readouterr().out
    assert "backed up" in out and "the key file is not in the backup" in out and "keys" in out
    monkeypatch.setenv("FATURAS_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert run_app(build_app(), ["restore", str(tmp_path / "bk")]) == 0
    assert "every hash and row count matched" in capsys.readouterr().out
    assert run_app(build_app(), ["units", "show", "3000000001"]) == 0
    assert run_app(build_app(), ["restore", str(tmp_path / "bk")]) == EXIT_INPUT  # not empty any more
    assert "not empty" in capsys.readouterr().err
