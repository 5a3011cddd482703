"""safety: the operator who wrote a ledger row by hand

Revision ID: 0003_safety
Revises: 0002_shop
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0003_safety'
down_revision = '0002_shop'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Who did it (award, refund, redeem, merge, forget): `--by NAME`, LOYALTY_OPERATOR or the OS user.
    # Rows written before this revision, and rows written by rules (purchases, imports), have none.
    op.add_column('ledger', sa.Column('operator', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('ledger') as batch:
        batch.drop_column('operator')
