"""A token records when it was last used, at most once a minute: a busy client does not
turn every API read into a write."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from jof.core import auth
from jof.core.db import db
from jof.core.people import ApiToken, User


def _token(session) -> tuple[str, int]:
    user = session.scalar(select(User).where(User.email == "manager@jof.example"))
    token, row = auth.issue_token(user)
    session.commit()
    return token, row.id


def test_a_token_records_its_first_use(demo, session):
    token, row_id = _token(session)
    assert db.session.get(ApiToken, row_id).last_used_at is None
    user, row = auth.user_from_token(token)
    assert user.email == "manager@jof.example"
    assert row.last_used_at is not None


def test_a_second_use_within_a_minute_writes_nothing(demo, session):
    token, _ = _token(session)
    _, row = auth.user_from_token(token)
    session.commit()
    first = row.last_used_at
    _, row = auth.user_from_token(token)
    assert row.last_used_at == first
    assert not session.dirty


def test_a_use_a_minute_later_moves_the_time_forward(demo, session):
    token, _ = _token(session)
    _, row = auth.user_from_token(token)
    row.last_used_at = row.last_used_at - auth.TOKEN_USE_RESOLUTION - timedelta(seconds=1)
    session.commit()
    before = row.last_used_at
    _, row = auth.user_from_token(token)
    assert row.last_used_at > before


def test_the_use_is_one_update_conditional_on_the_stored_time(app, demo, session):
    """Two workers seeing the same stale time write once: the UPDATE itself checks that the
    stored time is still stale (and skips a row another worker holds), and the session has
    nothing left to flush."""
    from tests.querycount import statements

    token, row_id = _token(session)
    with statements(app, token_use=True) as counted:
        _, row = auth.user_from_token(token)
    updates = [s for s in counted.statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1 and "last_used_at IS NULL" in updates[0] and "last_used_at <=" in updates[0]
    assert not session.dirty
    session.commit()
    assert db.session.get(ApiToken, row_id).last_used_at == row.last_used_at


def test_a_time_moved_by_another_worker_is_not_written_again(demo, session):
    """This worker read a stale time, but another worker has since written a fresh one:
    the conditional UPDATE leaves the fresh time alone."""
    token, row_id = _token(session)
    _, row = auth.user_from_token(token)
    session.commit()
    fresh = row.last_used_at
    auth._record_use(row, fresh + timedelta(seconds=1))
    session.commit()
    session.expire_all()
    assert db.session.get(ApiToken, row_id).last_used_at == fresh
