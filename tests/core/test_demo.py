"""`jof demo load [--password PW]` (DESIGN §10): idempotent, and it never prints a password
that does not open the logins it lists."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from jof.core import auth
from jof.core.db import db
from jof.core.people import Agency, User

PW = "demo-password-123"
PASSWORD_LINE = re.compile(r"Demo logins, all with password: (\S+)")


@pytest.fixture
def jof(app):
    runner = app.test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(args=["demo", "load", *args])
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    return run


def _counts(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count(Agency.id))),
                db.session.scalar(select(func.count(User.id))))


def _opens_every_login(app, password: str) -> bool:
    with app.app_context():
        users = db.session.scalars(select(User)).all()
        return bool(users) and all(auth.check_password(u, password) for u in users)


def test_loading_twice_gives_7_agencies_and_23_users(app, jof):
    first = jof("--password", PW)
    assert _counts(app) == (7, 23)
    second = jof("--password", PW)
    assert _counts(app) == (7, 23)
    for out in (first, second):
        assert PASSWORD_LINE.search(out).group(1) == PW
        assert "  manager@jof.example" in out and "  requester@unaids.jof.example" in out
        assert len(re.findall(r"^  \S+@", out, re.M)) == 23
    assert "left unchanged" not in second  # the password printed is theirs
    assert _opens_every_login(app, PW)


def test_a_first_load_without_password_prints_the_generated_one_that_works(app, jof):
    out = jof()
    password = PASSWORD_LINE.search(out).group(1)
    assert len(password) >= 12
    assert _opens_every_login(app, password)


def test_loading_again_without_password_prints_no_password(app, jof):
    jof("--password", PW)
    out = jof()
    assert PASSWORD_LINE.search(out) is None, out
    assert "Demo logins that already existed (their passwords were left unchanged):" in out
    assert len(re.findall(r"^  \S+@", out, re.M)) == 23
    assert _opens_every_login(app, PW)


def test_loading_again_with_another_password_does_not_print_it(app, jof):
    jof("--password", PW)
    out = jof("--password", "another-password-456")
    assert "another-password-456" not in out
    assert "left unchanged" in out
    assert _opens_every_login(app, PW)


def test_users_created_on_a_later_load_get_the_password_printed_with_them(app, jof):
    jof("--password", PW)
    with app.app_context():
        db.session.delete(db.session.scalar(select(User).where(User.email == "auditor@jof.example")))
        db.session.commit()
    out = jof("--password", "another-password-456")
    created, _, rest = out.partition("Demo logins that already existed")
    assert PASSWORD_LINE.search(created).group(1) == "another-password-456"
    assert re.findall(r"^  (\S+@\S+)", created, re.M) == ["auditor@jof.example"]
    assert len(re.findall(r"^  \S+@", rest, re.M)) == 22
