"""imports: files already imported (SHA-256 and size), product descriptions, exact quantities

Revision ID: 0005_imports
Revises: 0004_consent
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import loyaltycli.store.models


revision = '0005_imports'
down_revision = '0004_consent'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', loyaltycli.store.models.BigInt(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('imported_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['import_run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_import_file_run_id'), 'import_file', ['run_id'], unique=False)
    op.create_index(op.f('ix_import_file_sha256'), 'import_file', ['sha256'], unique=False)
    op.create_table('product',
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('updated_at', loyaltycli.store.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sku')
    )
    # quantities in thousandths, so that weighed goods (0.750 kg) are stored exactly; the new name makes
    # any code still writing whole units fail loudly instead of storing 1/1000 of them
    op.execute("ALTER TABLE purchase_item RENAME COLUMN quantity TO quantity_milli")
    op.execute("UPDATE purchase_item SET quantity_milli = quantity_milli * 1000")


def downgrade() -> None:
    op.execute("UPDATE purchase_item SET quantity_milli = quantity_milli / 1000")
    op.execute("ALTER TABLE purchase_item RENAME COLUMN quantity_milli TO quantity")
    op.drop_table('product')
    op.drop_index(op.f('ix_import_file_sha256'), table_name='import_file')
    op.drop_index(op.f('ix_import_file_run_id'), table_name='import_file')
    op.drop_table('import_file')
