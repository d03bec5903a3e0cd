"""``make bench``: every measure against the bare way of doing the same work, in one run.

Writes ``bench/results.json`` (one entry per measure: name, JOF figure, baseline figure,
ratio, goal, database, machine, date; each figure the median of the runs with min and
max) and prints a table; a full run also puts that table in README.md between the
``bench:start``/``bench:end`` markers, so both come from the same run.

``BENCH_QUICK=1`` runs small sizes, only to prove the suite still runs (CI); its figures
say nothing and go to ``bench/results-quick.json`` (as do partial runs, ``BENCH_ONLY``). Other knobs: ``BENCH_POSTGRES_URL`` (server for throw-away databases,
default ``postgresql://postgres@127.0.0.1:5432/postgres``), ``BENCH_CLOSE_SIZES``
(comma-separated charge counts), ``BENCH_API_REQUESTS``, ``BENCH_API_SECONDS``,
``BENCH_RUNS``, ``BENCH_INVOICES``.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
#: Where a quick run writes (ignored by git): its figures must not replace a full run's.
QUICK_RESULTS = ROOT / "bench" / "results-quick.json"
README = ROOT / "README.md"
QUICK = os.environ.get("BENCH_QUICK") == "1"


def _env_int(name: str, full: int, quick: int) -> int:
    return int(os.environ.get(name, quick if QUICK else full))


def _spread(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def _machine() -> dict:
    model = ""
    try:
        model = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                      if ln.startswith("model name")), "")
    except OSError:
        pass
    return {"host": platform.node(), "cpus": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()}


def _entry(name: str, jof: list[float], baseline: list[float], ratios: list[float], *, unit: str, goal: str,
           met, database: str, **extra) -> dict:
    return {"name": name, "unit": unit, "jof": _spread(jof), "baseline": _spread(baseline),
            "ratio": _spread(ratios), "goal": goal, "goal_met": met, "database": database, **extra}


def _server() -> str:
    return os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_pg_database(fn):
    server = _server().replace("postgresql://", "postgresql+psycopg://", 1)
    name = f"jof_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        return fn(server.rsplit("/", 1)[0] + f"/{name}")
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def api_measures(runs: int) -> list[dict]:
    from bench import api

    out = []
    for m in api.run(requests=_env_int("BENCH_API_REQUESTS", 20000, 300), clients=8 if not QUICK else 4,
                     seconds=_env_int("BENCH_API_SECONDS", 10, 1), runs=runs):
        ratio = statistics.median(m["ratios"])
        out.append(_entry(m["name"], m["jof"], m["baseline"], m["ratios"], unit=m["unit"], goal=m["goal"],
                          met=ratio >= m["goal_min"], database="postgresql", p50_ms=m["p50_ms"],
                          same_json=m["same_json"], setup=m["setup"],
                          baseline_is="bare Flask + SQLAlchemy app (bench/bare_api.py), same JSON"))
    return out


def close_measures(runs: int) -> list[dict]:
    sizes = [int(x) for x in os.environ.get("BENCH_CLOSE_SIZES", "1000" if QUICK else "10000,100000,1000000")
             .split(",")]
    out = []
    for database in ("sqlite", "postgresql"):
        for n in sizes:
            def one(url, n=n):
                r = subprocess.run([sys.executable, "-m", "bench.close", str(n), url, str(runs)], cwd=ROOT,
                                   capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
                if r.returncode:
                    raise RuntimeError(r.stderr[-2000:])
                return json.loads(r.stdout.strip().splitlines()[-1])

            if database == "sqlite":
                with tempfile.TemporaryDirectory() as tmp:
                    r = one(f"sqlite:///{tmp}/close.db")
            else:
                r = _with_pg_database(one)
            ratio = statistics.median(r["ratios"])
            out.append(_entry(f"period close, {n:,} charges", r["jof"], r["baseline"], r["ratios"],
                              unit="s (lower is better)", goal="<= 1.5 (JOF / set-based SQL)", met=ratio <= 1.5,
                              database=database, peak_rss_mb=r["peak_rss_mb"],
                              close_peak_python_mb=r["close_peak_python_mb"], invoices=r["invoices"],
                              baseline_is="the same close as set-based SQL (bench/close.py)"))
    return out


def render_measure(runs: int) -> list[dict]:
    from bench import render
    from bench.billing import _app
    from jof import demo
    from jof.core.db import db

    n = _env_int("BENCH_INVOICES", 50, 6)
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(f"sqlite:///{tmp}/render.db")
        with app.app_context():
            demo.load("bench-password-1")
            db.session.commit()
        found = render.run(app, n, runs)
        forked, spawned = found["forked"], found["spawned"]
        with app.app_context():
            db.engine.dispose()
    out = []
    for name, r in ((f"invoice batch of {n} PDFs (RQ worker, command line: helpers forked)", forked),
                    (f"invoice batch of {n} PDFs (job thread of a web process: helpers spawned)", spawned)):
        ratio = statistics.median(r["ratios"])
        out.append(_entry(name, r["jof"], r["baseline"], r["ratios"], unit="s for the batch (lower is better)",
                          goal="<= 1.0 (JOF batch / bare sequential)", met=ratio <= 1.0, database="sqlite",
                          baseline_is="bare WeasyPrint rendering the same HTML one by one"))
    return out


def dashboard_measure(runs: int) -> list[dict]:
    """The monitoring dashboard with 200,000 requests against its main aggregate query
    alone, measured by ``bench/dashboard.py`` (a row "not measured" only where that
    module cannot be imported)."""
    try:
        from bench import dashboard  # type: ignore[attr-defined]
    except ImportError:
        return [{"name": "monitoring dashboard, 200,000 requests", "goal": "<= 2 (page / its aggregate query)",
                 "goal_met": None, "database": "postgresql",
                 "not_measured": "bench/dashboard.py cannot be imported"}]
    n = dashboard.QUICK_REQUESTS if QUICK else 200_000
    got = dashboard.run(n, max(runs, 3), dashboard.server_url(_server()), None if QUICK else dashboard.DEFAULT_OUT)
    # each run's page against the query alone timed right after it, as the other measures pair theirs
    pages, alone = got["page_runs"], got["query_runs"]
    ratios = [p / q for p, q in zip(pages, alone, strict=True)]
    ratio = statistics.median(ratios)
    return [_entry(f"monitoring dashboard, {n:,} requests", pages, alone, ratios, unit="s (lower is better)",
                   goal="<= 2 (page / its aggregate query)", met=ratio <= 2, database="postgresql",
                   baseline_is="the page's heaviest statement (its main aggregate) run alone (bench/dashboard.py)")]


def _fmt(v: float) -> str:
    return f"{v:,.1f}" if v >= 10 else f"{v:.3f}"


def table(results: dict) -> str:
    rows = ["| measure | database | JOF (median, min–max) | baseline (median, min–max) | ratio (median, min–max) "
            "| goal | met |", "|---|---|---|---|---|---|---|"]
    for e in results["measures"]:
        if "not_measured" in e:
            rows.append(f"| {e['name']} | {e['database']} | — | — | — | {e['goal']} | not measured |")
            continue
        j, b, r = e["jof"], e["baseline"], e["ratio"]
        extra = (f"; peak RSS {e['peak_rss_mb']:.0f} MB, the close's own Python peak "
                 f"{e['close_peak_python_mb']:.1f} MB" if "peak_rss_mb" in e else "")
        rows.append(f"| {e['name']} ({e['unit']}{extra}) | {e['database']} "
                    f"| {_fmt(j['median'])} ({_fmt(j['min'])}–{_fmt(j['max'])}) "
                    f"| {_fmt(b['median'])} ({_fmt(b['min'])}–{_fmt(b['max'])}) "
                    f"| {r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f}) | {e['goal']} "
                    f"| {'yes' if e['goal_met'] else 'no'} |")
    m = results["machine"]
    rows.append("")
    rows.append(f"Run {results['date']} on {m['host']} ({m['cpus']} CPUs, {m['cpu']}, Python {m['python']}); "
                f"load average {m['load_average_at_start'][0]:.1f} at the start, "
                f"{results['load_average_at_end'][0]:.1f} at the end{' — QUICK sizes' if results['quick'] else ''}.")
    return "\n".join(rows)


def _readme(block: str) -> None:
    text_ = README.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text_ and end in text_:
        head, rest = text_.split(start, 1)
        _, tail = rest.split(end, 1)
        README.write_text(f"{head}{start}\n{block}\n{end}{tail}")


def main() -> None:
    runs = max(3, int(os.environ.get("BENCH_RUNS", "3")))
    only = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
    results = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "quick": QUICK, "machine": _machine(),
               "measures": []}
    for name, fn in (("api", api_measures), ("close", close_measures), ("render", render_measure),
                     ("dashboard", dashboard_measure)):
        if only and name not in only:
            continue
        print(f"bench: {name}…", flush=True)
        results["measures"].extend(fn(runs))
    results["load_average_at_end"] = os.getloadavg()
    for entry in results["measures"]:  # each entry complete on its own
        entry.setdefault("machine", results["machine"])
        entry.setdefault("date", results["date"])
    (QUICK_RESULTS if QUICK or only else RESULTS).write_text(json.dumps(results, indent=1) + "\n")
    block = table(results)
    print(block)
    if not QUICK and not only:
        _readme(block)
