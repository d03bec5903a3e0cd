"""The invariants ``make loadtest`` checks in the database after the run.

Each check is ``(name, passed, details)``; details name the offending rows (at most a few).
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import create_engine, text

NUMBERED = re.compile(r"^(?P<prefix>.+)-(?P<year>\d{4})-(?P<n>\d+)$")


def _gapless(label: str, numbers: list[str]) -> tuple[str, bool, list[str]]:
    """Per prefix and year, the numbers are exactly 1..n (no gap, no duplicate)."""
    series: dict[tuple[str, str], list[int]] = defaultdict(list)
    bad = []
    for number in numbers:
        m = NUMBERED.match(number)
        if not m:
            bad.append(f"unparsed {number}")
            continue
        series[m["prefix"], m["year"]].append(int(m["n"]))
    for (prefix, year), ns in sorted(series.items()):
        if sorted(ns) != list(range(1, len(ns) + 1)):
            missing = sorted(set(range(1, max(ns) + 1)) - set(ns))[:5]
            dupes = sorted({n for n in ns if ns.count(n) > 1})[:5]
            bad.append(f"{prefix}-{year}: {len(ns)} numbers, max {max(ns)}, missing {missing}, repeated {dupes}")
    summary = ", ".join(f"{p}-{y}: 1..{len(ns)}" for (p, y), ns in sorted(series.items()))
    return (f"gapless {label} per prefix and year", not bad, bad or [summary or "none"])


def _none(conn, name: str, sql: str) -> tuple[str, bool, list[str]]:
    rows = conn.execute(text(sql)).all()
    return (name, not rows, [", ".join(str(v) for v in row) for row in rows[:5]] or ["none found"])


def check(url: str) -> list[tuple[str, bool, list[str]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            results = [
                _none(conn, "one vote per agency per decision",
                      "SELECT decision_id, agency_id, count(*) FROM vote GROUP BY decision_id, agency_id "
                      "HAVING count(*) > 1"),
                _none(conn, "votes only from the decision's voting members",
                      "SELECT v.decision_id, v.agency_id FROM vote v LEFT JOIN decision_voter dv "
                      "ON dv.decision_id = v.decision_id AND dv.agency_id = v.agency_id WHERE dv.id IS NULL"),
                _gapless("invoice numbers", list(conn.scalars(text(
                    "SELECT number FROM invoice WHERE number IS NOT NULL")))),
                _none(conn, "every issued invoice has a number and every number an issued invoice",
                      "SELECT id, status, number FROM invoice WHERE (status = 'issued') <> (number IS NOT NULL)"),
                _gapless("resolution numbers", list(conn.scalars(text(
                    "SELECT resolution_number FROM decision WHERE resolution_number IS NOT NULL")))),
                _gapless("request references", list(conn.scalars(text("SELECT reference FROM service_request")))),
                _none(conn, "one approval timeline entry per request (none approved twice)",
                      "SELECT request_id, count(*) FROM timeline_entry WHERE action = 'approve' "
                      "GROUP BY request_id HAVING count(*) > 1"),
                _none(conn, "every approved request has its approval entry",
                      "SELECT r.reference FROM service_request r WHERE r.approved_at IS NOT NULL AND NOT EXISTS "
                      "(SELECT 1 FROM timeline_entry t WHERE t.request_id = r.id AND t.action = 'approve')"),
            ]
            counts = conn.execute(text(
                "SELECT (SELECT count(*) FROM vote), (SELECT count(*) FROM invoice WHERE number IS NOT NULL), "
                "(SELECT count(*) FROM decision WHERE resolution_number IS NOT NULL), "
                "(SELECT count(*) FROM service_request), "
                "(SELECT count(*) FROM timeline_entry WHERE action = 'approve')")).one()
            # A run that did (almost) nothing proves nothing: the load must have voted,
            # issued invoices and approved requests, or the invariants above hold vacuously.
            results.append(("the load did work (votes, issued invoices, approvals)",
                            counts[0] > 0 and counts[1] > 0 and counts[4] > 0, [
                f"{counts[0]} votes, {counts[1]} numbered invoices, {counts[2]} resolutions, "
                f"{counts[3]} requests, {counts[4]} approvals"]))
            return results
    finally:
        engine.dispose()
