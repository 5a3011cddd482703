"""stamp cards: card definitions and the stamp-card ledger

Revision ID: 0006_cards
Revises: 0005_imports
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.store.models


revision = '0006_cards'
down_revision = '0005_imports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('card',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('stamps', sa.Integer(), nullable=False),
    sa.Column('reward', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('skus', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('min_amount', loyaltycli.store.models.BigInt(), nullable=False),
    sa.Column('per', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('expires_days', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('card_ledger',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', loyaltycli.store.models.UTCDateTime(), nullable=True),
    sa.Column('purchase_id', sa.Integer(), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['card.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['purchase_id'], ['purchase.id'], ),
    sa.ForeignKeyConstraint(['voucher_id'], ['card_ledger.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_card_ledger_customer_card', 'card_ledger', ['customer_id', 'card_id', 'at'], unique=False)
    op.create_index(op.f('ix_card_ledger_card_id'), 'card_ledger', ['card_id'], unique=False)
    op.create_index(op.f('ix_card_ledger_purchase_id'), 'card_ledger', ['purchase_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_card_ledger_purchase_id'), table_name='card_ledger')
    op.drop_index(op.f('ix_card_ledger_card_id'), table_name='card_ledger')
    op.drop_index('ix_card_ledger_customer_card', table_name='card_ledger')
    op.drop_table('card_ledger')
    op.drop_table('card')
