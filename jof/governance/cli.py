"""``jof governance …``: the scheduled close of due decisions and pending effects."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from jof.core.db import db

governance_cli = AppGroup("governance", help="The board: decisions and their effects.")


@governance_cli.command("close-due")
def close_due():
    """Close every open decision whose closing time has passed and apply adopted effects
    whose effective date has come (safe to run every minute, e.g. from cron)."""
    from jof.core.timeutil import utcnow
    from jof.governance import decisions

    now = utcnow()
    closed = []
    for decision_id in decisions.due_decision_ids(now):
        number = decisions.close_if_due(decision_id, now)  # a failure is logged, the rest go on
        db.session.commit()
        if number:
            closed.append(number)
    decisions.apply_due_effects(now)
    db.session.commit()
    click.echo(f"closed {len(closed)} decision(s)" + (": " + ", ".join(closed) if closed else ""))


@governance_cli.command("apply-pending")
def apply_pending():
    """Apply adopted effects whose owning module has been installed since."""
    from jof.governance import effects

    n = effects.apply_pending()
    db.session.commit()
    click.echo(f"applied {n} pending effect(s)")
