"""receipt ids compared case-insensitively: an index on purchase (source, upper(receipt_id))

Revision ID: 0008_safe
Revises: 0007_taxid
"""
from alembic import op
import sqlalchemy as sa


revision = '0008_safe'
down_revision = '0007_taxid'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_purchase_source_receipt_ci', 'purchase', ['source', sa.text('upper(receipt_id)')])


def downgrade() -> None:
    op.drop_index('ix_purchase_source_receipt_ci', table_name='purchase')
