"""Concurrent writers on real connections: no "database is locked", gapless counters, one
winner per race, and an audit chain that never forks.

Every test here runs on both databases; on SQLite the writers are serialised by
``BEGIN IMMEDIATE`` (the point is that they wait instead of failing), on PostgreSQL by
row locks and optimistic locking.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
from collections import Counter as Tally

from sqlalchemy import func, select

from jof import create_app
from jof.core import audit, counters
from jof.core.audit import AuditEvent
from jof.core.counters import Counter
from jof.core.db import db, read_only
from jof.core.workflow import ServiceRequest, TimelineEntry

PROCESSES = 4
WRITES = 100


def _process_writer(url: str, writes: int, start, results) -> None:
    """One process of the four: its own app, engine and connections."""
    errors: list[str] = []
    values: list[int] = []
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
    with app.app_context():
        start.wait(timeout=60)
        for _ in range(writes):
            try:
                # Read, then write in the same transaction: the pattern a deferred SQLite
                # transaction fails with "database is locked" at once.
                seen = db.session.scalar(select(Counter.value).where(Counter.key == "probe")) or 0
                value = counters.next_value("probe")
                assert value > seen
                audit.record(None, "test.write", object_type="probe", object_id=str(value))
                db.session.commit()
                values.append(value)
            except Exception as exc:  # collected and asserted by the parent
                db.session.rollback()
                errors.append(repr(exc))
        db.session.remove()
        db.engine.dispose()
    results.put((values, errors))


def test_four_processes_write_the_same_database_without_lock_errors(app, database_url):
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    results = ctx.Queue()
    with app.app_context():
        db.engine.dispose()  # no pooled connection crosses the fork
    procs = [ctx.Process(target=_process_writer, args=(database_url, WRITES, start, results))
             for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    outcome = [results.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    errors = [e for _, errs in outcome for e in errs]
    assert errors == [], errors[:5]
    values = sorted(v for vals, _ in outcome for v in vals)
    assert values == list(range(1, PROCESSES * WRITES + 1))  # unique and gapless
    with app.app_context():
        assert db.session.scalar(select(Counter.value).where(Counter.key == "probe")) == PROCESSES * WRITES
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == PROCESSES * WRITES
        result = audit.verify()
        assert result.ok, result
        assert result.checked == PROCESSES * WRITES


def _run_threads(target, n: int) -> list[BaseException]:
    errors: list[BaseException] = []

    def guarded(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001  (reported by the test)
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "a writer hung"
    return errors


def test_gapless_counter_under_eight_threads_with_rollbacks(app):
    committed: list[int] = []
    rolled_back = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def writer(i):
        rng = random.Random(i)
        with app.app_context():
            barrier.wait(30)
            for _ in range(40):
                value = counters.next_value("gapless")
                if rng.random() < 0.2:
                    db.session.rollback()
                    with lock:
                        rolled_back.append(value)
                else:
                    db.session.commit()
                    with lock:
                        committed.append(value)
            db.session.remove()

    assert _run_threads(writer, 8) == []
    assert rolled_back, "the test must exercise rollbacks"
    assert sorted(committed) == list(range(1, len(committed) + 1))
    with app.app_context():
        assert db.session.scalar(select(Counter.value).where(Counter.key == "gapless")) == len(committed)


def test_the_audit_chain_never_forks_under_parallel_writers(app):
    barrier = threading.Barrier(8)
    committed = Tally()
    lock = threading.Lock()

    def writer(i):
        rng = random.Random(100 + i)
        with app.app_context():
            barrier.wait(30)
            for n in range(25):
                for k in range(rng.randint(1, 3)):
                    audit.record(None, "test.parallel", object_type="writer", object_id=f"{i}-{n}-{k}",
                                 after={"writer": i, "n": n, "k": k})
                if rng.random() < 0.15:
                    db.session.rollback()
                    continue
                db.session.commit()
                with lock:
                    committed[i] += k + 1
            db.session.remove()

    verdicts = []
    done = threading.Event()

    def verifier():
        """`jof audit verify` may run while the facility works: no false alarm."""
        with app.app_context():
            while not done.is_set():
                with read_only():
                    verdicts.append(audit.verify())
                    db.session.rollback()
            db.session.remove()

    watcher = threading.Thread(target=verifier)
    watcher.start()
    try:
        assert _run_threads(writer, 8) == []
    finally:
        done.set()
        watcher.join(60)
    assert len(verdicts) >= 2
    assert [v for v in verdicts if not v.ok] == []
    total = sum(committed.values())
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.hash)
                                  .order_by(AuditEvent.seq)).all()
        assert [r.seq for r in rows] == list(range(1, total + 1))
        # One successor per event: no two events were chained to the same predecessor.
        assert len({r.prev_hash for r in rows}) == total
        assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, total))
        result = audit.verify()
        assert result.ok, result
        assert result.checked == total


def test_two_concurrent_approvals_one_wins_the_other_gets_409(app, api, make):
    manager_a = api("manager@jof.example")
    manager_b = api("manager@jof.example")
    for _ in range(10):
        ref = make.request(status="submitted")
        version = manager_a.get(f"/api/v1/requests/{ref}").get_json()["version"]
        barrier = threading.Barrier(2)
        responses = {}

        def approve(i, ref=ref, version=version, barrier=barrier, responses=responses):
            client = (manager_a, manager_b)[i]
            barrier.wait(30)
            r = client.post(f"/api/v1/requests/{ref}/transitions",
                            json={"action": "approve", "version": version})
            responses[i] = (r.status_code, r.get_json())

        assert _run_threads(approve, 2) == []
        codes = sorted(code for code, _ in responses.values())
        assert codes == [200, 409], responses
        loser = next(body for code, body in responses.values() if code == 409)
        assert loser["current_version"] == version + 1
        with app.app_context():
            sr = db.session.scalar(select(ServiceRequest).where(ServiceRequest.reference == ref))
            assert (sr.status, sr.version) == ("approved", version + 1)
            approvals = db.session.scalar(select(func.count()).select_from(TimelineEntry).where(
                TimelineEntry.request_id == sr.id, TimelineEntry.action == "approve"))
            assert approvals == 1
            events = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.object_id == ref, AuditEvent.action == "request.approve"))
            assert events == 1
            db.session.remove()
    with app.app_context():
        assert audit.verify().ok
