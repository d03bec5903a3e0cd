"""The facility's own lists (notifications, agencies, users, the audit trail) sort by each
column both ways, keep their filters across export and paging, export the page's rows and
say what to do when empty; each reader sees only what they saw before."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.core import lists
from jof.core.db import db
from jof.core.notifications import Notification, notify
from jof.core.people import Agency, User
from jof.core.timeutil import utcnow
from tests.listcheck import (
    AS_NUMBER,
    check_exports_match_the_page,
    check_filter_kept,
    check_sorts,
    csv_rows,
    xlsx_rows,
)

MANAGER = "manager@jof.example"
ADMIN = "admin@jof.example"
REQUESTER = "requester@undp.jof.example"


@pytest.fixture
def one_per_page(app, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE_DEFAULT", 1)


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _notify(app, email: str, messages: list[str], read: tuple[str, ...] = ()) -> None:
    with app.app_context():
        who = _user(email)
        for message in messages:
            n = notify(who, message, link="/queue")
            if message in read:
                n.read_at = utcnow()
        db.session.commit()
        db.session.remove()


# --- notifications -----------------------------------------------------------------------------


def _messages(html: str) -> list[str]:
    return re.findall(r'<a href="/queue">([^<]+)</a>', html)


def test_notifications_sort_by_each_column_and_export_only_the_readers_own(app, web):
    _notify(app, MANAGER, ["banana arrived", "apple waits", "cherry closed"], read=("apple waits",))
    _notify(app, REQUESTER, ["someone else's news"])
    c = web(MANAGER)
    check_sorts(c, "/notifications", lists.NOTIFICATIONS, ident="message", shown=_messages,
                keys={"read": lambda cell: 0 if cell == "" else 1})  # unread first, going up
    check_exports_match_the_page(c, "/notifications", ident="message", shown=_messages)
    assert "someone else's news" not in {r["message"] for r in csv_rows(c, "/notifications")}
    assert "someone else's news" not in str(xlsx_rows(c, "/notifications"))


def test_the_unread_filter_is_kept_in_the_export_and_the_pages(app, web, one_per_page):
    _notify(app, MANAGER, ["first", "second", "third"], read=("second",))
    c = web(MANAGER)
    check_filter_kept(c, "/notifications?unread=1", "unread=1")
    assert {r["message"] for r in csv_rows(c, "/notifications?unread=1")} == {"first", "third"}


def test_an_empty_notification_list_says_why(app, web):
    c = web(MANAGER)
    c.get("/")  # nothing raised yet
    with app.app_context():
        db.session.execute(Notification.__table__.delete())
        db.session.commit()
    assert "JOF writes here when a request, a vote or an invoice needs you" in c.get("/notifications").get_data(
        as_text=True)
    _notify(app, MANAGER, ["done"], read=("done",))
    assert "you have read them all" in c.get("/notifications?unread=1").get_data(as_text=True)


# --- agencies ----------------------------------------------------------------------------------


def _codes(html: str) -> list[str]:
    return re.findall(r'href="/admin/agencies/([A-Z]+)"', html)


def test_the_agency_list_sorts_by_each_column_and_exports_its_rows(app, web):
    with app.app_context():
        for code, limit, left in (("UNDP", "12880000.00", None), ("UNFPA", "0.01", date(2026, 6, 30))):
            agency = db.session.scalar(select(Agency).where(Agency.code == code))
            agency.approval_limit_usd, agency.left_on = Decimal(limit), left
        db.session.commit()
    c = web(ADMIN)
    check_sorts(c, "/admin/agencies", lists.AGENCIES, ident="code", shown=_codes,
                keys={"approval_limit_usd": AS_NUMBER}, empty_last=("left_on",))
    check_exports_match_the_page(c, "/admin/agencies", ident="code", shown=_codes)
    rows = {r["code"]: r for r in csv_rows(c, "/admin/agencies")}
    assert rows["UNDP"]["approval_limit_usd"] == "12880000.00" and rows["UNFPA"]["left_on"] == "2026-06-30"


def test_the_membership_filter_is_kept_and_an_emptied_list_says_so(app, web, one_per_page):
    c = web(ADMIN)
    check_filter_kept(c, "/admin/agencies?membership=member", "membership=member")
    partners = csv_rows(c, "/admin/agencies?membership=partner")
    assert partners and {r["membership"] for r in partners} == {"Partner"}
    with app.app_context():
        for agency in db.session.scalars(select(Agency).where(Agency.membership == "partner")):
            agency.membership = "member"
        db.session.commit()
    assert "No agency has this membership" in c.get("/admin/agencies?membership=partner").get_data(as_text=True)


# --- users -------------------------------------------------------------------------------------


def _emails(html: str) -> list[str]:
    return re.findall(r'<td>([^<@]+@[^<]+)</td><td>', html)


def test_the_user_list_sorts_by_each_column_and_exports_its_rows(app, web, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE_DEFAULT", 100)
    c = web(ADMIN)
    check_sorts(c, "/admin/users", lists.USERS, ident="email", shown=_emails,
                keys={"agency": lambda cell: "" if cell == "Facility" else cell})  # facility staff first
    check_exports_match_the_page(c, "/admin/users", ident="email", shown=_emails)


def test_the_agency_filter_of_the_user_list_is_kept_and_exports_only_that_agency(app, web, one_per_page):
    c = web(ADMIN)
    check_filter_kept(c, "/admin/users?agency=UNDP", "agency=UNDP")
    rows = csv_rows(c, "/admin/users?agency=UNDP")
    assert rows and {r["agency"] for r in rows} == {"UNDP"}
    assert "No user in this agency" in c.get("/admin/users?agency=NOPE").get_data(as_text=True)
    assert web(MANAGER).get("/admin/users?format=csv").status_code == 403  # the administrator's list only


# --- audit trail -------------------------------------------------------------------------------


def _seqs(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>(\d+)</td>", html)


def test_the_audit_trail_sorts_by_each_column_and_exports_the_page_rows(app, web, monkeypatch):
    monkeypatch.setitem(app.config, "PER_PAGE_DEFAULT", 200)
    for email in (ADMIN, REQUESTER, "auditor@jof.example"):
        web(email)  # a few logins to list
    c = web(MANAGER)
    check_sorts(c, "/audit", lists.AUDIT, ident="seq", shown=_seqs, keys={"seq": AS_NUMBER})
    check_exports_match_the_page(c, "/audit", ident="seq", shown=_seqs)
    assert web(REQUESTER).get("/audit?format=csv").status_code == 403


def test_the_audit_filters_are_kept_and_an_emptied_trail_says_to_widen_them(app, web, one_per_page):
    web(ADMIN)
    c = web(MANAGER)
    check_filter_kept(c, "/audit?action=auth.", "action=auth.")
    assert {r["action"][:5] for r in csv_rows(c, "/audit?action=auth.")} == {"auth."}
    assert "widen the dates or choose Clear" in c.get("/audit?action=nothing.such").get_data(as_text=True)
