"""HR pages for rosters and onboarding (routes on :data:`jof.hr.views.bp`, under /hr):
the rosters and what they save, and the forms of a recruitment's page that record a
roster candidate's answer and an onboarding step. Thin, as ``views``."""

from __future__ import annotations

from datetime import date

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from jof.core import authz, templating
from jof.core.errors import NotFound, ValidationFailed
from jof.core.paging import html_page
from jof.hr import onboarding, rosters
from jof.hr.views import PER_PAGE, _post, bp

STEP_LABELS = {"offer_accepted": _l("Offer accepted"), "medical_clearance": _l("Medical clearance"),
               "security_clearance": _l("Security clearance"), "id_badge": _l("ID and badge"),
               "ict_account": _l("ICT account")}


def register_labels() -> None:
    """The words for the roster's own move. Called by ``jof.hr.install``."""
    templating.ACTION_LABELS.update({"present_roster": _l("Present the roster candidates")})
    templating.ACTION_DONE_LABELS.update({"present_roster": _l("Roster candidates presented")})


@bp.app_template_filter("hr_onboarding_step")
def _step_label(code: str) -> str:
    return str(STEP_LABELS.get(code, code))


@bp.app_template_global("hr_roster_for")
def _roster_for(rec):
    """A from-roster recruitment's candidates, for its page (the reader sees candidates)."""
    try:
        return rosters.candidates_for(authz.require_user(), rec)
    except NotFound:  # the agency, before its candidates are presented
        return []


@bp.app_template_global("hr_onboarding_for")
def _onboarding_for(rec):
    return onboarding.checklist(authz.require_user(), rec)


@bp.route("/rosters")
def rosters_page():
    user = authz.require_user()
    people = rosters.sees_roster_people(user)
    entries = html_page(rosters.roster_entries(), PER_PAGE) if people else None
    return render_template("hr/rosters.html", groups=rosters.roster_groups(), use=rosters.roster_use(),
                           p=entries)


@bp.route("/recruitments/<reference>/roster/<int:entry_id>/consent", methods=["POST"])
def roster_consent(reference, entry_id):
    def act(user, rec, form):
        answer = form.get("agrees", "")
        if answer not in ("yes", "no"):
            raise ValidationFailed({"agrees": [_("Say whether the candidate agrees to be considered.")]})
        rosters.record_consent(user, rec, entry_id, answer == "yes")

    return _post(reference, act, _("Answer recorded for %(reference)s."))


@bp.route("/recruitments/<reference>/onboarding/<step>", methods=["POST"])
def onboarding_step(reference, step):
    def act(user, rec, form):
        starts_on = None
        if step == "ict_account":
            try:
                starts_on = date.fromisoformat(form.get("starts_on", "").strip())
            except ValueError:
                raise ValidationFailed({"starts_on": [_("Give the new person's first day.")]}) from None
        onboarding.record_step(user, rec, step, form.get("note", ""), starts_on)

    return _post(reference, act, _("Onboarding step recorded for %(reference)s."))
