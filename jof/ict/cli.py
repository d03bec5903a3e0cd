"""``jof ict …``: the monthly charges of ICT subscriptions."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jof.core.db import db

ict_cli = AppGroup("ict", help="ICT service line: subscriptions and tickets.")


@ict_cli.command("bill-month")
@click.argument("month")
def bill_month(month: str):
    """Write the chargeable events of every recurring subscription for MONTH (YYYY-MM),
    prorated by day; running it again for the same month writes nothing new."""
    from jof.core.errors import DomainError
    from jof.ict import subscriptions

    try:
        created, existing = subscriptions.bill_month(None, subscriptions.parse_month(month))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            click.echo(f"{field}: {' '.join(messages)}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{month}: {created} charge(s) recorded, {existing} already recorded before")
