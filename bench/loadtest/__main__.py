"""``python -m bench.loadtest`` (``make loadtest``): a bounded load test on loopback.

1. creates ``jof_load_<random>`` on the PostgreSQL server of ``LOAD_POSTGRES_URL``
   (default ``postgresql://postgres@127.0.0.1:5432/postgres``), migrates it and loads the demo;
2. starts gunicorn × 4 (``deploy/gunicorn.conf.py``) on a free 127.0.0.1 port;
3. gets one token per demo user (once: the login throttle), opens decisions and closes past
   billing months (draft invoices to issue), then runs locust headless for ``LOAD_SECONDS``
   (default 60) with ``LOAD_USERS`` (default 40) users, stopping at ``LOAD_MAX_REQUESTS``;
4. closes the open decisions twice at once (resolution numbers race), checks the invariants in
   the database (``bench.loadtest.invariants``) and ``jof audit verify``; drops the database.

Exits non-zero when an invariant fails or the run did not happen.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

from bench.loadtest import invariants, report
from bench.loadtest.seed import months

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
AGENCIES = ["undp", "unfpa", "unesco", "unwomen", "unops", "unep", "unaids"]
MEMBERS = AGENCIES[:-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict) -> None:
    r = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")


def _token(base: str, email: str, password: str) -> str:
    r = requests.post(f"{base}/api/v1/auth/token", json={"email": email, "password": password, "name": "load"},
                      timeout=30)
    r.raise_for_status()
    return r.json()["token"]


def _prepare(base: str, password: str, decisions: int) -> dict:
    """Tokens for every demo user, open decisions and draft invoices for the run."""
    emails = ["manager@jof.example", "travel@jof.example", "ict@jof.example"]
    emails += [f"{who}@{a}.jof.example" for a in AGENCIES for who in ("requester", "head")]
    tokens = {e: _token(base, e, password) for e in emails}
    manager = {"Authorization": f"Bearer {tokens['manager@jof.example']}"}
    closes_at = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    opened = []
    for i in range(decisions):
        r = requests.post(f"{base}/api/v1/governance/decisions", headers=manager, timeout=30,
                          json={"title": f"Load-test decision {i + 1}"})
        r.raise_for_status()
        d = r.json()["id"]
        requests.post(f"{base}/api/v1/governance/decisions/{d}/open", headers=manager, timeout=30,
                      json={"closes_at": closes_at}).raise_for_status()
        opened.append(d)
    for month in months(6):  # the months bench.loadtest.seed delivered in: drafts to issue under load
        r = requests.post(f"{base}/api/v1/billing/periods/{month:%Y-%m}/close", headers=manager, timeout=120)
        if r.status_code != 200:
            print(f"closing {month:%Y-%m}: {r.status_code} {r.text[:200]}")
    drafts, page = [], 1
    while True:
        r = requests.get(f"{base}/api/v1/billing/invoices", headers=manager, timeout=30,
                         params={"status": "draft", "per_page": 100, "page": page})
        r.raise_for_status()
        items = r.json()["items"]
        drafts += [i["id"] for i in items]
        if len(items) < 100:
            break
        page += 1
    return {"tokens": tokens, "decisions": opened, "drafts": drafts}


def _close_decisions(base: str, token: str) -> tuple[int, list[int]]:
    """Close every open decision twice, from several threads at once: (how many, the status codes).
    A decision not every member voted on stays open (409)."""
    headers = {"Authorization": f"Bearer {token}"}
    r = requests.get(f"{base}/api/v1/governance/decisions", headers=headers, timeout=30,
                     params={"status": "open", "per_page": 100})
    r.raise_for_status()
    decisions = [d["id"] for d in r.json()["items"]]

    def close(d: int) -> int:
        return requests.post(f"{base}/api/v1/governance/decisions/{d}/close", headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(8) as pool:
        return len(decisions), list(pool.map(close, decisions + decisions))


def main() -> int:
    seconds = int(os.environ.get("LOAD_SECONDS", "60"))
    users = int(os.environ.get("LOAD_USERS", "40"))
    max_requests = int(os.environ.get("LOAD_MAX_REQUESTS", "20000"))
    server = os.environ.get("LOAD_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    server = server.replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_load_{secrets.token_hex(4)}"
    url = server.rsplit("/", 1)[0] + f"/{name}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    work = Path(tempfile.mkdtemp(prefix="jof-load-"))
    gunicorn = None
    status = 1
    try:
        password = secrets.token_urlsafe(12)
        env = {k: v for k, v in os.environ.items() if k not in ("JOF_CONFIG", "REDIS_URL")}
        env.update(DATABASE_URL=url, SECRET_KEY=f"load-{secrets.token_hex(8)}", AUDIT_KEY=secrets.token_hex(16),
                   JOF_WORKERS="4", JOF_THREADS="4", JOF_LOG_LEVEL="warning")
        _run([str(BIN / "jof"), "db", "upgrade"], env)
        _run([str(BIN / "jof"), "demo", "load", "--password", password], env)
        _run([sys.executable, "-m", "bench.loadtest.seed"], env)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = open(work / "gunicorn.log", "w")  # noqa: SIM115 (closed with the process)
        gunicorn = subprocess.Popen([str(BIN / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "--bind",
                                     f"127.0.0.1:{port}", "--access-logfile", "/dev/null"],
                                    cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for _ in range(120):
            try:
                if requests.get(f"{base}/health", timeout=10).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.5)
        else:
            sys.exit("gunicorn did not answer /health")
        plan = _prepare(base, password, decisions=int(os.environ.get("LOAD_DECISIONS", "6")))
        (work / "plan.json").write_text(json.dumps(plan))
        print(f"load test: {users} users, {seconds} s, at most {max_requests} requests on {base}; "
              f"{len(plan['decisions'])} open decisions, {len(plan['drafts'])} draft invoices; database {name}")
        csv = work / "stats"
        locust_env = env | {"LOAD_PLAN": str(work / "plan.json"), "LOAD_MAX_REQUESTS": str(max_requests),
                                  "LOAD_STATUSES": str(work / "statuses.json")}
        r = subprocess.run([str(BIN / "locust"), "-f", str(Path(__file__).with_name("locustfile.py")),
                            "--headless", "--host", base, "-u", str(users), "-r", str(max(users // 4, 1)),
                            "-t", f"{seconds}s", "--stop-timeout", "10", "--csv", str(csv), "--only-summary",
                            "--loglevel", "WARNING", "--exit-code-on-error", "0"],
                           cwd=ROOT, env=locust_env, timeout=seconds + 120,
                           stdout=(work / "locust.log").open("w"), stderr=subprocess.STDOUT)
        if r.returncode:
            print((work / "locust.log").read_text()[-3000:])
        n, codes = _close_decisions(base, plan["tokens"]["manager@jof.example"])
        print(f"closing the {n} open decisions twice at once: "
              + ", ".join(f"{codes.count(c)} × {c}" for c in sorted(set(codes))))
        report.print_stats(csv)
        report.print_statuses(work / "statuses.json")
        results = invariants.check(url)
        verify = subprocess.run([str(BIN / "jof"), "audit", "verify"], env=env, cwd=ROOT,
                                capture_output=True, text=True)
        results.append(("jof audit verify passes", verify.returncode == 0,
                        (verify.stdout + verify.stderr).strip().splitlines()[-1:] or [""]))
        errors = (work / "gunicorn.log").read_text().count("unhandled error")
        results.append(("no unhandled server error in the log", errors == 0, [f"{errors} unhandled errors"]))
        results.append(("locust ran to its end", r.returncode == 0, [f"exit {r.returncode}"]))
        status = report.print_invariants(results)
    finally:
        if gunicorn:
            gunicorn.terminate()
            gunicorn.wait(timeout=40)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return int(bool(status))


if __name__ == "__main__":
    sys.exit(main())
