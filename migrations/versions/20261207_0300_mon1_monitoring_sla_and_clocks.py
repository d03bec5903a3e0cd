"""monitoring: service-level agreements with their targets, and the working time each
request's clock took

Revision ID: mon1
Revises: hard1
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'mon1'
down_revision = 'alrt1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'monitoring_sla',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=True),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('notes', sa.Text(), nullable=False),
        sa.Column('document_name', sa.String(length=200), nullable=True),
        sa.Column('document_sha256', sa.String(length=64), nullable=True),
        sa.Column('document_size', sa.Integer(), nullable=True),
        sa.Column('document', sa.LargeBinary(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_monitoring_sla_agency_id_agency')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_monitoring_sla_recorded_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_sla')),
    )
    op.create_index(op.f('ix_monitoring_sla_agency_id'), 'monitoring_sla', ['agency_id'], unique=False)
    op.create_table(
        'monitoring_sla_target',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sla_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['sla_id'], ['monitoring_sla.id'], name=op.f('fk_monitoring_sla_target_sla_id_monitoring_sla'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_sla_target')),
        sa.UniqueConstraint('sla_id', 'kind', name=op.f('uq_monitoring_sla_target_sla_id_kind')),
    )
    op.create_index(op.f('ix_monitoring_sla_target_sla_id'), 'monitoring_sla_target', ['sla_id'], unique=False)
    op.create_table(
        'monitoring_clock',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('line', sa.String(length=20), nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('working_seconds', sa.Integer(), nullable=False),
        sa.Column('target_seconds', sa.Integer(), nullable=True),
        sa.Column('within_target', sa.Boolean(), nullable=True),
        sa.Column('late_step', sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_monitoring_clock_agency_id_agency')),
        sa.ForeignKeyConstraint(['request_id'], ['service_request.id'],
                                name=op.f('fk_monitoring_clock_request_id_service_request'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_monitoring_clock')),
        sa.UniqueConstraint('request_id', 'kind', name=op.f('uq_monitoring_clock_request_id_kind')),
    )
    op.create_index(op.f('ix_monitoring_clock_agency_id'), 'monitoring_clock', ['agency_id'], unique=False)
    op.create_index(op.f('ix_monitoring_clock_request_id'), 'monitoring_clock', ['request_id'], unique=False)
    op.create_index('ix_monitoring_clock_period', 'monitoring_clock', ['ended_at', 'line', 'agency_id'], unique=False)


def downgrade():
    op.drop_index('ix_monitoring_clock_period', table_name='monitoring_clock')
    op.drop_index(op.f('ix_monitoring_clock_request_id'), table_name='monitoring_clock')
    op.drop_index(op.f('ix_monitoring_clock_agency_id'), table_name='monitoring_clock')
    op.drop_table('monitoring_clock')
    op.drop_index(op.f('ix_monitoring_sla_target_sla_id'), table_name='monitoring_sla_target')
    op.drop_table('monitoring_sla_target')
    op.drop_index(op.f('ix_monitoring_sla_agency_id'), table_name='monitoring_sla')
    op.drop_table('monitoring_sla')
