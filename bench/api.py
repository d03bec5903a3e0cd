"""API list and detail against the bare app (:mod:`bench.bare_api`), side by side.

One throw-away PostgreSQL database (``BENCH_POSTGRES_URL``, default
``postgresql://postgres@127.0.0.1:5432/postgres``; created and dropped) holds the demo
plus ``requests`` requests, each by a requester of its own. Both apps run under gunicorn
(``-w 2`` sync workers, on loopback), are checked to answer the same JSON, and are then
driven in turns by ``clients`` concurrent clients for ``seconds`` each, ``runs`` times:
the figure is the median throughput (requests/s), with min and max, and each run's
JOF / bare ratio is taken from the same round.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str, token: str, timeout: float = 60) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def _drive(port: int, path: str, token: str, clients: int, seconds: float) -> dict:
    """``clients`` threads asking for ``path`` for ``seconds``: throughput and p50."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client():
        mine, bad = [], 0
        while time.perf_counter() < stop:
            t = time.perf_counter()
            status, _ = _get(port, path, token)
            if status != 200:
                bad += 1
            mine.append(time.perf_counter() - t)
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors[0]:
        raise RuntimeError(f"{errors[0]} non-200 answers from {path} on port {port}")
    return {"rps": len(latencies) / elapsed, "p50_ms": statistics.median(latencies) * 1000}


def _seed(url: str, n: int) -> tuple[str, str]:
    """Demo + ``n`` submitted requests; returns (a manager token, one reference)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from jof import create_app, demo
    from jof.core import auth
    from jof.core.db import db
    from jof.core.people import Agency, Role, User, UserRole
    from jof.core.timeutil import utcnow
    from jof.core.workflow import ServiceRequest

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": True})
    with app.app_context():
        upgrade()
        demo.load("bench-password-1")
        db.session.commit()
        agencies = list(db.session.scalars(select(Agency.id).order_by(Agency.id)))
        now = utcnow()
        batch = 2000
        for lo in range(0, n, batch):
            users = [{"email": f"bench{i}@bulk.jof.example", "name": f"Bench requester {i}",
                      "agency_id": agencies[i % len(agencies)], "password_hash": "!", "active": True,
                      "locale": "en", "session_version": 1, "created_at": now} for i in range(lo, min(n, lo + batch))]
            ids = list(db.session.scalars(insert(User).returning(User.id), users))
            db.session.execute(insert(UserRole), [{"user_id": i, "role": Role.REQUESTER} for i in ids])
            db.session.execute(insert(ServiceRequest), [
                {"reference": f"TRV-BENCH-{lo + k:07d}", "request_type": "travel", "agency_id": u["agency_id"],
                 "requester_id": uid, "title": f"Bench request {lo + k}", "description": "", "status": "submitted",
                 "created_at": now, "submitted_at": now, "status_changed_at": now, "version": 1}
                for k, (u, uid) in enumerate(zip(users, ids, strict=True))])
        manager = db.session.scalar(select(User).where(User.email == "manager@jof.example"))
        token, _ = auth.issue_token(manager, "bench")
        db.session.commit()
        db.engine.dispose()
    return token, "TRV-BENCH-0000000"


def _serve(target: str, url: str, workers: int) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("JOF_CONFIG", "REDIS_URL")}
    env.update(DATABASE_URL=url, SECRET_KEY=f"bench-{secrets.token_hex(8)}", AUDIT_KEY=secrets.token_hex(16),
               PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", str(workers), "-k", "sync", "--bind",
                             f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "--log-level", "warning",
                             target], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, port
        except OSError:
            time.sleep(0.25)
    proc.terminate()
    raise RuntimeError(f"{target} did not start")


def run(*, requests: int, clients: int, seconds: float, runs: int, workers: int = 2) -> list[dict]:
    import json

    server = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_bench_{secrets.token_hex(4)}"
    url = server.rsplit("/", 1)[0] + f"/{name}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    procs = []
    try:
        token, ref = _seed(url, requests)
        jof, jport = _serve("jof:create_app()", url, workers)
        bare, bport = _serve("bench.bare_api:create_app()", url, workers)
        procs = [jof, bare]
        measures = [("API list (GET /api/v1/requests?per_page=50, manager)", "/api/v1/requests?per_page=50"),
                    ("API detail (GET /api/v1/requests/<ref>, manager)", f"/api/v1/requests/{ref}")]
        out = []
        for port in (jport, bport):  # both workers of each app have loaded it
            for _ in range(2 * workers):
                _get(port, measures[0][1], token, timeout=300)
        for label, path in measures:
            js, jb = _get(jport, path, token), _get(bport, path, token)
            assert js[0] == jb[0] == 200, (js[0], jb[0], js[1][:200], jb[1][:200])
            same = json.loads(js[1]) == json.loads(jb[1])
            if not same:  # the baseline must do the same work: the same JSON for the same query
                raise RuntimeError(f"{path}: JOF and the bare app answer different JSON")
            for _ in range(2):  # warm both (connections, caches, imports)
                _drive(jport, path, token, clients, 1)
                _drive(bport, path, token, clients, 1)
            rounds = []
            for _ in range(runs):
                j = _drive(jport, path, token, clients, seconds)
                b = _drive(bport, path, token, clients, seconds)
                rounds.append((j, b))
            out.append({"name": label, "unit": "req/s (higher is better)",
                        "jof": [j["rps"] for j, _ in rounds], "baseline": [b["rps"] for _, b in rounds],
                        "ratios": [j["rps"] / b["rps"] for j, b in rounds],
                        "p50_ms": {"jof": statistics.median(j["p50_ms"] for j, _ in rounds),
                                   "baseline": statistics.median(b["p50_ms"] for _, b in rounds)},
                        "goal": ">= 0.5 (JOF / bare throughput)", "goal_min": 0.5, "higher_is_better": True,
                        "database": "postgresql", "same_json": same,
                        "setup": f"{requests:,} requests; gunicorn -w {workers} sync each; {clients} clients, "
                                 f"{seconds:g} s per turn"})
        return out
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
