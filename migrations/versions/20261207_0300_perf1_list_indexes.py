"""performance: indexes for the newest-first lists, their status and agency filters,
and the audit trail's actor filter

Found with ``python -m bench.indexes`` (``EXPLAIN ANALYZE`` on PostgreSQL with 200,000
requests and audit events): without them the queue and the request lists read and sort
every request row to show the newest 50 (57–174 ms → 0.2–2.3 ms), and the audit trail
filtered by actor sorts a full scan (77 ms → 0.2 ms). Charges by period and agency and
the audit trail by object already had the plans they need.

Revision ID: perf1
Revises: hard2
Create Date: 2026-12-07 03:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'perf1'
down_revision = 'hard2'
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_service_request_newest", "service_request", ["created_at", "id"]),
    ("ix_service_request_status_newest", "service_request", ["status", "created_at"]),
    ("ix_service_request_agency_newest", "service_request", ["agency_id", "created_at"]),
    ("ix_audit_event_actor_email", "audit_event", ["actor_email"]),
)


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
