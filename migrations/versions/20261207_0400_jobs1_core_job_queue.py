"""core job queue: billing's job table becomes core's ``job``, for every line's kinds

Billing's batch jobs (period close, a period's PDFs) move onto core's job queue
(``jof.core.jobs``), which monitoring's monthly report and board pack use too. The new
table holds the kind's name (any registered kind, not billing's enum), its parameters
as JSON, and the month it is about only when it is about one. Billing's rows are copied
with their ids (the job pages' URLs stay valid) and ``{"period": "YYYY-MM"}`` as their
parameters. Downgrading keeps billing's rows and drops the others' (their kinds did not
exist before).

Revision ID: jobs1
Revises: perf2
Create Date: 2026-12-07 04:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'jobs1'
down_revision = 'perf2'
branch_labels = None
depends_on = None

COMMON = ('id', 'kind', 'period', 'status', 'done', 'total', 'message', 'result', 'requested_by_id',
          'created_at', 'started_at', 'finished_at')
BILLING_KINDS = ('close_period', 'render_period')


def _columns(kind_length: int, period_nullable: bool, with_params: bool) -> list:
    cols = [sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('kind', sa.String(length=kind_length), nullable=False)]
    if with_params:
        cols.append(sa.Column('params', sa.JSON(), nullable=False))
    return cols + [
        sa.Column('period', sa.Date(), nullable=period_nullable),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('result', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    ]


def _copy(source: str, target: sa.Table, rows_filter=None, params: bool = False) -> None:
    conn = op.get_bind()
    # Typed as the columns are, so dates, times and JSON are read and written as values.
    types = {c.name: c.type for c in _columns(40, True, False)}
    src = sa.table(source, *(sa.column(c, types[c]) for c in COMMON))
    stmt = sa.select(*(src.c[c] for c in COMMON)).order_by(src.c.id)
    if rows_filter is not None:
        stmt = stmt.where(src.c.kind.in_(rows_filter))
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    for row in rows:
        if params:
            row['params'] = {'period': f"{row['period']:%Y-%m}"} if row['period'] else {}
    if rows:
        conn.execute(target.insert(), rows)
    if conn.dialect.name == 'postgresql':  # ids were copied: the sequence goes on after them
        conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{target.name}', 'id'), "
                             f"COALESCE((SELECT MAX(id) FROM {target.name}), 0) + 1, false)"))


def upgrade():
    job = op.create_table('job', *_columns(40, True, True),
                          sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'],
                                                  name=op.f('fk_job_requested_by_id_user')),
                          sa.PrimaryKeyConstraint('id', name=op.f('pk_job')))
    op.create_index(op.f('ix_job_kind'), 'job', ['kind'], unique=False)
    _copy('billing_job', job, params=True)
    op.drop_table('billing_job')


def downgrade():
    billing_job = op.create_table('billing_job', *_columns(20, False, False),
                                  sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'],
                                                          name=op.f('fk_billing_job_requested_by_id_user')),
                                  sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_job')))
    _copy('job', billing_job, rows_filter=BILLING_KINDS)
    op.drop_index(op.f('ix_job_kind'), table_name='job')
    op.drop_table('job')
