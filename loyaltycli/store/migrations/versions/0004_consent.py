"""consent records: when and how a customer agreed to receive offers

Revision ID: 0004_consent
Revises: 0003_safety
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.store.models


revision = '0004_consent'
down_revision = '0003_safety'
branch_labels = None
depends_on = None

# Consent given before this revision has no record of when or how: say so rather than invent one.
BACKFILL_HOW = "recorded before loyaltycli kept consent records (time: enrollment)"


def upgrade() -> None:
    op.create_table('consent_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('how', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_consent_record_customer_id'), 'consent_record', ['customer_id'], unique=False)
    op.execute(sa.text("INSERT INTO consent_record (customer_id, at, given, how) "
                       "SELECT id, enrolled_at, :given, :how FROM customer WHERE consent = :given ORDER BY id")
               .bindparams(given=True, how=BACKFILL_HOW))


def downgrade() -> None:
    op.drop_index(op.f('ix_consent_record_customer_id'), table_name='consent_record')
    op.drop_table('consent_record')
