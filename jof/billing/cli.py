"""``jof billing …``: the monthly period close (and ``worker``, the older name of ``jof worker``)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from jof.core.db import db

billing_cli = AppGroup("billing", help="Billing: period close (worker: see `jof worker`).")


@billing_cli.command("close-period")
@click.argument("period")
@click.option("--as", "email", default="manager@jof.example", show_default=True,
              help="The facility manager the close is recorded under.")
def close_period(period: str, email: str):
    """Close PERIOD (YYYY-MM): allocate pools, freeze, draft one invoice per agency. Safe to re-run."""
    from sqlalchemy import select

    from jof.billing import services
    from jof.core.calendar import parse_month
    from jof.core.errors import DomainError
    from jof.core.money import MoneyError
    from jof.core.people import User

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        click.echo(f"no user {email}", err=True)
        sys.exit(2)
    try:
        result = services.close_period(user, parse_month(period, "period"))
        db.session.commit()
    except (DomainError, MoneyError) as exc:
        db.session.rollback()
        click.echo(f"period {period} not closed: {getattr(exc, 'detail', None) or exc}", err=True)
        for field, messages in getattr(exc, "errors", {}).items():
            click.echo(f"  {field}: {' '.join(messages)}", err=True)
        sys.exit(1)
    click.echo(result.message)


@billing_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--simple", is_flag=True, help="Run jobs in this process instead of a forked one per job.")
def worker(burst: bool, simple: bool):
    """The older name of `jof worker`: the RQ worker of every job (not billing's only)."""
    from jof.core import jobs
    from jof.core.errors import DomainError

    try:
        jobs.run_worker(burst=burst, simple=simple)
    except DomainError as exc:
        click.echo(exc.detail, err=True)
        sys.exit(2)
