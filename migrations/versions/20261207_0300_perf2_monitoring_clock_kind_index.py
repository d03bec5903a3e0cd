"""monitoring: clocks indexed by service kind and working time, for the dashboard's percentiles

The dashboard's processing-time query groups a year of clocks by kind with
``percentile_cont(…) WITHIN GROUP (ORDER BY working_seconds)``. Without this index
PostgreSQL read the table and sorted every clock by kind, spilling to disk at 150,000
clocks; with it the clocks come out of the index in that order (on PostgreSQL the index
covers the other columns the query reads, so the table is not visited).

Revision ID: perf2
Revises: ui2
Create Date: 2026-12-07 03:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf2'
down_revision = 'hr1'
branch_labels = None
depends_on = None

INCLUDE = ['ended_at', 'within_target', 'target_seconds', 'agency_id', 'line']


def upgrade():
    op.create_index('ix_monitoring_clock_kind_time', 'monitoring_clock', ['kind', 'working_seconds'],
                    postgresql_include=INCLUDE)


def downgrade():
    op.drop_index('ix_monitoring_clock_kind_time', table_name='monitoring_clock')
