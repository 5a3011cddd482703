"""notes as data, the customer's language, consent per channel

ledger and card_ledger .note_kind / note_args: a note's kind and values, rendered in the reader's language (old rows keep
their text and have none); customer.language: the customer's own language (NULL: the shop's);
consent_record.channel (membership, email, sms) and .version (the wording's version). Consent recorded
before channels was the answer to "receive offers", which the e-mail channel carries on.

Revision ID: 0008_notes
Revises: 0007_taxid
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0008_notes'
down_revision = '0008_pass'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger') as batch:
        batch.add_column(sa.Column('note_kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch.add_column(sa.Column('note_args', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    with op.batch_alter_table('card_ledger') as batch:
        batch.add_column(sa.Column('note_kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=True))
        batch.add_column(sa.Column('note_args', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True))
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table('consent_record') as batch:
        batch.add_column(sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                   server_default='email'))
        batch.add_column(sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('consent_record') as batch:
        batch.drop_column('version')
        batch.drop_column('channel')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('card_ledger') as batch:
        batch.drop_column('note_args')
        batch.drop_column('note_kind')
    with op.batch_alter_table('ledger') as batch:
        batch.drop_column('note_args')
        batch.drop_column('note_kind')
