"""receipt ids compared case-insensitively: an index on purchase (upper(receipt_id), source), for one source
or across sources (the same till imported under another --source)

Revision ID: 0008_safe
Revises: 0007_taxid
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_safe'
down_revision = '0009_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_purchase_receipt_ci', 'purchase', [sa.text('upper(receipt_id)'), 'source'])


def downgrade() -> None:
    op.drop_index('ix_purchase_receipt_ci', table_name='purchase')
