"""Blobs in an S3-compatible object store (`blobs.backend = "s3"`): AWS S3, MinIO, Ceph, Garage, moto.

Workers on several machines then share nothing but the database and the bucket. Objects are named
`<prefix><ab>/<cdef…>` (plus `.enc` for encrypted blobs), the layout of the file backend, so a bucket can be
filled by copying a `blobs/` folder. A PUT in S3 is atomic (an object is whole or absent), so a crash never
leaves half a blob; writing a blob that exists is skipped after a HEAD, and two workers writing the same
PDF at once write the same bytes under the same name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from storage.blobs import check_digest, put_content
from storage.secrets import KeyRing

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


@dataclass(frozen=True)
class S3BlobStore:
    """The `Blobs` protocol over one bucket and key prefix; `client` is a boto3 S3 client."""

    client: Any
    bucket: str
    prefix: str = ""

    def _key(self, digest: str, *, encrypted: bool) -> str:
        check_digest(digest)
        return f"{self.prefix}{digest[:2]}/{digest[2:]}{'.enc' if encrypted else ''}"

    def put(self, data: bytes, *, keys: KeyRing | None = None) -> str:
        """Store bytes (encrypted when `keys` is given) and return their sha256."""
        return put_content(self, data, keys)

    def within(self, session: Session) -> S3BlobStore:  # noqa: ARG002 - a bucket is not in the database
        """Itself: an object is uploaded at once, whatever the transaction does (an orphan is harmless)."""
        return self

    def write_raw(self, digest: str, *, encrypted: bool, payload: bytes) -> None:
        """Upload a payload under its name, with its sha256 for the store to check; no-op when present."""
        if self.exists(digest, encrypted=encrypted):
            return
        self.client.put_object(Bucket=self.bucket, Key=self._key(digest, encrypted=encrypted), Body=payload,
                               ChecksumAlgorithm="SHA256")

    def read_raw(self, digest: str, *, encrypted: bool) -> bytes:
        """The stored payload; FileNotFoundError when there is none (as the file backend)."""
        key = self._key(digest, encrypted=encrypted)
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(f"no blob {key} in s3://{self.bucket}") from None
            raise
        with answer["Body"] as body:
            return body.read()

    def get(self, digest: str, *, keys: KeyRing | None = None) -> bytes:
        """The bytes of a blob; encrypted blobs need the key ring."""
        payload = self.read_raw(digest, encrypted=keys is not None)
        return keys.decrypt_bytes(payload) if keys is not None else payload

    def exists(self, digest: str, *, encrypted: bool = False) -> bool:
        """Whether a blob is stored (one HEAD request)."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(digest, encrypted=encrypted))
        except ClientError as exc:
            if _missing(exc):
                return False
            raise
        return True

    def delete(self, digest: str, *, encrypted: bool = False) -> bool:
        """Remove a blob (artifact retention); returns whether it existed."""
        if not self.exists(digest, encrypted=encrypted):
            return False
        self.client.delete_object(Bucket=self.bucket, Key=self._key(digest, encrypted=encrypted))
        return True

    def names(self) -> Iterator[tuple[str, bool]]:
        """Every blob under the prefix as (sha256, encrypted), in name order (other objects are skipped)."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix):]
                folder, _, rest = name.partition("/")
                encrypted = rest.endswith(".enc")
                digest = folder + (rest[:-4] if encrypted else rest)
                try:
                    check_digest(digest)
                except ValueError:
                    continue
                yield digest, encrypted


def s3_client(*, endpoint_url: str | None, region: str, access_key_id: str | None,
              secret_access_key: str | None) -> Any:  # noqa: ANN401 - a boto3 client
    """A boto3 S3 client; without keys, boto3's own chain (AWS_* variables, profiles, instance roles)."""
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60,
                    s3={"addressing_style": "path"} if endpoint_url else None)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                        aws_secret_access_key=secret_access_key, config=config)
