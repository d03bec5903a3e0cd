"""HR: shared rosters (effective-dated entries, candidates' consent to a from-roster recruitment), the onboarding checklist, and the ICT order's link to the request it was filed for

Revision ID: hrb1
Revises: jobs1
Create Date: 2026-12-07 15:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'hrb1'
down_revision = 'jobs1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('hr_recruitment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_roster', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('hr_recruitment', schema=None) as batch_op:
        batch_op.alter_column('from_roster', server_default=None)
    with op.batch_alter_table('ict_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filed_for', sa.String(length=30), nullable=True))

    op.create_table('hr_roster_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('job_family', sa.String(length=80), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('total', sa.Numeric(precision=9, scale=4), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['hr_candidate.id'], name=op.f('fk_hr_roster_entry_candidate_id_hr_candidate')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_roster_entry_recruitment_id_hr_recruitment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_roster_entry')),
    sa.UniqueConstraint('candidate_id', 'recruitment_id', name=op.f('uq_hr_roster_entry_candidate_id_recruitment_id'))
    )
    with op.batch_alter_table('hr_roster_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_roster_entry_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_roster_entry_job_family'), ['job_family'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_roster_entry_recruitment_id'), ['recruitment_id'], unique=False)

    op.create_table('hr_roster_consent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('roster_entry_id', sa.Integer(), nullable=False),
    sa.Column('agrees', sa.Boolean(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['hr_application.id'], name=op.f('fk_hr_roster_consent_application_id_hr_application')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_hr_roster_consent_recorded_by_id_user')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_roster_consent_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['roster_entry_id'], ['hr_roster_entry.id'], name=op.f('fk_hr_roster_consent_roster_entry_id_hr_roster_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_roster_consent')),
    sa.UniqueConstraint('recruitment_id', 'roster_entry_id', name=op.f('uq_hr_roster_consent_recruitment_id_roster_entry_id'))
    )
    with op.batch_alter_table('hr_roster_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_roster_consent_recruitment_id'), ['recruitment_id'], unique=False)

    op.create_table('hr_onboarding_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.String(length=30), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('ict_reference', sa.String(length=30), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['done_by_id'], ['user.id'], name=op.f('fk_hr_onboarding_step_done_by_id_user')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_onboarding_step_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_onboarding_step')),
    sa.UniqueConstraint('recruitment_id', 'step', name=op.f('uq_hr_onboarding_step_recruitment_id_step'))
    )
    with op.batch_alter_table('hr_onboarding_step', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_onboarding_step_recruitment_id'), ['recruitment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hr_onboarding_step', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_onboarding_step_recruitment_id'))
    op.drop_table('hr_onboarding_step')
    with op.batch_alter_table('hr_roster_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_roster_consent_recruitment_id'))
    op.drop_table('hr_roster_consent')
    with op.batch_alter_table('hr_roster_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_roster_entry_recruitment_id'))
        batch_op.drop_index(batch_op.f('ix_hr_roster_entry_job_family'))
        batch_op.drop_index(batch_op.f('ix_hr_roster_entry_candidate_id'))
    op.drop_table('hr_roster_entry')
    with op.batch_alter_table('ict_subscription', schema=None) as batch_op:
        batch_op.drop_column('filed_for')
    with op.batch_alter_table('hr_recruitment', schema=None) as batch_op:
        batch_op.drop_column('from_roster')
