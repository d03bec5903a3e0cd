"""Printing ``make loadtest``'s figures (from locust's CSV stats) and invariant results."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def print_stats(prefix: Path) -> None:
    path = Path(f"{prefix}_stats.csv")
    if not path.exists():
        print(f"no locust statistics ({path} is missing)")
        return
    rows = list(csv.DictReader(path.open()))
    print(f"\n{'endpoint':<44} {'reqs':>6} {'fails':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6}  (ms)")
    for row in rows:
        name = row["Name"]
        print(f"{name[:44]:<44} {row['Request Count']:>6} {row['Failure Count']:>6} "
              f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6}")
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        lines = list(csv.DictReader(failures.open()))
        if lines:
            print("\nunexpected answers:")
            for row in lines[:10]:
                print(f"  {row['Occurrences']} × {row['Method']} {row['Name']}: {row['Error'][:150]}")


def print_statuses(path: Path) -> None:
    """Answers per endpoint and status (409 is the loser of a race, 403 a partner's vote)."""
    if not path.exists():
        return
    by_name: dict[str, list[str]] = {}
    for name, status, n in json.loads(path.read_text()):
        by_name.setdefault(name, []).append(f"{n} × {status}")
    print("\nanswers by status:")
    for name, counts in by_name.items():
        print(f"  {name:<42} {', '.join(counts)}")


def print_invariants(results: list[tuple[str, bool, list[str]]]) -> int:
    """Print each check; 1 when any failed."""
    print("\ninvariants:")
    for name, passed, details in results:
        print(f"  [{'ok' if passed else 'FAIL'}] {name}: {'; '.join(details)}")
    failed = [name for name, passed, _ in results if not passed]
    print(f"\nload test: {'FAILED (' + ', '.join(failed) + ')' if failed else 'all invariants hold'}")
    return 1 if failed else 0
