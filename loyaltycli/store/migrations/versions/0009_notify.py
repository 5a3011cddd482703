"""e-mail statements and expiry reminders: each one given to a customer (notice)

Revision ID: 0009_notify
Revises: 0008_notes
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.store.models


revision = '0009_notify'
down_revision = '0008_rules'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('last_ledger_id', sa.Integer(), nullable=True),
    sa.Column('covered_until', loyaltycli.store.models.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('created_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', loyaltycli.store.models.UTCDateTime(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id', 'kind', 'period', name='uq_notice_customer_kind_period')
    )
    op.create_index(op.f('ix_notice_customer_id'), 'notice', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notice_customer_id'), table_name='notice')
    op.drop_table('notice')
