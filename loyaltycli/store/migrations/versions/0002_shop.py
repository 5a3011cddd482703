"""shop: customer.search_key (the name folded for case- and accent-insensitive search), backfilled

Revision ID: 0002_shop
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_shop'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('search_key', sa.String(length=200), nullable=True))
        batch.create_index('ix_customer_search_key', ['search_key'], unique=False)
    from loyaltycli.base.textkey import search_key

    bind = op.get_bind()
    customer = sa.table('customer', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('search_key', sa.String))
    rows = bind.execute(sa.select(customer.c.id, customer.c.name).where(customer.c.name.isnot(None))).all()
    for start in range(0, len(rows), 1000):
        chunk = rows[start:start + 1000]
        bind.execute(customer.update().where(customer.c.id == sa.bindparam('cid'))
                     .values(search_key=sa.bindparam('key')),
                     [{'cid': cid, 'key': search_key(name)} for cid, name in chunk])


def downgrade() -> None:
    with op.batch_alter_table('customer') as batch:
        batch.drop_index('ix_customer_search_key')
        batch.drop_column('search_key')
