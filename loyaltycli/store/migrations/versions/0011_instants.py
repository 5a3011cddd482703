"""times as integers on SQLite (issue 26): every time column holds whole microseconds since 1970 (UTC), an
INTEGER, where it held the text '2026-03-01 12:00:00.000000'. PostgreSQL keeps its timestamps.

Revision ID: 0011_instants
Revises: 0010_lean
"""
from alembic import op


revision = '0011_instants'
down_revision = '0010_lean'
branch_labels = None
depends_on = None

# Every time column of the schema at 0010_lean (store/models.UTCDateTime), by table.
TIMES = {
    'customer': ('enrolled_at',),
    'consent_record': ('at',),
    'purchase': ('at',),
    'ledger': ('at', 'expires_at', 'recorded_at'),
    'referral': ('at', 'rewarded_at'),
    'reward': ('created_at',),
    'redemption': ('at',),
    'membership': ('started_at', 'ends_at', 'cancelled_at'),
    'cause': ('created_at',),
    'donation': ('at',),
    'survey_response': ('at',),
    'product': ('updated_at',),
    'import_file': ('imported_at',),
    'import_run': ('started_at', 'finished_at'),
    'card': ('created_at',),
    'card_ledger': ('at', 'expires_at', 'recorded_at'),
    'pass_key': ('created_at', 'retired_at'),
    'customer_pass': ('issued_at', 'revoked_at'),
    'notice': ('covered_until', 'created_at', 'sent_at'),
    'goal': ('created_at',),
    'goal_ledger': ('at', 'recorded_at'),
}


def microseconds(column: str) -> str:
    """SQL: the stored text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (naive UTC) of ``column`` as microseconds since
    1970; a value that is not text (NULL, or already converted) is left as it is."""
    return (f"CASE WHEN typeof({column}) = 'text' THEN "
            f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr(substr({column}, 21) || '000000', 1, 6) AS INTEGER) ELSE {column} END")


_DATE = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
_MINUTE = _DATE + "[ T][0-9][0-9]:[0-9][0-9]"
_SECOND = _MINUTE + ":[0-9][0-9]"


def readable(column: str) -> str:
    """SQL: ``column`` is NULL, an integer, or a text this migration reads exactly: 'YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]' (a
    'T' for the space too; no offset), a real date (not 2026-02-30, not year 0) and a real time of day (not
    24:00), as SQLAlchemy and the import wrote it. strftime alone would also read 'now', '12:00', a Julian
    day number, 2026-02-30 (as 2 March) or an offset it then drops."""
    c = column
    shape = (f"({c} GLOB '{_DATE}' OR {c} GLOB '{_MINUTE}' OR {c} GLOB '{_SECOND}' "
             f"OR {c} GLOB '{_SECOND}.[0-9]*' AND length({c}) <= 26 AND substr({c}, 21) NOT GLOB '*[^0-9]*')")
    real = (f"(substr({c}, 1, 4) > '0000' AND date(substr({c}, 1, 10), '+0 days') = substr({c}, 1, 10) "
            f"AND (length({c}) = 10 OR substr({c}, 12, 2) < '24' AND substr({c}, 15, 2) < '60' "
            f"AND (length({c}) = 16 OR substr({c}, 18, 2) < '60')))")
    # an integer is a time already converted: written through UTCDateTime by an earlier migration of the
    # same upgrade (0008_pass makes the first card key)
    # coalesce: date() of a month 13 or a day 0 is NULL, which would make the whole test NULL (not false)
    return f"coalesce(typeof({c}) IN ('null', 'integer') OR typeof({c}) = 'text' AND {shape} AND {real}, 0)"


def _refuse_unreadable(bind, table: str, columns: tuple[str, ...]) -> None:
    """Stops the upgrade (its transaction rolls back: nothing changed) at a time it could not convert
    exactly, naming the row: strftime would read such a text as NULL, or ignore an offset."""
    for column in columns:
        row = bind.exec_driver_sql(f"SELECT rowid, {column} FROM {table} WHERE NOT {readable(column)} LIMIT 1").first()
        if row is not None:
            from loyaltycli.store.db import NotATime

            raise NotATime(table, column, row[0], row[1])


def _time_indexes(bind, table: str, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """(name, CREATE INDEX) of ``table``'s own indexes that hold one of ``columns``."""
    out = []
    for name, sql in bind.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                          "AND tbl_name = ? AND sql IS NOT NULL", (table,)).all():
        held = {row[2] for row in bind.exec_driver_sql(f'PRAGMA index_info("{name}")')}
        if held & set(columns):
            out.append((name, sql))
    return out


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, columns in TIMES.items():
        _refuse_unreadable(bind, table, columns)
        # The indexes that hold a time are built again after the rows changed, not kept up row by row: an
        # UPDATE of every row would move each of their entries in random order (a large database's pages
        # written many times over). Same SQL, same names: the schema is as it was.
        indexes = _time_indexes(bind, table, columns)
        for name, _sql in indexes:
            bind.exec_driver_sql(f'DROP INDEX "{name}"')
        sets = ", ".join(f"{c} = {microseconds(c)}" for c in columns)
        texts = " OR ".join(f"typeof({c}) = 'text'" for c in columns)
        bind.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {texts}")
        for _name, sql in indexes:
            bind.exec_driver_sql(sql)


def text(column: str) -> str:
    """SQL: the microseconds of ``column`` as the text 0010_lean stored (NULL and text left as they are)."""
    micro = f"(({column} % 1000000 + 1000000) % 1000000)"
    return (f"CASE WHEN typeof({column}) = 'integer' THEN strftime('%Y-%m-%d %H:%M:%S', ({column} - {micro}) "
            f"/ 1000000, 'unixepoch') || printf('.%06d', {micro}) ELSE {column} END")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, columns in TIMES.items():
        sets = ", ".join(f"{c} = {text(c)}" for c in columns)
        bind.exec_driver_sql(f"UPDATE {table} SET {sets}")
