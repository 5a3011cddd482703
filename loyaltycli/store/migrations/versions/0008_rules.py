"""goals: spend on SKU patterns in a calendar month or year gives a voucher (goal, goal_ledger)

Revision ID: 0008_rules
Revises: 0007_taxid
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.store.models


revision = '0008_rules'
down_revision = '0008_notes'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('spend', loyaltycli.store.models.BigInt(), nullable=False),
    sa.Column('skus', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('per', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('reward', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('goal_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('delta', loyaltycli.store.models.BigInt(), nullable=False),
    sa.Column('at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goal.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ),
    sa.ForeignKeyConstraint(['voucher_id'], ['goal_ledger.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_goal_ledger_customer_goal', 'goal_ledger', ['customer_id', 'goal_id', 'period'], unique=False)
    op.create_index(op.f('ix_goal_ledger_goal_id'), 'goal_ledger', ['goal_id'], unique=False)
    op.create_index(op.f('ix_goal_ledger_purchase_id'), 'goal_ledger', ['purchase_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_goal_ledger_purchase_id'), table_name='goal_ledger')
    op.drop_index(op.f('ix_goal_ledger_goal_id'), table_name='goal_ledger')
    op.drop_index('ix_goal_ledger_customer_goal', table_name='goal_ledger')
    op.drop_table('goal_ledger')
    op.drop_table('goal')
