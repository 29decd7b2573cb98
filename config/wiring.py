"""The composition root's builders: the objects that commands, jobs and pages share, wired from the settings.

Every caller that needs the blob store or the mail pipeline takes it from here, so there is one place where
a setting (the data folder, the DKIM key file, the keys) turns into a running object.
"""

from __future__ import annotations

from config.context import AppContext
from processor.pipeline import Pipeline
from storage.blob_db import DatabaseBlobStore
from storage.blobs import Blobs, BlobStore
from storage.errors import ConfigurationError


def blob_store(app: AppContext, backend: str | None = None) -> Blobs:
    """The content-addressed store of bill PDFs, screenshots and traces: `blobs.backend`, or `backend`."""
    chosen = backend or app.settings.blobs_backend
    if chosen == "database":
        return DatabaseBlobStore(app.engine)
    if chosen == "s3":
        return app.s3_blobs
    return BlobStore(app.settings.data_dir / "blobs")


def build_pipeline(app: AppContext) -> Pipeline:
    """The mail pipeline over the configured database, blob store, keys and mail settings.

    Raises ConfigurationError when `mail.dkim_key_file` names a file that does not exist.
    """
    settings = app.settings.mail
    dkim_key = None
    if settings.dkim_key_file is not None:
        if not settings.dkim_key_file.exists():
            raise ConfigurationError(f"mail.dkim_key_file: {settings.dkim_key_file} does not exist")
        dkim_key = settings.dkim_key_file.read_bytes()
    return Pipeline(engine=app.engine, settings=settings, blobs=blob_store(app), keys=app.keys_if_any(),
                    dkim_key=dkim_key, on_secret=app.redactor.register)
