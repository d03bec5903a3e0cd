"""``python -m bench.indexes``: the plans of the lists' queries on PostgreSQL with many rows.

A throw-away database (``BENCH_POSTGRES_URL``) gets the demo plus ``BENCH_INDEX_REQUESTS``
requests (200,000), as many audit events and charges for one month; then each query —
compiled from JOF's own query functions, as the manager sees them — is run under
``EXPLAIN ANALYZE`` twice: with the schema at the migration before ``perf1`` and at head.
Prints, per query, the top plan node and execution time of both, and the full plan at head.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, text


def _queries(manager, agency_user):
    from jof.billing import services as billing
    from jof.core import audit, workflow

    month = date(date.today().year, 2, 1)
    return {
        "queue (manager, newest first)": workflow.queue_query(manager, workflow.QueueFilter()),
        "list filtered by status": workflow.queue_query(manager, workflow.QueueFilter(status="approved")),
        "list filtered by line and open only": workflow.queue_query(
            manager, workflow.QueueFilter(line="travel", open_only=True)),
        "an agency user's list": workflow.queue_query(agency_user, workflow.QueueFilter()),
        "audit filtered by actor": audit.events_query(actor="bench7@bulk.jof.example"),
        "audit filtered by object": audit.events_query(object_type="user", object_id="7"),
        "charges of a period and agency": billing.charges_query(manager, period=month, agency_code="UNDP"),
    }


def _explain(conn, stmt) -> tuple[str, float, str]:
    compiled = stmt.limit(50).compile(conn, compile_kwargs={"literal_binds": True})
    plan = [r[0] for r in conn.execute(text(f"EXPLAIN ANALYZE {compiled}"))]
    ms = float(re.search(r"Execution Time: ([\d.]+)", "\n".join(plan)).group(1))
    nodes = [ln.strip().lstrip("-> ").split("  (")[0] for ln in plan if "(" in ln and "cost=" in ln]
    return " / ".join(nodes[:3]), ms, "\n".join(plan)


def main() -> None:
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import insert, select

    from bench.api import _seed
    from bench.billing import _bulk_charges
    from jof import create_app
    from jof.core.audit import AuditEvent
    from jof.core.db import db
    from jof.core.people import Agency, User

    n = int(os.environ.get("BENCH_INDEX_REQUESTS", "200000"))
    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_bench_{secrets.token_hex(4)}"
    url = server.rsplit("/", 1)[0] + f"/{name}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        _seed(url, n)
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
        with app.app_context():
            agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.code)))
            _bulk_charges(date(date.today().year, 2, 1), n // 2, agencies, start=1_000_000)
            start = datetime.now(UTC) - timedelta(days=365)
            for lo in range(0, n, 5000):
                db.session.execute(insert(AuditEvent), [
                    {"at": start + timedelta(minutes=i), "actor_email": f"bench{i % 5000}@bulk.jof.example",
                     "action": "bench.touch", "object_type": "user", "object_id": str(i % 5000), "request_id": ""}
                    for i in range(lo, min(n, lo + 5000))])
            db.session.commit()
            # spread the requests over time and states, as a real year would
            db.session.execute(text(
                "UPDATE service_request SET created_at = now() - (id % 365) * interval '1 day' - id * interval '1 s',"
                " status = (ARRAY['submitted','approved','in_progress','completed','closed'])[1 + id % 5]"))
            db.session.commit()
            db.session.execute(text("ANALYZE"))
            manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
            agency_user = db.session.scalar(select(User).where(User.email == "requester@undp.jof.example"))
            queries = _queries(manager, agency_user)
            # the migrations take table locks: no transaction of ours may hold one
            db.session.commit()
            db.session.remove()
            results = {}
            for label in ("before perf1", "at head"):
                if label == "before perf1":
                    downgrade(revision="hard2")  # perf1 revises hard2
                else:
                    upgrade()
                with db.engine.connect() as conn:
                    conn.execute(text("ANALYZE"))
                    for q, stmt in queries.items():
                        results.setdefault(q, {})[label] = _explain(conn, stmt)
                    conn.rollback()
            print(f"EXPLAIN ANALYZE, {n:,} requests, {n:,} audit events, {n // 2:,} charges in one month")
            for q, both in results.items():
                b, h = both["before perf1"], both["at head"]
                print(f"\n{q}\n  before perf1: {b[1]:9.2f} ms  {b[0]}\n  at head:      {h[1]:9.2f} ms  {h[0]}")
            db.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
