"""What a command or job needs, built from the settings on first use and passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from config.logs import RedactSecrets
from config.settings import Settings
from storage import migrate
from storage.engine import make_engine
from storage.secrets import KeyRing, load_key_ring
from storage.units import InboxPolicy

if TYPE_CHECKING:
    from storage.blob_s3 import S3BlobStore


@dataclass
class AppContext:
    """Settings plus the lazily opened engine and keys; nothing is opened until a command needs it."""

    settings: Settings
    redactor: RedactSecrets = field(default_factory=RedactSecrets)

    @cached_property
    def raw_engine(self) -> Engine:
        """The database engine as it is, without touching the schema (for `faturas db …`)."""
        return make_engine(self.settings.database_url)

    @cached_property
    def engine(self) -> Engine:
        """The database engine, upgraded to the newest schema on first use."""
        migrate.ensure_schema(self.raw_engine)
        return self.raw_engine

    @cached_property
    def s3_blobs(self) -> S3BlobStore:
        """The S3 blob store of `blobs.s3_*` (one client, reused: making one costs tens of milliseconds)."""
        from storage.blob_s3 import S3BlobStore, s3_client  # botocore only when the backend is S3

        settings = self.settings
        self.redactor.register(settings.blobs_s3_secret_access_key)  # e.g. inside a botocore error message
        client = s3_client(endpoint_url=settings.blobs_s3_endpoint_url, region=settings.blobs_s3_region,
                           access_key_id=settings.blobs_s3_access_key_id,
                           secret_access_key=settings.blobs_s3_secret_access_key)
        return S3BlobStore(client=client, bucket=settings.blobs_s3_bucket or "", prefix=settings.blobs_s3_prefix)

    def close(self) -> None:
        """Release database connections (called when the command ends)."""
        if "raw_engine" in self.__dict__:
            self.raw_engine.dispose()

    def keys(self) -> KeyRing:
        """The encryption keys; SecretKeyMissing (with how to create one) when there are none."""
        return load_key_ring(env_keys=self.settings.secret_keys, key_file=self.settings.key_file)

    def keys_if_any(self) -> KeyRing | None:
        """The keys, or None when none are configured (for commands that store no secret)."""
        if self.settings.secret_keys or self.settings.key_file.exists():
            return self.keys()
        return None

    @property
    def inbox_policy(self) -> InboxPolicy:
        """How new inbox addresses are made."""
        return InboxPolicy(pattern=self.settings.inbox_pattern, domain=self.settings.inbox_domain)
