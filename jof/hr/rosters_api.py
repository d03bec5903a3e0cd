"""HR API, rosters and onboarding (routes on :data:`jof.hr.api.blp`, under /api/v1/hr):
the rosters in force, what they save, a from-roster recruitment's candidates and their
answers, and a selection's onboarding checklist.

Candidates' personal data are answered only to those who see a recruitment's
candidates (docs/hr.md); the rosters' sizes and their use are aggregates anyone signed
in reads.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from jof.core import authz
from jof.core.apikit import page_schema
from jof.core.errors import NotFound
from jof.core.paging import PaginationQuery, page_of
from jof.core.schemas import DecimalString
from jof.hr import onboarding, recruitments, rosters
from jof.hr.api import blp
from jof.hr.schemas import CandidateOut


class RosterGroupOut(ma.Schema):
    job_family = fields.String()
    level = fields.String()
    candidates = fields.Integer(metadata={"description": "Candidates on this roster today."})
    until = fields.Date(metadata={"description": "The last day a candidate of this roster stays on it."})


class RosterQuery(PaginationQuery):
    job_family = fields.String(validate=validate.Length(max=80))
    level = fields.String(validate=validate.Length(max=8))


class RosterEntryOut(ma.Schema):
    id = fields.Integer()
    job_family = fields.String()
    level = fields.String()
    total = DecimalString(places=4, metadata={"description": "The weighted total of the assessment passed."})
    recruitment = fields.String(attribute="recruitment.request.reference",
                                metadata={"description": "The recruitment whose assessment was passed."})
    valid_from = fields.Date()
    valid_until = fields.Date()
    candidate = fields.Nested(CandidateOut)


class RosterUseOut(ma.Schema):
    roster_hires = fields.Integer()
    advertised_hires = fields.Integer()
    median_days_advertised = DecimalString(allow_none=True, places=1, metadata={
        "description": "Median days from approval to selection of the advertised recruitments."})
    median_days_roster = DecimalString(allow_none=True, places=1)
    days_saved = DecimalString(allow_none=True, places=1, metadata={
        "description": "Σ over roster hires of the advertised median minus the hire's own days."})
    explanation = fields.String()


class RosterCandidateOut(ma.Schema):
    entry = fields.Nested(RosterEntryOut)
    agrees = fields.Function(lambda c: None if c.consent is None else c.consent.agrees, allow_none=True,
                             metadata={"description": "The candidate's answer; null until recorded."})
    application_id = fields.Function(lambda c: None if c.consent is None else c.consent.application_id,
                                     allow_none=True)


class ConsentIn(ma.Schema):
    agrees = fields.Boolean(required=True)


class StepOut(ma.Schema):
    step = fields.String()
    done = fields.Function(lambda i: i.done is not None)
    done_at = fields.Function(lambda i: None if i.done is None else i.done.done_at.isoformat())
    note = fields.Function(lambda i: "" if i.done is None else i.done.note)
    ict_reference = fields.Function(lambda i: None if i.done is None else i.done.ict_reference, metadata={
        "description": "For the ICT account: the ICT subscription request filed for the new person."})


class StepIn(ma.Schema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    starts_on = fields.Date(metadata={"description": "ICT account: the new person's first day."})


@blp.route("/rosters")
@blp.response(200, RosterGroupOut(many=True))
def roster_groups():
    """The rosters in force: job family, level and how many candidates (no personal data)."""
    authz.require_user()
    return rosters.roster_groups()


@blp.route("/rosters/entries")
@blp.arguments(RosterQuery, location="query")
@blp.response(200, page_schema(RosterEntryOut, "HrRosterEntryPage"))
@blp.errors(404)
def roster_entries(q):
    """The candidates on the rosters in force, best total first (HR officers, the manager
    and the auditor; anyone else 404)."""
    user = authz.require_user()
    if not rosters.sees_roster_people(user):
        raise NotFound("No such roster.")
    return page_of(rosters.roster_entries(job_family=q.get("job_family"), level=q.get("level")), q["page"],
                   q["per_page"])


@blp.route("/rosters/use")
@blp.response(200, RosterUseOut)
def roster_use():
    """Hires from rosters and the days they saved against the median advertised recruitment."""
    authz.require_user()
    return rosters.roster_use()


@blp.route("/recruitments/<reference>/roster")
@blp.response(200, RosterCandidateOut(many=True))
@blp.errors(404)
def roster_candidates(reference):
    """A from-roster recruitment's candidates: the roster of its job family and level, with
    each one's answer. HR officers, the manager and the auditor see them all; the
    agency's head and hiring manager only those who agreed, once presented (before that,
    404); anyone else 404."""
    user = authz.require_user()
    return rosters.candidates_for(user, recruitments.get_recruitment(user, reference))


@blp.route("/recruitments/<reference>/roster/<int:entry_id>/consent", methods=["POST"])
@blp.arguments(ConsentIn)
@blp.response(200, RosterCandidateOut)
@blp.errors(403, 404, 409, 422)
def roster_consent(data, reference, entry_id):
    """Record whether a roster candidate agrees to be considered (HR officer, while the
    from-roster recruitment is approved); agreeing makes them an application of it."""
    user = authz.require_user()
    return rosters.record_consent(user, recruitments.get_recruitment(user, reference), entry_id, data["agrees"])


@blp.route("/recruitments/<reference>/onboarding")
@blp.response(200, StepOut(many=True))
@blp.errors(404)
def onboarding_checklist(reference):
    """The onboarding checklist: offer accepted, medical clearance, security clearance,
    ID/badge, ICT account; ``complete`` is refused until every step is done."""
    user = authz.require_user()
    return onboarding.checklist(user, recruitments.get_recruitment(user, reference))


@blp.route("/recruitments/<reference>/onboarding/<step>", methods=["POST"])
@blp.arguments(StepIn)
@blp.response(201, StepOut)
@blp.errors(403, 404, 409, 422)
def onboarding_step(data, reference, step):
    """Record a step as done (HR officer, once the offer is made); ``ict_account`` needs
    ``starts_on`` and files the new person's e-mail account with ICT."""
    user = authz.require_user()
    return onboarding.record_step(user, recruitments.get_recruitment(user, reference), step, data["note"],
                                  data.get("starts_on"))
