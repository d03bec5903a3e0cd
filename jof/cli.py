"""The ``jof`` command line: Flask's CLI of the app plus the operators' commands."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup

from jof.core.db import db

demo_cli = AppGroup("demo", help="Demo data of the Brazil pilot.")
user_cli = AppGroup("user", help="User accounts.")
audit_cli = AppGroup("audit", help="The audit trail.")


@demo_cli.command("load")
@click.option("--password", default=None, help="Password for every demo user (default: generated and printed).")
def demo_load(password: str | None):
    """Create the facility, its 7 agencies and one user per role; safe to run twice."""
    from jof import demo

    result = demo.load(password)
    db.session.commit()
    click.echo(demo.describe(result))


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
def audit_verify():
    """Check the hash chain; exit 1 naming the first event that was tampered with."""
    from jof.core import audit
    from jof.core.db import read_only

    with read_only():  # a reader: on SQLite it must not hold the write lock meanwhile
        result = audit.verify()
        db.session.rollback()
    if result.ok:
        click.echo(f"audit trail intact: {result.checked} events checked")
        return
    click.echo(f"audit trail TAMPERED at {result.first_bad}: {result.reason} "
               f"({result.checked} events before it are intact)", err=True)
    sys.exit(1)


def init_app(app: Flask) -> None:
    """Core's commands; each line adds its own group in its ``install(app)``."""
    for group in (demo_cli, user_cli, audit_cli):
        app.cli.add_command(group)


def main() -> None:
    from jof import create_app

    FlaskGroup(create_app=create_app, help="JOF operators' command line.")(prog_name="jof")
