"""Alembic environment: runs on the connection `storage.migrate` hands over, against SQLModel's metadata."""

from alembic import context
from sqlmodel import SQLModel

import storage.blob_models  # noqa: F401 - registers the tables on SQLModel.metadata
import storage.generation  # noqa: F401
import storage.login_models  # noqa: F401
import storage.mail_models  # noqa: F401
import storage.models  # noqa: F401
import storage.oauth_models  # noqa: F401
import storage.web_models  # noqa: F401

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
