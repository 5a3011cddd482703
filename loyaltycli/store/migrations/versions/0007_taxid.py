"""tax id: customer.tax_id (NIF, NIE, CNP, CUI, codice fiscale in compact form), a unique KEY

Revision ID: 0007_taxid
Revises: 0006_cards
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0007_taxid'
down_revision = '0006_cards'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('tax_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch.create_index('ix_customer_tax_id', ['tax_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.drop_index('ix_customer_tax_id')
        batch.drop_column('tax_id')
