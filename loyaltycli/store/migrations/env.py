"""Alembic environment: always handed a live connection by loyaltycli.store.migrations."""

from alembic import context
from sqlmodel import SQLModel

from loyaltycli.store import models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `loyalty db upgrade`")

context.configure(connection=connection, target_metadata=target_metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
