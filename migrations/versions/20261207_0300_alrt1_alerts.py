"""alerts: per-person preferences, the daily digest, timed alerts sent once, the kind of
an in-app notification

Revision ID: alrt1
Revises: hard1
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

import jof.core.timeutil

# revision identifiers, used by Alembic.
revision = 'alrt1'
down_revision = 'hard1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'alert_preference',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('channel', sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_preference_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_preference')),
        sa.UniqueConstraint('user_id', 'kind', name=op.f('uq_alert_preference_user_id_kind')),
    )
    with op.batch_alter_table('alert_preference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_preference_user_id'), ['user_id'], unique=False)
    op.create_table(
        'alert_digest',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('daily', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_alert_digest_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_alert_digest')),
    )
    op.create_table(
        'sent_alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('object_key', sa.String(length=100), nullable=False),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('occasion', sa.String(length=64), nullable=False),
        sa.Column('sent_at', jof.core.timeutil.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['recipient_id'], ['user.id'], name=op.f('fk_sent_alert_recipient_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_alert')),
        sa.UniqueConstraint('kind', 'object_key', 'recipient_id', 'occasion',
                            name=op.f('uq_sent_alert_kind_object_key_recipient_id_occasion')),
    )
    with op.batch_alter_table('sent_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sent_alert_recipient_id'), ['recipient_id'], unique=False)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=30), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('sent_alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sent_alert_recipient_id'))
    op.drop_table('sent_alert')
    op.drop_table('alert_digest')
    with op.batch_alter_table('alert_preference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_preference_user_id'))
    op.drop_table('alert_preference')
