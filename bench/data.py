"""Bulk bench data: N service requests with a realistic spread, for the dashboard benchmark.

``python -m bench.data --requests 200000`` (``BENCH_DATABASE_URL`` or ``--database-url``,
default a throw-away SQLite file) migrates the database, loads the demo base data if it
is missing, and inserts the requests set-based, in batches of plain ``INSERT``s.

What it writes, and what it does not:

- ``service_request`` rows only, of the four real request types, spread over the seven
  demo agencies (weighted by how busy each is) and over the twelve months before now,
  each in a status of its type's table with the time stamps that status implies
  (submitted ≤ approved ≤ started ≤ completed, closed for rejected and cancelled ones),
  an SLA due time on ICT tickets and open work, and ``version`` 1;
- references from the real counters: each ``(prefix, year)`` block is reserved with one
  ``UPDATE counter … RETURNING``, so requests filed afterwards get fresh references;
- **no** line detail rows (requisitions, trips, tickets), timeline entries, charges,
  notifications or **audit events**: these rows are bench data for aggregates over
  requests, not demo data to open one by one. The audit chain is untouched, so
  ``jof audit verify`` still passes after a load.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

#: Request types with their reference prefix and the share of each status.
SPREAD = {
    "procurement": ("PRC", {"completed": 50, "ordered": 10, "sourcing": 10, "approved": 6, "certified": 2,
                            "submitted": 7, "draft": 5, "rejected": 5, "cancelled": 5}),
    "travel": ("TRV", {"completed": 58, "in_progress": 15, "approved": 8, "submitted": 7, "draft": 4,
                       "rejected": 4, "cancelled": 4}),
    "ict_ticket": ("ICT", {"closed": 62, "resolved": 10, "in_progress": 10, "assigned": 5, "new": 8,
                           "waiting_on_requester": 3, "cancelled": 2}),
    "ict_subscription": ("ICS", {"approved": 55, "completed": 25, "submitted": 10, "draft": 5, "cancelled": 5}),
}
#: Share of each request type among the requests.
TYPE_SHARE = {"ict_ticket": 45, "travel": 25, "procurement": 20, "ict_subscription": 10}
#: How busy each demo agency is (as in the demo history).
AGENCY_WEIGHT = {"UNDP": 6, "UNFPA": 3, "UNESCO": 3, "UNWOMEN": 2, "UNOPS": 4, "UNEP": 2, "UNAIDS": 1}
#: Statuses that passed through approval / start / completion / closing.
APPROVED = {"approved", "certified", "sourcing", "ordered", "in_progress", "completed", "assigned", "waiting_on_requester",
            "resolved", "closed"}
STARTED = {"sourcing", "ordered", "in_progress", "completed", "assigned", "waiting_on_requester", "resolved", "closed"}
COMPLETED = {"completed", "resolved", "closed"}
CLOSED = {"rejected", "cancelled", "closed"}
BATCH = 10_000


@dataclass
class Loaded:
    requests: int
    seconds: float
    by_status: dict[tuple[str, str], int]


def _stamps(rng: random.Random, created: datetime, status: str, request_type: str) -> dict:
    at = created
    row: dict = {"created_at": created, "submitted_at": None, "certified_at": None, "approved_at": None,
                 "started_at": None, "completed_at": None, "closed_at": None, "sla_due_at": None}
    if status == "draft":
        row["status_changed_at"] = created
        return row
    at += timedelta(minutes=rng.randint(5, 240))
    row["submitted_at"] = at
    if request_type == "ict_ticket":
        row["sla_due_at"] = at + timedelta(hours=rng.choice([4, 8, 24, 64]))
    desk = request_type == "ict_ticket"  # a ticket goes from the desk's queue to work, unapproved
    if not desk and (status == "certified" or (status in APPROVED and rng.random() < 0.05)):
        at += timedelta(hours=rng.randint(1, 30))
        row["certified_at"] = at
    if not desk and status in APPROVED:
        at += timedelta(hours=rng.randint(1, 40))
        row["approved_at"] = at
    if status in STARTED:
        at += timedelta(hours=rng.randint(1, 72))
        row["started_at"] = at
    if status in COMPLETED:
        at += timedelta(hours=rng.randint(2, 400))
        row["completed_at"] = at
    if status in CLOSED:
        at += timedelta(hours=rng.randint(1, 48))
        row["closed_at"] = at
    row["status_changed_at"] = at
    return row


def _reserve(session, prefix: str, year: int, count: int) -> int:
    """Reserve ``count`` numbers of the ``(prefix, year)`` reference counter; the first one."""
    from sqlalchemy import update
    from sqlalchemy.dialects import postgresql, sqlite

    from jof.core.counters import Counter

    key = f"ref:{prefix}:{year}"
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(Counter).values(key=key, value=0).on_conflict_do_nothing(index_elements=["key"]))
    last = session.execute(update(Counter).where(Counter.key == key).values(value=Counter.value + count)
                           .returning(Counter.value)).scalar_one()
    return last - count + 1


def bulk_requests(n: int, *, seed: int = 2026, now: datetime | None = None) -> Loaded:
    """Insert ``n`` requests (the demo base data must be loaded); commits every batch."""
    from sqlalchemy import select

    from jof.core.db import db
    from jof.core.people import Agency, User
    from jof.core.workflow import ServiceRequest

    started = time.monotonic()
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    agencies = {a.code: a.id for a in db.session.scalars(select(Agency))}
    requesters = {code: db.session.scalar(select(User.id).where(User.email == f"requester@{code.lower()}.jof.example"))
                  for code in agencies}
    codes = [c for c in AGENCY_WEIGHT if c in agencies]
    types = list(TYPE_SHARE)
    by_status: dict[tuple[str, str], int] = {}
    for lo in range(0, n, BATCH):
        rows = []
        for _ in range(min(BATCH, n - lo)):
            rtype = rng.choices(types, weights=[TYPE_SHARE[t] for t in types])[0]
            prefix, statuses = SPREAD[rtype]
            status = rng.choices(list(statuses), weights=list(statuses.values()))[0]
            code = rng.choices(codes, weights=[AGENCY_WEIGHT[c] for c in codes])[0]
            created = now - timedelta(days=365) + timedelta(seconds=rng.randint(0, 365 * 86400 - 30 * 86400))
            row = _stamps(rng, created, status, rtype)
            amount = None
            if rtype != "ict_ticket":
                amount = Decimal(rng.randint(500, 4_000_000)) / 100
            row.update(request_type=rtype, agency_id=agencies[code], requester_id=requesters[code],
                       title=f"Bench {rtype.replace('_', ' ')}", description="", status=status,
                       amount_usd=amount, version=1, _prefix=prefix)
            rows.append(row)
            by_status[(rtype, status)] = by_status.get((rtype, status), 0) + 1
        # References: one block per (prefix, year of filing), as the counters would give them.
        groups: dict[tuple[str, int], list[dict]] = {}
        for row in rows:
            groups.setdefault((row.pop("_prefix"), row["created_at"].year), []).append(row)
        for (prefix, year), members in sorted(groups.items()):
            first = _reserve(db.session, prefix, year, len(members))
            for i, row in enumerate(members):
                row["reference"] = f"{prefix}-{year}-{first + i:05d}"
        db.session.execute(ServiceRequest.__table__.insert(), rows)
        db.session.commit()
    return Loaded(n, time.monotonic() - started, by_status)


def prepare(url: str):
    """The app on ``url``, migrated, with the demo base data."""
    from flask_migrate import upgrade

    from jof import create_app, demo
    from jof.core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        demo.load("bench-password-1")
        db.session.commit()
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='jof-bench-')}/bench.db"
    app = prepare(url)
    with app.app_context():
        loaded = bulk_requests(args.requests, seed=args.seed)
    print(f"{loaded.requests} requests inserted in {loaded.seconds:.1f} s "
          f"({loaded.requests / loaded.seconds:,.0f}/s) into {url.rsplit('@', 1)[-1]}")


if __name__ == "__main__":
    main()
