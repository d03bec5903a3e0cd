"""HR: recruitment requests with their assessment plan, candidates (personal data apart), applications and scores

Revision ID: hr1
Revises: ui1
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'hr1'
down_revision = 'perf1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hr_candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('education', sa.String(length=20), nullable=False),
    sa.Column('years_experience', sa.Integer(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_candidate'))
    )
    op.create_table('hr_recruitment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('post_title', sa.String(length=200), nullable=False),
    sa.Column('job_family', sa.String(length=80), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('contract_type', sa.String(length=30), nullable=False),
    sa.Column('duty_station', sa.String(length=120), nullable=False),
    sa.Column('closing_date', sa.Date(), nullable=False),
    sa.Column('min_education', sa.String(length=20), nullable=False),
    sa.Column('min_years_experience', sa.Integer(), nullable=False),
    sa.Column('required_languages', sa.JSON(), nullable=False),
    sa.Column('desirable_languages', sa.JSON(), nullable=False),
    sa.Column('pass_mark', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('hiring_manager_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hiring_manager_id'], ['user.id'], name=op.f('fk_hr_recruitment_hiring_manager_id_user')),
    sa.ForeignKeyConstraint(['request_id'], ['service_request.id'], name=op.f('fk_hr_recruitment_request_id_service_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_recruitment')),
    sa.UniqueConstraint('request_id', name=op.f('uq_hr_recruitment_request_id'))
    )
    with op.batch_alter_table('hr_recruitment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_recruitment_hiring_manager_id'), ['hiring_manager_id'], unique=False)

    op.create_table('hr_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('candidate_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('meets_requirements', sa.Boolean(), nullable=False),
    sa.Column('override', sa.Boolean(), nullable=True),
    sa.Column('override_comment', sa.Text(), nullable=False),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('short_listed', sa.Boolean(), nullable=False),
    sa.Column('selected', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['hr_candidate.id'], name=op.f('fk_hr_application_candidate_id_hr_candidate')),
    sa.ForeignKeyConstraint(['override_by_id'], ['user.id'], name=op.f('fk_hr_application_override_by_id_user')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_application_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_application')),
    sa.UniqueConstraint('recruitment_id', 'candidate_id', name=op.f('uq_hr_application_recruitment_id_candidate_id')),
    sa.UniqueConstraint('recruitment_id', 'seq', name=op.f('uq_hr_application_recruitment_id_seq'))
    )
    with op.batch_alter_table('hr_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_application_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('hr_assessment_method',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_assessment_method_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_assessment_method')),
    sa.UniqueConstraint('recruitment_id', 'name', name=op.f('uq_hr_assessment_method_recruitment_id_name')),
    sa.UniqueConstraint('recruitment_id', 'seq', name=op.f('uq_hr_assessment_method_recruitment_id_seq'))
    )
    op.create_table('hr_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('method_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['hr_application.id'], name=op.f('fk_hr_score_application_id_hr_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entered_by_id'], ['user.id'], name=op.f('fk_hr_score_entered_by_id_user')),
    sa.ForeignKeyConstraint(['method_id'], ['hr_assessment_method.id'], name=op.f('fk_hr_score_method_id_hr_assessment_method'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_score')),
    sa.UniqueConstraint('application_id', 'method_id', name=op.f('uq_hr_score_application_id_method_id'))
    )


def downgrade():
    op.drop_table('hr_score')
    op.drop_table('hr_assessment_method')
    with op.batch_alter_table('hr_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_application_candidate_id'))

    op.drop_table('hr_application')
    with op.batch_alter_table('hr_recruitment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_recruitment_hiring_manager_id'))

    op.drop_table('hr_recruitment')
    op.drop_table('hr_candidate')
