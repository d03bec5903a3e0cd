"""``jof report monthly YYYY-MM --out FILE.pdf`` and ``jof report board YYYY-MM --out
FILE.pdf``: the monthly report and the board pack from the command line, as the facility
manager (or the user named by ``--as``) would download them."""

from __future__ import annotations

import sys
from datetime import date

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from jof.core.db import db
from jof.core.errors import DomainError, ValidationFailed
from jof.core.people import Role, User, UserRole
from jof.monitoring import report

report_cli = AppGroup("report", help="Reports: the monthly report and the board pack (PDF).")


def _reader(email: str | None) -> User:
    if email:
        user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    else:
        user = db.session.scalar(select(User).where(User.active, User.id.in_(
            select(UserRole.user_id).where(UserRole.role == Role.MANAGER))).order_by(User.id))
    if user is None:
        raise click.ClickException(f"no such user: {email}" if email else "no active facility manager")
    return user


def _month(text: str) -> date:
    """The month as the pages read it (:func:`report.parse_month`); a bad one is a usage
    error (exit 2) naming it."""
    try:
        return report.parse_month(text)
    except ValidationFailed as exc:
        raise click.BadParameter(" ".join(exc.errors["month"]), param_hint="MONTH") from None


def _write(user: User, render, out: str) -> None:
    """Render as ``user`` would download it: in their language, in a bare request."""
    try:
        with current_app.test_request_context(), force_locale(user.locale or "en"):
            data = render()
    except DomainError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    finally:
        db.session.rollback()  # a report changes nothing
    with open(out, "wb") as f:
        f.write(data)
    click.echo(f"{len(data)} bytes written to {out}")


@report_cli.command("monthly")
@click.argument("month")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The PDF file.")
@click.option("--as", "email", default=None, help="Read as this user (default: the facility manager).")
def monthly(month: str, out: str, email: str | None):
    """Write the monthly report of MONTH (YYYY-MM)."""
    first = _month(month)
    user = _reader(email)
    _write(user, lambda: report.monthly_pdf(user, first), out)


@report_cli.command("board")
@click.argument("month")
@click.option("--months", default=1, show_default=True, type=click.IntRange(1, 12),
              help="How many months, ending with MONTH.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True), help="The PDF file.")
@click.option("--as", "email", default=None, help="Read as this user (default: the facility manager).")
def board(month: str, months: int, out: str, email: str | None):
    """Write the board pack of the months ending with MONTH (YYYY-MM)."""
    first = _month(month)
    user = _reader(email)
    _write(user, lambda: report.board_pack_pdf(user, first, months), out)
