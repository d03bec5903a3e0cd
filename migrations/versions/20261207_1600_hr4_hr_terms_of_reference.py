"""hr: a recruitment's terms of reference, every version kept

Issue 14: the recruitment request has its terms of reference attached (PDF, DOCX or ODT);
a new version replaces the current one and the earlier ones stay as its history.

Revision ID: hr4
Revises: hra1
Create Date: 2026-12-07 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'hr4'
down_revision = 'hra1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('hr_terms_of_reference',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recruitment_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=130), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recruitment_id'], ['hr_recruitment.id'], name=op.f('fk_hr_terms_of_reference_recruitment_id_hr_recruitment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_hr_terms_of_reference_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hr_terms_of_reference')),
    sa.UniqueConstraint('recruitment_id', 'version', name=op.f('uq_hr_terms_of_reference_recruitment_id_version'))
    )
    with op.batch_alter_table('hr_terms_of_reference', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hr_terms_of_reference_recruitment_id'), ['recruitment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('hr_terms_of_reference', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hr_terms_of_reference_recruitment_id'))

    op.drop_table('hr_terms_of_reference')
