"""card codes: the keys that sign them (pass_key, one made here) and each customer's card reference

Revision ID: 0008_pass
Revises: 0007_taxid
"""
import secrets
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.core.models


revision = '0008_pass'
down_revision = '0007_taxid'
branch_labels = None
depends_on = None


def upgrade() -> None:
    key = op.create_table('pass_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', loyaltycli.core.models.UTCDateTime(), nullable=False),
    sa.Column('retired_at', loyaltycli.core.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('customer_pass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('issued_at', loyaltycli.core.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', loyaltycli.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ref')
    )
    op.create_index(op.f('ix_customer_pass_customer_id'), 'customer_pass', ['customer_id'], unique=False)
    # An upgraded database gets its signing secret now (a new one gets it at `init` or on first use).
    # (no id given: PostgreSQL's sequence then stays in step for the keys made later)
    op.bulk_insert(key, [{"secret": secrets.token_hex(32), "created_at": datetime.now(timezone.utc),
                          "retired_at": None}])


def downgrade() -> None:
    op.drop_index(op.f('ix_customer_pass_customer_id'), table_name='customer_pass')
    op.drop_table('customer_pass')
    op.drop_table('pass_key')
