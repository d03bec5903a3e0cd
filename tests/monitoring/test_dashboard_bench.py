"""The dashboard benchmark runs end to end on a small data set and records its entry.

``python -m bench.dashboard --quick`` makes its own database on the test PostgreSQL server
(``JOF_TEST_POSTGRES_URL``, as the test sessions do), so this runs on the PostgreSQL pass
only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres_only
def test_quick_dashboard_bench_writes_an_entry_with_the_ratio_of_page_to_aggregate_query(tmp_path):
    out = tmp_path / "results-dashboard.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "bench.dashboard", "--quick", "--runs", "3", "--out", str(out),
         "--server-url", os.environ["JOF_TEST_POSTGRES_URL"]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]

    [entry] = json.loads(out.read_text())
    assert entry["name"] == "dashboard"
    assert entry["database"] == "postgresql"
    assert entry["goal"] == 2.0
    assert entry["requests"] == 2_000
    assert entry["clocks"] > 0 and entry["charges"] > 0
    assert entry["jof"] > 0 and entry["baseline"] > 0
    assert entry["ratio"] == pytest.approx(entry["jof"] / entry["baseline"], rel=0.05)
    assert entry["jof_min"] <= entry["jof"] <= entry["jof_max"]
    assert entry["baseline_min"] <= entry["baseline"] <= entry["baseline_max"]
    assert entry["machine"] and entry["date"]
    assert entry["baseline_statement"].upper().startswith("SELECT")
    # The table line and the plans of the heaviest statements are printed.
    assert "dashboard" in run.stdout and "x" in run.stdout
    assert "Execution Time" in run.stdout
