"""Blob backends: the folder, the database and S3 (moto's server) behave alike; `faturas blobs migrate` copies
and verifies; two workers with separate data folders share bills through the database or S3 alone."""

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
from tests.servers.s3 import S3Server


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server.start()
    yield server
    server.stop()


@pytest.fixture(params=["file", "database", "s3"])
def store(request, engine, tmp_path):
    if request.param == "s3":
        return request.getfixturevalue("s3_server").store()
    return BlobStore(tmp_path / "blobs") if request.param == "file" else DatabaseBlobStore(engine)


def test_s3_names_skip_foreign_objects_and_honour_the_prefix(s3_server):
    bucket = s3_server.new_bucket()
    ours, theirs = s3_server.store(bucket, prefix="faturas/"), s3_server.store(bucket, prefix="outro/")
    digest = ours.put(b"%PDF- one")
    ours.client.put_object(Bucket=bucket, Key="faturas/README.txt", Body=b"not a blob")
    assert list(ours.names()) == [(digest, False)] and list(theirs.names()) == []
    assert not theirs.exists(digest)


def test_an_s3_server_that_is_down_is_an_error_not_a_missing_blob(tmp_path):
    from botocore.exceptions import EndpointConnectionError

    from storage.blob_s3 import S3BlobStore, s3_client
    from tests.servers.dovecot import free_port
    from tests.servers.s3 import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY

    client = s3_client(endpoint_url=f"http://127.0.0.1:{free_port()}", region=REGION,
                       access_key_id=ACCESS_KEY_ID, secret_access_key=SECRET_ACCESS_KEY)
    store = S3BlobStore(client=client, bucket="b")
    with pytest.raises(EndpointConnectionError):
        store.exists("0" * 64)  # never "absent": a bill would be stored again or reported lost


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


def test_a_database_blob_written_within_a_session_commits_or_rolls_back_with_it(engine):
    store = DatabaseBlobStore(engine)
    kept, dropped = b"%PDF-1.7 stored with its invoice", b"%PDF-1.7 whose invoice failed"
    with session_scope(engine) as session:
        digest = store.within(session).put(kept)
        assert not store.exists(digest)  # another connection does not see it before the commit
    assert store.get(digest) == kept
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        lost = store.within(session).put(dropped)
        raise RuntimeError("the invoice could not be stored")
    assert not store.exists(lost)  # no PDF left behind by a bill that was not recorded


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_file_and_s3_stores_write_at_once_whatever_the_session(backend, request, engine, tmp_path):
    store = request.getfixturevalue("s3_server").store() if backend == "s3" else BlobStore(tmp_path / "blobs")
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        digest = store.within(session).put(b"%PDF-1.7 written before the rollback")
        raise RuntimeError("rolled back")
    assert store.exists(digest)  # an orphan, harmless: names are content, and the bill is retried


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


def _worker(tmp_path, name: str, database_url: str, key: str, backend: dict[str, str]) -> AppContext:
    return AppContext(settings=load_settings({
        "HOME": str(tmp_path / name), "FATURAS_DATA_DIR": str(tmp_path / name / "data"),
        "FATURAS_DATABASE_URL": database_url, "FATURAS_SECRET_KEYS": key, **backend}))


@pytest.mark.parametrize("backend", ["database", "s3"])
def test_two_workers_with_separate_data_folders_share_bills_through_the_backend(tmp_path, database_url, backend,
                                                                                request):
    key = new_key()
    if backend == "s3":
        server = request.getfixturevalue("s3_server")
        environment = server.environment(server.new_bucket())
    else:
        environment = {"FATURAS_BLOBS_BACKEND": "database"}
    first = _worker(tmp_path, "a", database_url, key, environment)
    second = _worker(tmp_path, "b", database_url, key, environment)
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


def test_the_command_moves_blobs_to_s3_and_verifies_them(tmp_path, monkeypatch, capsys, s3_server):
    bucket = s3_server.new_bucket()
    monkeypatch.setenv("FATURAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FATURAS_DATABASE_URL", f"sqlite:///{tmp_path / 'faturas.db'}")
    monkeypatch.setenv("FATURAS_SECRET_KEYS", new_key())
    monkeypatch.setenv("COLUMNS", "250")
    for name, value in s3_server.environment(bucket).items():
        if name != "FATURAS_BLOBS_BACKEND":
            monkeypatch.setenv(name, value)
    files = BlobStore(tmp_path / "data" / "blobs")
    names = {files.put(b"%%PDF- bill %d" % n) for n in range(3)}
    assert run_app(build_app(), ["blobs", "migrate", "--to", "s3"]) == 0
    assert "3 blob(s) verified in the s3 backend (3 copied" in capsys.readouterr().out
    assert {name for name, _ in s3_server.store(bucket).names()} == names
    monkeypatch.setenv("FATURAS_BLOBS_BACKEND", "s3")
    run_app(build_app(), ["doctor"])  # fails elsewhere (no mailbox here); the blob line is what is read
    blob_line = next(line for line in capsys.readouterr().out.splitlines() if " blobs:" in line)
    assert "write, read back and delete a probe" in blob_line, blob_line


def test_s3_without_a_bucket_is_a_configuration_error(tmp_path):
    from storage.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="s3_bucket"):
        load_settings({"HOME": str(tmp_path), "FATURAS_BLOBS_BACKEND": "s3"})
    with pytest.raises(ConfigurationError, match="or neither"):
        load_settings({"HOME": str(tmp_path), "FATURAS_BLOBS_BACKEND": "s3", "FATURAS_BLOBS_S3_BUCKET": "b",
                       "FATURAS_BLOBS_S3_ACCESS_KEY_ID": "only-the-id"})
