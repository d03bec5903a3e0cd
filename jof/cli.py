"""The ``jof`` command line: Flask's CLI of the app plus the operators' commands."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from jof.core.db import db

demo_cli = AppGroup("demo", help="Demo data of the Brazil pilot.")
user_cli = AppGroup("user", help="User accounts.")
audit_cli = AppGroup("audit", help="The audit trail.")
monitoring_cli = AppGroup("monitoring", help="Monitoring: the time-based alerts, and clocks missing from older data.")


@demo_cli.command("load")
@click.option("--password", default=None, help="Password for every demo user (default: generated and printed).")
def demo_load(password: str | None):
    """Create the facility, its 7 agencies and one user per role; safe to run twice."""
    from jof import demo

    result = demo.load(password)
    db.session.commit()
    click.echo(demo.describe(result))
    _demo_recruitments()


def _demo_recruitments() -> None:
    from jof import demo

    if demo.load_recruitments():
        db.session.commit()
        click.echo("Demo recruitments: one completed (its roster made), one from the roster, one open.")


@demo_cli.command("history")
@click.option("--months", default=12, show_default=True, type=click.IntRange(0, 36),
              help="Whole months of activity to generate, ending with last month (0: none).")
@click.option("--password", default=None, help="Password for every demo user it creates (as `demo load`).")
@click.option("--seed", default=2026, show_default=True, help="Seed of the generator: the same seed, the same history.")
def demo_history_command(months: int, password: str | None, seed: int):
    """Load the demo (as `demo load`) and, on a database without requests yet, play MONTHS
    months of the pilot's activity through the real services; safe to run twice."""
    import time

    from jof import demo, demo_history
    from jof.core.calendar import local_today

    today = local_today()
    first = demo_history.history_months(months, today)[0] if months else today
    if months and demo_history.is_fresh():
        # The facility is founded (users, key, price list) as its history begins.
        with demo_history.founding_clock(first):
            result = demo.load(password, since=first, until=today)
    else:
        result = demo.load(password)
    db.session.commit()
    click.echo(demo.describe(result))
    started = time.monotonic()

    def commit_month(month) -> None:
        db.session.commit()
        click.echo(f"  {month:%Y-%m} done ({time.monotonic() - started:.0f} s)")

    if not months:
        _demo_recruitments()
        return
    if not demo_history.is_fresh():
        click.echo("Demo history not generated: the database holds requests already "
                   "(delete instance/jof.db to start again).")
        _demo_recruitments()
        return
    try:
        click.echo(f"Generating {months} month(s) of demo history from {first:%Y-%m} (seed {seed})…")
        made = demo_history.generate(months, seed=seed, on_month=commit_month)
    except demo_history.HistoryError as exc:
        db.session.rollback()
        click.echo(f"Demo history not generated: {exc}")
        return
    db.session.commit()
    click.echo(f"Demo history: {made.requests} requests, {made.invoices} issued invoices, "
               f"{made.months[0]:%Y-%m} to {made.months[-1]:%Y-%m}, in {time.monotonic() - started:.0f} s.")
    _demo_recruitments()


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--agency", default=None, help="Agency code; omit for facility staff.")
@click.option("--line", "lines", multiple=True, help="Service line of an officer (repeatable).")
@click.password_option()
def user_create(email, name, roles, agency, lines, password):
    """Create a user account."""
    from jof.core import services
    from jof.core.errors import DomainError

    try:
        user = services.create_user(None, {"email": email, "name": name, "roles": list(roles),
                                           "agency": agency, "service_lines": list(lines),
                                           "password": password})
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(2) from None
    click.echo(f"created {user.email} ({', '.join(sorted(user.roles))})")


@audit_cli.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="An anchor from `jof audit anchor`: also prove no event up to it was rewritten, "
                   "removed or truncated.")
def audit_verify(anchor_file: str | None):
    """Check the hash chain; exit 1 naming the first event that was tampered with."""
    from jof.core import anchor, audit
    from jof.core.db import read_only

    with read_only():  # a reader: on SQLite it must not hold the write lock meanwhile
        try:
            if anchor_file:
                checked = anchor.check(anchor.read(open(anchor_file, encoding="utf-8").read()))
            else:
                result = audit.verify()
        except anchor.AnchorError as exc:
            db.session.rollback()
            click.echo(f"audit anchor refused: {exc}", err=True)
            sys.exit(2)
        db.session.rollback()
    if anchor_file:
        if not checked.ok:
            click.echo(f"audit trail {checked.detail}", err=True)
            sys.exit(1)
        click.echo(checked.detail)
        return
    if result.ok:
        click.echo(f"audit trail intact: {result.checked} events checked")
        return
    click.echo(f"audit trail TAMPERED at {result.first_bad}: {result.reason} "
               f"({result.checked} events before it are intact)", err=True)
    sys.exit(1)


@audit_cli.command("anchor")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the anchor to this file (default: standard output).")
def audit_anchor(output: str | None):
    """Write the chain's head (seq, hash, HMAC signature) for the auditor to keep elsewhere."""
    import json

    from jof.core import anchor

    try:
        taken = anchor.take()
        db.session.commit()  # the deferred events it sealed
    except anchor.AnchorError as exc:
        db.session.rollback()
        click.echo(str(exc), err=True)
        sys.exit(1)
    text = json.dumps(taken, indent=2) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"anchor of seq {taken['seq']} written to {output}", err=True)
    else:
        click.echo(text, nl=False)


@monitoring_cli.command("run")
def monitoring_run():
    """Raise the time-based alerts now due (votes closing within 24 h, SLAs at risk or
    breached, daily digests), each once: running it twice, or twice at the same time,
    sends nothing new. Schedule it every few minutes (deploy/systemd/jof-monitoring.timer)."""
    from jof.core import alerts

    try:
        told = alerts.run_timed()
        db.session.commit()  # the e-mails go out after this commit
    except Exception:
        db.session.rollback()
        raise
    click.echo("alerts raised: " + (", ".join(f"{k} {n}" for k, n in sorted(told.items()) if n) or "none due"))


@monitoring_cli.command("backfill")
@click.option("--dry-run", is_flag=True, help="Count the clocks that are missing; add none.")
def monitoring_backfill(dry_run: bool):
    """Add the SLA clocks missing for requests that reached a stopping step (purchase order,
    ticket, settlement, resolution) and for LTA call-offs placed before their clocks
    existed, through the same code that writes them live. Running it again adds nothing."""
    from jof.monitoring.backfill import backfill

    try:
        done = backfill(db.session, dry_run=dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(done.summary())


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup_command(file: str):
    """Back up the whole database to FILE (SQLite: online backup; PostgreSQL: pg_dump -Fc)."""
    from pathlib import Path

    from jof.core import backup

    try:
        backup.backup(db.engine, Path(file))
    except backup.BackupError as exc:
        click.echo(f"backup failed: {exc}", err=True)
        sys.exit(1)
    click.echo(f"backup written to {file}")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Replace the content of a database that already holds data.")
@with_appcontext
def restore_command(file: str, force: bool):
    """Restore a backup from `jof backup` into this (empty) database, then verify the
    audit trail; exit 1 if either fails."""
    from pathlib import Path

    from jof.core import audit, backup
    from jof.core.db import read_only

    db.session.remove()
    try:
        backup.restore(db.engine, Path(file), force=force)
    except backup.BackupError as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
    with read_only():
        result = audit.verify()
        db.session.rollback()
    rows = sum(backup.rows_held(db.engine).values())
    if not result.ok:
        click.echo(f"restored {rows} rows, but the audit trail is TAMPERED at {result.first_bad}: "
                   f"{result.reason}", err=True)
        sys.exit(1)
    click.echo(f"restored {rows} rows from {file}; audit trail intact: {result.checked} events checked")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a forked one per job.")
@with_appcontext
def worker_command(burst: bool, simple: bool):
    """Run the RQ worker of the job queue on REDIS_URL: every line's jobs (period close,
    invoice PDFs, monthly report, board pack) and the queued e-mail."""
    run_worker(burst, simple)


def run_worker(burst: bool, simple: bool) -> None:
    """``jof worker`` (and its older name ``jof billing worker``); exit 2 without Redis."""
    from jof.core import jobs
    from jof.core.errors import DomainError

    try:
        jobs.run_worker(burst=burst, simple=simple)
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)


def init_app(app: Flask) -> None:
    """Core's commands; each line adds its own group in its ``install(app)``."""
    for group in (demo_cli, user_cli, audit_cli, monitoring_cli, backup_command, restore_command, worker_command):
        app.cli.add_command(group)


def main() -> None:
    from jof import create_app

    FlaskGroup(create_app=create_app, help="JOF operators' command line.")(prog_name="jof")
