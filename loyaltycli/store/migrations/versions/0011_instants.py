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


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    for table, columns in TIMES.items():
        sets = ", ".join(f"{c} = {microseconds(c)}" for c in columns)
        texts = " OR ".join(f"typeof({c}) = 'text'" for c in columns)
        bind.exec_driver_sql(f"UPDATE {table} SET {sets} WHERE {texts}")
        left = bind.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE {texts}").scalar()
        if left:  # a text strftime could not read: refused (the migration's transaction rolls back)
            raise RuntimeError(f"0011_instants: {left} rows of {table} hold a time that is not a time")


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
