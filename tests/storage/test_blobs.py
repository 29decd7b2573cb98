import hashlib

import pytest

from storage.blobs import BlobStore
from storage.errors import SecretKeyInvalid
from storage.secrets import KeyRing, new_key


def test_plain_blobs_are_content_addressed_and_stored_once(tmp_path):
    store = BlobStore(tmp_path)
    digest = store.put(b"%PDF-1.7 bill")
    assert digest == hashlib.sha256(b"%PDF-1.7 bill").hexdigest()
    assert store.put(b"%PDF-1.7 bill") == digest
    assert store.get(digest) == b"%PDF-1.7 bill"
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


def test_encrypted_blobs_hold_nothing_readable(tmp_path):
    keys = KeyRing((new_key(),))
    store = BlobStore(tmp_path)
    digest = store.put(b"screenshot with CPF 529.982.247-25", keys=keys)
    (path,) = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert path.name.endswith(".enc") and b"529.982" not in path.read_bytes()
    assert store.get(digest, keys=keys) == b"screenshot with CPF 529.982.247-25"
    with pytest.raises(SecretKeyInvalid):
        store.get(digest, keys=KeyRing((new_key(),)))
    assert store.delete(digest, encrypted=True) and not store.exists(digest, encrypted=True)


def test_names_must_be_digests(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        BlobStore(tmp_path).get("../../etc/passwd")
