"""a leaner purchase and ledger for bulk history (issue 26): the unique (source, receipt_id) constraint and
the (upper(receipt_id), source) look-up index become one unique index on (upper(receipt_id), source,
receipt_id); on SQLite the refund_of_id and ledger purchase_id indexes hold only the rows that name a sale

Revision ID: 0010_lean
Revises: 0008_safe
"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0010_lean'
down_revision = '0008_safe'
branch_labels = None
depends_on = None

# the unique constraint as create_all and 0001's batch operations wrote it into purchase's CREATE TABLE
_UNIQUE = re.compile(r",\s*(CONSTRAINT\s+\"?uq_purchase_source_receipt\"?\s+)?UNIQUE\s*\(\s*\"?source\"?\s*,"
                     r"\s*\"?receipt_id\"?\s*\)", re.IGNORECASE)


def _sqlite_rebuild_purchase(bind) -> None:
    """SQLite cannot drop a table's UNIQUE constraint: purchase is copied into a table without it (same
    columns, rows and ids), the old one dropped and the copy renamed (run_upgrade turns foreign keys off
    for the migration, as SQLite's own procedure for schema changes asks)."""
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'purchase'").scalar()
    lean, found = _UNIQUE.subn("", sql)
    if found != 1:
        raise RuntimeError("0010_lean: purchase's unique (source, receipt_id) constraint not found in its schema")
    lean, named = re.subn(r"^\s*CREATE\s+TABLE\s+\"?purchase\"?", "CREATE TABLE _lean_purchase", lean, count=1,
                          flags=re.IGNORECASE)
    if named != 1:
        raise RuntimeError("0010_lean: unexpected CREATE TABLE of purchase")
    columns = ", ".join(f'"{row[1]}"' for row in bind.exec_driver_sql("PRAGMA table_info(purchase)"))
    bind.exec_driver_sql(lean)
    bind.exec_driver_sql(f"INSERT INTO _lean_purchase ({columns}) SELECT {columns} FROM purchase")
    bind.exec_driver_sql("DROP TABLE purchase")  # its indexes go with it
    bind.exec_driver_sql("ALTER TABLE _lean_purchase RENAME TO purchase")
    op.create_index('ix_purchase_customer_at', 'purchase', ['customer_id', 'at', 'amount'])
    op.create_index('ix_purchase_at', 'purchase', ['at', 'amount', 'customer_id', 'channel'])
    op.create_index('ix_purchase_refund_of_id', 'purchase', ['refund_of_id'],
                    sqlite_where=sa.text('refund_of_id IS NOT NULL'))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        _sqlite_rebuild_purchase(bind)
        op.drop_index('ix_ledger_purchase_id', table_name='ledger')
        op.create_index('ix_ledger_purchase_id', 'ledger', ['purchase_id'],
                        sqlite_where=sa.text('purchase_id IS NOT NULL'))
    else:
        # PostgreSQL keeps whole refund_of_id and ledger purchase_id indexes, as create_all makes them
        op.drop_constraint('uq_purchase_source_receipt', 'purchase', type_='unique')
        op.drop_index('ix_purchase_receipt_ci', table_name='purchase')
    op.create_index('uq_purchase_receipt', 'purchase', [sa.text('upper(receipt_id)'), 'source', 'receipt_id'],
                    unique=True)


def downgrade() -> None:
    bind = op.get_bind()
    op.drop_index('uq_purchase_receipt', table_name='purchase')
    if bind.dialect.name == 'sqlite':
        op.drop_index('ix_ledger_purchase_id', table_name='ledger')
        op.create_index('ix_ledger_purchase_id', 'ledger', ['purchase_id'])
        op.drop_index('ix_purchase_refund_of_id', table_name='purchase')
        op.create_index('ix_purchase_refund_of_id', 'purchase', ['refund_of_id'])
        # a unique index in place of the table's constraint: the same rule
        op.create_index('uq_purchase_source_receipt', 'purchase', ['source', 'receipt_id'], unique=True)
    else:
        op.create_unique_constraint('uq_purchase_source_receipt', 'purchase', ['source', 'receipt_id'])
    op.create_index('ix_purchase_receipt_ci', 'purchase', [sa.text('upper(receipt_id)'), 'source'])
