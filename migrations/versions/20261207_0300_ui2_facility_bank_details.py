"""facility: the bank details and payment reference printed on every invoice

Revision ID: ui2
Revises: hard1
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'ui2'
down_revision = 'ui1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bank_name', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_account_holder', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_account', sa.String(length=42), server_default='', nullable=False))
        batch_op.add_column(sa.Column('bank_swift', sa.String(length=11), server_default='', nullable=False))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=100),
                                      server_default='{invoice}', nullable=False))


def downgrade():
    with op.batch_alter_table('facility', schema=None) as batch_op:
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('bank_swift')
        batch_op.drop_column('bank_account')
        batch_op.drop_column('bank_account_holder')
        batch_op.drop_column('bank_name')
