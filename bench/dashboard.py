"""The manager's dashboard against its main aggregate query alone, on PostgreSQL.

``python -m bench.dashboard --requests 200000 --runs 3`` (``--quick``: 2,000 requests, in
seconds) makes a fresh PostgreSQL database on the server of ``--server-url`` (default
``JOF_BENCH_POSTGRES_URL``, then ``JOF_TEST_POSTGRES_URL``, then the local server),
migrates it, loads the demo, inserts N requests with :mod:`bench.data`, then, set-based:

- one ``monitoring_clock`` row per clock a request of that status would have stopped
  (procurement: submission to order; ICT: submission to resolution; travel: approval to
  ticket and return to claim), with working time taken as the facility's share of the
  week (50 working hours in 168) of the elapsed time, and the facility default target;
- one fee charge per completed request and a pass-through charge per completed
  requisition, in the month it completed, each with its chargeable event.

It then times ``GET /monitoring/`` through the Flask test client, logged in as the
manager (warmed once), and, in the same run, the dashboard's heaviest SQL statement (the
one that took longest while the page was built, caught with a statement listener) run
alone through the engine with the same parameters. It prints median/min/max of each,
the ratio (goal ≤ 2×), ``EXPLAIN ANALYZE`` of the heaviest statements, and writes
``bench/results-dashboard.json``. The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

GOAL = 2.0
QUICK_REQUESTS = 2_000
DEFAULT_OUT = Path(__file__).with_name("results-dashboard.json")
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "bench-password-1"

#: Working time as a share of elapsed time: 10 working hours a day, 5 days in 7.
WORKING_SHARE = 50 / 168

CLOCKS_SQL = """
INSERT INTO monitoring_clock (request_id, kind, line, agency_id, started_at, ended_at,
                              working_seconds, target_seconds, within_target, late_step)
SELECT c.id, c.kind, c.line, c.agency_id, c.started_at, c.ended_at, c.ws, t.target,
       c.ws <= t.target, CASE WHEN c.ws > t.target THEN c.late END
FROM (
    SELECT s.id, s.kind, s.line, s.agency_id, s.started_at, s.ended_at, s.late,
           CAST(EXTRACT(EPOCH FROM s.ended_at - s.started_at) * :share AS INTEGER) AS ws
    FROM (
        SELECT r.id, 'procurement.' || (ARRAY['micro_purchase', 'rfq', 'itb', 'lta'])[1 + r.id % 4] AS kind,
               'procurement' AS line, r.agency_id, r.submitted_at AS started_at, r.started_at AS ended_at,
               'sourcing' AS late
        FROM service_request r
        WHERE r.request_type = 'procurement' AND r.status IN ('ordered', 'completed') AND r.title LIKE 'Bench %'
        UNION ALL
        SELECT r.id, 'ict.P' || (1 + r.id % 4), 'ict', r.agency_id, r.submitted_at, r.completed_at, 'assignment'
        FROM service_request r
        WHERE r.request_type = 'ict_ticket' AND r.completed_at IS NOT NULL AND r.title LIKE 'Bench %'
        UNION ALL
        SELECT r.id, 'travel.ticket', 'travel', r.agency_id, r.approved_at, r.started_at, 'ticket'
        FROM service_request r
        WHERE r.request_type = 'travel' AND r.started_at IS NOT NULL AND r.title LIKE 'Bench %'
        UNION ALL
        SELECT r.id, 'travel.claim', 'travel', r.agency_id, r.completed_at,
               r.completed_at + make_interval(hours => 2 + r.id % 300), 'settle'
        FROM service_request r
        WHERE r.request_type = 'travel' AND r.completed_at IS NOT NULL AND r.title LIKE 'Bench %'
    ) s
) c
JOIN (VALUES {targets}) AS t(kind, target) ON t.kind = c.kind
"""

EVENTS_SQL = """
INSERT INTO chargeable_event (source_ref, service_line, agency_id, service_item, kind, quantity,
                              value_usd, fee_usd, delivered_on, description, created_at)
SELECT 'bench/' || r.reference || '/' || k.kind,
       CASE WHEN r.request_type LIKE 'ict%' THEN 'ict' ELSE r.request_type END,
       r.agency_id, 'bench_' || r.request_type, k.kind, 1,
       CASE WHEN k.kind = 'pass_through' THEN r.amount_usd ELSE 0 END, NULL,
       CAST(r.completed_at AS DATE), '', r.completed_at
FROM service_request r
JOIN (VALUES ('fee'), ('pass_through')) AS k(kind)
  ON k.kind = 'fee' OR (r.request_type = 'procurement' AND r.amount_usd IS NOT NULL)
WHERE r.completed_at IS NOT NULL AND r.title LIKE 'Bench %'
"""

CHARGES_SQL = """
INSERT INTO charge (event_id, source_ref, agency_id, period, service_line, item_code, kind, description,
                    quantity, unit_price, amount, delivered_on, note, created_at)
SELECT e.id, e.source_ref, e.agency_id, CAST(date_trunc('month', e.delivered_on) AS DATE), e.service_line,
       e.service_item, e.kind, '', 1, NULL,
       CASE WHEN e.kind = 'fee' THEN 25 + (e.id % 16) * 25 ELSE e.value_usd END,
       e.delivered_on, '', e.created_at
FROM chargeable_event e
WHERE e.source_ref LIKE 'bench/%'
"""


def server_url(given: str | None) -> str:
    url = (given or os.environ.get("JOF_BENCH_POSTGRES_URL") or os.environ.get("JOF_TEST_POSTGRES_URL")
           or "postgresql://postgres@127.0.0.1:5432/test")
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(server: str) -> tuple[str, object, str]:
    """A fresh database on ``server``'s PostgreSQL (as the tests make theirs): its URL and
    the admin engine that drops it."""
    from sqlalchemy import create_engine, text

    name = f"jof_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = server.rpartition("/")
    return f"{base}/{name}", admin, name


def drop_database(admin, name: str) -> None:
    from sqlalchemy import text

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def load_monitoring(session) -> dict[str, int]:
    """Clock rows and charges for the bench requests, set-based; the row counts."""
    from sqlalchemy import text

    from jof.core.calendar import WorkingCalendar
    from jof.monitoring.targets import KINDS, to_duration

    cal = WorkingCalendar.of_facility()
    targets = ", ".join(f"('{code}', {int(to_duration(code, k.default, cal).total_seconds())})"
                        for code, k in KINDS.items())
    counts = {
        "clocks": session.execute(text(CLOCKS_SQL.format(targets=targets)), {"share": WORKING_SHARE}).rowcount,
        "events": session.execute(text(EVENTS_SQL)).rowcount,
        "charges": session.execute(text(CHARGES_SQL)).rowcount,
    }
    session.commit()
    # The steady state of a live database, where autovacuum has run: statistics, and a
    # visibility map so that covering indexes are read without the table.
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return counts


class Statements:
    """Every statement the engine runs while listening, with its wall time."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.engine, self.rows, self.on = engine, [], False
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.rows.append((time.perf_counter() - conn.info.pop("bench_t0"), statement, parameters))

    def capture(self):
        self.rows, self.on = [], True
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.on = False


def login(app, email: str):
    client = app.test_client()
    token = CSRF_RE.search(client.get("/login").get_data(as_text=True)).group(1)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if r.status_code != 302:
        raise SystemExit(f"login as {email} failed: {r.status_code}")
    return client


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 6) for v in values]}


def machine() -> str:
    cores = os.cpu_count()
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return f"{platform.machine()} {cores} cores, {platform.system()} {platform.release()}, load {load}"


def explain(engine, statement: str, parameters) -> str:
    with engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
    return "\n".join(plan)


def loaded_app(url: str):
    """The app on a database a ``--keep`` run loaded before: its request and row counts."""
    from sqlalchemy import text

    from jof import create_app
    from jof.core.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        n, clocks, charges = (db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                              for t in ("service_request", "monitoring_clock", "charge"))
    return app, n, {"clocks": clocks, "charges": charges}


def run(n: int, runs: int, server: str, out: Path | None, keep: bool = False, explain_top: int = 3,
        database_url: str | None = None) -> dict:
    from bench.data import bulk_requests, prepare
    from jof.core.db import db

    if database_url:
        url, admin, name, keep = database_url, None, None, True
        app, n, counts = loaded_app(database_url)
        with app.app_context():
            engine = db.engine
    else:
        url, admin, name = create_database(server)
    try:
        if admin is not None:
            t0 = time.monotonic()
            app = prepare(url)
            with app.app_context():
                loaded = bulk_requests(n)
                counts = load_monitoring(db.session)
                engine = db.engine
            print(f"loaded {loaded.requests:,} requests, {counts['clocks']:,} clocks, {counts['charges']:,} "
                  f"charges in {time.monotonic() - t0:.1f} s")
        stmts = Statements(engine)
        client = login(app, "manager@jof.example")
        page = "/monitoring/"
        r = client.get(page)  # warm
        if r.status_code != 200:
            raise SystemExit(f"GET {page}: {r.status_code}")
        with stmts.capture():
            client.get(page)  # the statements of a warm page, each with its time
        page_statements = len(stmts.rows)
        sql_seconds = sum(row[0] for row in stmts.rows)
        heaviest = sorted(stmts.rows, key=lambda row: row[0], reverse=True)
        _took, main_sql, main_params = heaviest[0]

        def alone() -> float:
            with engine.connect() as conn:
                started = time.perf_counter()
                conn.exec_driver_sql(main_sql, main_params).fetchall()
                return time.perf_counter() - started

        alone()  # warm
        page_times, query_times = [], []
        for _ in range(runs):
            started = time.perf_counter()
            r = client.get(page)
            page_times.append(time.perf_counter() - started)
            assert r.status_code == 200
            query_times.append(alone())
        jof_s, base_s = summary(page_times), summary(query_times)
        ratio = jof_s["median"] / base_s["median"]
        entry = {
            "name": "dashboard", "jof": round(jof_s["median"], 6), "baseline": round(base_s["median"], 6),
            "ratio": round(ratio, 2), "goal": GOAL, "database": "postgresql", "machine": machine(),
            "date": datetime.now(UTC).isoformat(timespec="seconds"), "unit": "seconds",
            "requests": n, "clocks": counts["clocks"], "charges": counts["charges"], "runs": runs,
            "jof_min": round(jof_s["min"], 6), "jof_max": round(jof_s["max"], 6),
            "baseline_min": round(base_s["min"], 6), "baseline_max": round(base_s["max"], 6),
            "page_runs": jof_s["runs"], "query_runs": base_s["runs"],
            "page_statements": page_statements, "page_sql_seconds": round(sql_seconds, 4),
            "baseline_statement": " ".join(main_sql.split())[:300],
        }
        print()
        print(f"{'measure':<12}{'requests':>10}{'JOF median (min-max) s':>30}{'query alone median (min-max) s':>36}"
              f"{'ratio':>8}{'goal':>7}")
        print(f"{'dashboard':<12}{n:>10,}{_fmt(jof_s):>30}{_fmt(base_s):>36}{ratio:>7.2f}x{GOAL:>6.1f}x")
        print(f"page: {page_statements} statements, {sql_seconds:.3f} s in SQL in the listened run; "
              f"main aggregate query: {entry['baseline_statement'][:120]}…")
        for took, sql, _params in heaviest[:8]:
            print(f"  {took * 1000:8.1f} ms  {' '.join(sql.split())[:110]}")
        print()
        for took, sql, params in heaviest[:explain_top]:
            print(f"--- {took * 1000:.1f} ms while building the page: {' '.join(sql.split())[:200]}")
            print(explain(engine, sql, params))
            print()
        if out is not None:
            out.write_text(json.dumps([entry], indent=2) + "\n")
            print(f"written to {out}")
        with app.app_context():
            db.engine.dispose()
        return entry
    finally:
        if keep:
            print(f"kept {url.rsplit('@', 1)[-1]}")
        else:
            drop_database(admin, name)


def _fmt(s: dict) -> str:
    return f"{s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})"


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_REQUESTS:,} requests")
    parser.add_argument("--server-url", help="a PostgreSQL server URL; the bench makes its own database there")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database-url", help="measure a database a --keep run loaded, without loading")
    args = parser.parse_args(argv)
    n = QUICK_REQUESTS if args.quick else args.requests
    return run(n, max(args.runs, 3), server_url(args.server_url), args.out, keep=args.keep,
               database_url=args.database_url and args.database_url.replace("postgresql://", "postgresql+psycopg://", 1))


if __name__ == "__main__":
    main()
