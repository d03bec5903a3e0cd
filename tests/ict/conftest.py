"""Helpers of the ICT tests: users by e-mail, a subscription walked to approval."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from jof.core import workflow
from jof.core.db import db
from jof.core.people import User
from jof.ict import subscriptions


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def approved_subscription(session, demo):
    """``approved_subscription(seats, starts_on, service=..., agency=...)`` → an approved
    subscription (first seat period started), in the test's session."""

    def make(seats: int, starts_on: date, service: str = "email_account", agency: str = "undp",
             ends_on: date | None = None):
        requester = user(f"requester@{agency}.jof.example")
        sub = subscriptions.order(requester, {"service": service, "seats": seats, "starts_on": starts_on,
                                         "ends_on": ends_on})
        workflow.perform(user("manager@jof.example"), sub.request, "approve")
        session.flush()
        return sub

    return make
