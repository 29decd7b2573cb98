"""Blob backends: the folder and the database behave alike; `faturas blobs migrate` copies and verifies; two
workers with separate data folders share bills through the database backend alone."""

from __future__ import annotations

import hashlib

import pytest

from cli.main import build_app
from cli.support import EXIT_INPUT, run_app
from config.context import AppContext
from config.settings import load_settings
from config.wiring import blob_store, build_pipeline
from processor.uploads import import_files
from storage.blob_db import DatabaseBlobStore
from storage.blob_migrate import migrate_blobs
from storage.blobs import BlobStore
from storage.engine import make_engine, session_scope
from storage.errors import BackupError
from storage.secrets import KeyRing, new_key
from storage.units import create_unit
from tests.factories import unit_in
from tests.processor.mime import bill


@pytest.fixture(params=["file", "database"])
def store(request, engine, tmp_path):
    return BlobStore(tmp_path / "blobs") if request.param == "file" else DatabaseBlobStore(engine)


def test_every_backend_keeps_plain_and_encrypted_blobs_alike(store):
    keys = KeyRing((new_key(),))
    pdf = b"%PDF-1.7 a bill"
    digest = store.put(pdf)
    assert digest == hashlib.sha256(pdf).hexdigest() and store.put(pdf) == digest  # stored once
    assert store.get(digest) == pdf and store.exists(digest) and not store.exists(digest, encrypted=True)
    secret = store.put(b"a screenshot of a logged-in portal", keys=keys)
    assert store.read_raw(secret, encrypted=True) != b"a screenshot of a logged-in portal"
    assert store.get(secret, keys=keys) == b"a screenshot of a logged-in portal"
    store.write_raw(digest, encrypted=False, payload=pdf)  # a second writer of the same blob: no error
    assert sorted(store.names()) == sorted([(digest, False), (secret, True)])
    assert store.delete(secret, encrypted=True) and not store.delete(secret, encrypted=True)
    with pytest.raises(FileNotFoundError):
        store.get(secret, keys=keys)
    with pytest.raises(ValueError, match="sha256"):
        store.get("../../etc/passwd")


def test_migrate_copies_verifies_and_refuses_a_damaged_blob(engine, tmp_path):
    keys = KeyRing((new_key(),))
    files = BlobStore(tmp_path / "blobs")
    names = {files.put(b"bill %d" % n) for n in range(5)} | {files.put(b"trace", keys=keys)}
    database = DatabaseBlobStore(engine)
    first = migrate_blobs(source=files, target=database, keys=keys)
    assert (first.copied, first.present, first.verified) == (6, 0, 6)
    assert {name for name, _ in database.names()} == names
    again = migrate_blobs(source=files, target=database, keys=keys)
    assert (again.copied, again.present) == (0, 6)
    damaged = files.put(b"a bill that will rot")
    path = tmp_path / "blobs" / damaged[:2] / damaged[2:]
    path.write_bytes(b"bit rot")
    with pytest.raises(BackupError, match=f"blob {damaged} does not match its name"):
        migrate_blobs(source=files, target=database, keys=keys)


def _worker(tmp_path, name: str, database_url: str, key: str) -> AppContext:
    return AppContext(settings=load_settings({
        "HOME": str(tmp_path / name), "FATURAS_DATA_DIR": str(tmp_path / name / "data"),
        "FATURAS_DATABASE_URL": database_url, "FATURAS_SECRET_KEYS": key, "FATURAS_BLOBS_BACKEND": "database"}))


def test_two_workers_with_separate_data_folders_share_bills_through_the_database(tmp_path, database_url):
    key = new_key()
    first, second = _worker(tmp_path, "a", database_url, key), _worker(tmp_path, "b", database_url, key)
    with session_scope(first.engine) as session:
        unit_id = create_unit(session=session, unit_in=unit_in(1), keys=first.keys(), inbox=first.inbox_policy).id
    generated = bill("3000000001", "2026-11")
    path = tmp_path / generated.filename
    path.write_bytes(generated.pdf)
    (result,) = import_files(build_pipeline(first), unit_ref=str(unit_id), paths=[path])
    assert result.outcome == "new"
    artifact = blob_store(first).put(b"failure screenshot", keys=first.keys())
    from storage.mail_models import Invoice

    with session_scope(second.engine) as session:
        invoice = session.get(Invoice, result.invoice_id)
        assert blob_store(second).get(invoice.pdf_sha256) == generated.pdf
    assert blob_store(second).get(artifact, keys=second.keys()) == b"failure screenshot"
    assert not (tmp_path / "a" / "data" / "blobs").exists() and not (tmp_path / "b" / "data" / "blobs").exists()
    first.close()
    second.close()


def test_the_command_moves_blobs_both_ways(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'faturas.db'}"
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", url)
    monkeypatch.setenv("FATURAS_SECRET_KEYS", new_key())
    monkeypatch.setenv("COLUMNS", "250")
    digest = BlobStore(tmp_path / "data" / "blobs").put(b"%PDF- one bill")
    assert run_app(build_app(), ["blobs", "migrate", "--to", "database"]) == 0
    assert "1 blob(s) verified in the database backend (1 copied" in capsys.readouterr().out
    engine = make_engine(url)
    assert DatabaseBlobStore(engine).get(digest) == b"%PDF- one bill"
    monkeypatch.setenv("FATURAS_BLOBS_BACKEND", "database")
    assert run_app(build_app(), ["blobs", "migrate", "--to", "database"]) == EXIT_INPUT
    assert "already in the database backend" in capsys.readouterr().err
    (tmp_path / "data" / "blobs" / digest[:2] / digest[2:]).unlink()
    assert run_app(build_app(), ["blobs", "migrate", "--to", "file"]) == 0
    assert BlobStore(tmp_path / "data" / "blobs").get(digest) == b"%PDF- one bill"
    engine.dispose()
