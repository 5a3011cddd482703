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
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A migration that rebuilds a table other tables refer to (0010_lean: purchase) drops it and
            # renames its copy: SQLite asks for foreign keys off meanwhile (a pragma outside a transaction,
            # so on the driver's connection: SQLAlchemy would begin one first). Rows and ids are copied as
            # they are, so no reference is broken.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Tills of a chain may all start the new version at once: one upgrades, the others
                    # wait here and then find nothing left to do.
                    from sqlalchemy import text

                    connection.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
                command.upgrade(alembic_config(connection), revision)
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
