"""A real S3-protocol server for tests: moto's standalone server in a child process, on loopback.

moto answers the S3 REST API (signatures, HEAD, paginated listings, checksums) from memory; it is the
S3-compatible server installable here (MinIO and the rest are not packaged for Debian). Each test takes a
fresh bucket, so tests never see each other's blobs.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass

from storage.blob_s3 import S3BlobStore, s3_client
from tests.servers.dovecot import _wait_for_port, free_port

ACCESS_KEY_ID = "faturas-test"
SECRET_ACCESS_KEY = "faturas-test-secret"  # noqa: S105 - moto accepts any credentials
REGION = "us-east-1"


@dataclass
class S3Server:
    """One moto server: its URL, and buckets made on demand."""

    url: str
    process: subprocess.Popen

    @classmethod
    def start(cls) -> S3Server:
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_for_port(port, timeout=60)
        except Exception:
            process.kill()
            raise
        return cls(url=f"http://127.0.0.1:{port}", process=process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def client(self):  # noqa: ANN201 - a boto3 client
        return s3_client(endpoint_url=self.url, region=REGION, access_key_id=ACCESS_KEY_ID,
                         secret_access_key=SECRET_ACCESS_KEY)

    def new_bucket(self) -> str:
        name = f"faturas-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def store(self, bucket: str | None = None, prefix: str = "faturas/") -> S3BlobStore:
        return S3BlobStore(client=self.client(), bucket=bucket or self.new_bucket(), prefix=prefix)

    def environment(self, bucket: str) -> dict[str, str]:
        """The settings that point faturas at `bucket` on this server."""
        return {"FATURAS_BLOBS_BACKEND": "s3", "FATURAS_BLOBS_S3_BUCKET": bucket,
                "FATURAS_BLOBS_S3_ENDPOINT_URL": self.url, "FATURAS_BLOBS_S3_REGION": REGION,
                "FATURAS_BLOBS_S3_ACCESS_KEY_ID": ACCESS_KEY_ID,
                "FATURAS_BLOBS_S3_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
