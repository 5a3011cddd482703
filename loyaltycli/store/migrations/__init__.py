"""Alembic migrations, run from code (`loyalty db upgrade`, or automatically on an older database)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def alembic_config(connection=None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def run_upgrade(engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` in one transaction."""
    from alembic import command

    with engine.connect() as connection:
        connection = connection.execution_options(loyalty_write=True)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                # Tills of a chain may all start the new version at once: one upgrades, the others
                # wait here and then find nothing left to do.
                from sqlalchemy import text

                connection.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
            command.upgrade(alembic_config(connection), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
