"""A facility officer files a request for an agency's requester (what HR's onboarding
does through core.accounts for the new person's ICT account): the draft is the
requester's, the timeline and the audit name the officer; nobody else may."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from jof.core import accounts, workflow
from jof.core.audit import AuditEvent
from jof.core.db import db
from jof.core.errors import Conflict, Forbidden
from tests.core.test_workflow import OTHER_REQUESTER, REQUESTER, user

HR = "hr@jof.example"


def test_a_facility_officer_files_a_draft_for_the_agencys_requester(make, session):
    sr = workflow.create_request(user(HR), "test", title="E-mail account for a new colleague",
                                 agency=user(REQUESTER).agency, requester=user(REQUESTER))
    db.session.flush()
    assert (sr.requester.email, sr.agency.code, sr.status) == (REQUESTER, "UNDP", "draft")
    assert sr.timeline[0].actor_id == user(HR).id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "request.create",
                                                      AuditEvent.object_id == sr.reference))
    assert event.actor_id == user(HR).id
    assert "submit" in workflow.allowed_actions(user(REQUESTER), sr)


def test_an_agency_user_cannot_file_for_someone_else(make, session):
    with pytest.raises(Forbidden):
        workflow.create_request(user(OTHER_REQUESTER), "test", title="Not mine", requester=user(REQUESTER))


def test_nobody_can_be_named_requester_outside_their_agency(make, session):
    with pytest.raises(Forbidden):
        workflow.create_request(user(HR), "test", title="Wrong agency", agency=user(OTHER_REQUESTER).agency,
                                requester=user(REQUESTER))


def test_filing_an_account_without_a_filer_is_refused(monkeypatch, app):
    monkeypatch.setattr(accounts, "_filer", [])
    with pytest.raises(Conflict):
        accounts.file_account(None, accounts.AccountOrder(None, None, "Ana", date(2027, 1, 4), "HRR-2027-00001"))
