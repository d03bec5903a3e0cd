"""procurement: lots carry their status and the evaluation their award was made on; a fee
event may carry the amount its line fixed under the pooled-procurement rule

Revision ID: prc3
Revises: bil3
Create Date: 2026-12-07 02:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'prc3'
down_revision = 'bil3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lot', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=12), server_default='open', nullable=False))
        batch_op.add_column(sa.Column('award_record', sa.JSON(), nullable=True))
    op.execute("UPDATE lot SET status = 'awarded' WHERE awarded_bid_id IS NOT NULL")

    with op.batch_alter_table('chargeable_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_usd', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('chargeable_event', schema=None) as batch_op:
        batch_op.drop_column('fee_usd')

    with op.batch_alter_table('lot', schema=None) as batch_op:
        batch_op.drop_column('award_record')
        batch_op.drop_column('status')
