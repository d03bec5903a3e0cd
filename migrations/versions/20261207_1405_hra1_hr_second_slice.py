"""hr: public applications with attachments, referees, panels, recommendation reports, purge and its tallies

Second slice of issue 14: an application's source (officer, public page, CSV import), its
attachments and referees; the candidate's optional self-declared gender and nationality
(reported only as aggregates) and when the purge removed their personal data; the public
page's one-time tokens and rate-limit counts; the assessment panel; the recommendation
report's frozen ranked table; what the purge keeps of the candidates it redacted
(counts by gender and nationality).

Revision ID: hra1
Revises: mon2
Create Date: 2026-12-07 14:05:46.716647

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'hra1'
down_revision = 'mon2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hr_purged_tally',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('value', sa.String(length=20), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_hr_purged_tally_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_purged_tally')),
    sa.UniqueConstraint('year', 'agency_id', 'dimension', 'value', name=op.f('uq_hr_purged_tally_year_agency_id_dimension_value'))
    )
    op.create_table('hr_panel_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('conflict_note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], name=op.f('fk_hr_panel_member_added_by_id_user')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_panel_member_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_hr_panel_member_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_panel_member')),
    sa.UniqueConstraint('recruitment_id', 'user_id', name=op.f('uq_hr_panel_member_recruitment_id_user_id'))
    )
    with op.batch_alter_table('hr_panel_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_panel_member_recruitment_id'), ['recruitment_id'], unique=False)

    op.create_table('hr_recommendation_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('made_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('made_by_id', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['made_by_id'], ['user.id'], name=op.f('fk_hr_recommendation_report_made_by_id_user')),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_recommendation_report_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_recommendation_report'))
    )
    with op.batch_alter_table('hr_recommendation_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_recommendation_report_recruitment_id'), ['recruitment_id'], unique=False)

    op.create_table('hr_application_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=130), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['hr_application.id'], name=op.f('fk_hr_application_attachment_application_id_hr_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_application_attachment'))
    )
    with op.batch_alter_table('hr_application_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_application_attachment_application_id'), ['application_id'], unique=False)

    op.create_table('hr_public_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['hr_application.id'], name=op.f('fk_hr_public_submission_application_id_hr_application'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_public_submission')),
    sa.UniqueConstraint('token', name=op.f('uq_hr_public_submission_token'))
    )
    with op.batch_alter_table('hr_public_submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_public_submission_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_public_submission_at'), ['at'], unique=False)

    op.create_table('hr_referee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['hr_application.id'], name=op.f('fk_hr_referee_application_id_hr_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_referee'))
    )
    with op.batch_alter_table('hr_referee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_referee_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hr_referee_email'), ['email'], unique=False)

    with op.batch_alter_table('hr_application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='officer', nullable=False))

    with op.batch_alter_table('hr_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gender', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('nationality', sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))



def downgrade():
    with op.batch_alter_table('hr_candidate', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
        batch_op.drop_column('nationality')
        batch_op.drop_column('gender')

    with op.batch_alter_table('hr_application', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('hr_referee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_referee_email'))
        batch_op.drop_index(batch_op.f('ix_hr_referee_application_id'))

    op.drop_table('hr_referee')
    with op.batch_alter_table('hr_public_submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_public_submission_at'))
        batch_op.drop_index(batch_op.f('ix_hr_public_submission_address'))

    op.drop_table('hr_public_submission')
    with op.batch_alter_table('hr_application_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_application_attachment_application_id'))

    op.drop_table('hr_application_attachment')
    with op.batch_alter_table('hr_recommendation_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_recommendation_report_recruitment_id'))

    op.drop_table('hr_recommendation_report')
    with op.batch_alter_table('hr_panel_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_panel_member_recruitment_id'))

    op.drop_table('hr_panel_member')
    op.drop_table('hr_purged_tally')
