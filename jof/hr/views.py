"""HR pages: the recruitments list, filing a recruitment, and one recruitment's page
(its requirements and plan, the moves open to the reader, the applications with their
screening, the scores and the ranked list).

Thin handlers: read the form, validate with the API's schemas, call a service, redirect
on success or render the page again with the messages and the input kept (422).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from jof.core import authz, field_messages, forms, listing, templating, workflow
from jof.core.errors import DomainError, ValidationFailed
from jof.core.listing import Column, Listing
from jof.core.people import Agency, Role
from jof.core.workflow import ServiceRequest
from jof.hr import applications, assessment, recruitments, states
from jof.hr import schemas as s
from jof.hr.models import CONTRACT_TYPES, EDUCATION_LEVELS, LEVELS, Recruitment
from jof.hr.scoring import ranking_of
from jof.hr.screening import screen_application

bp = Blueprint("hr", __name__, url_prefix="/hr", template_folder="templates")

PER_PAGE = 25

CONTRACT_LABELS = {"fixed_term": _l("Fixed-term appointment"), "temporary": _l("Temporary appointment"),
                   "service_contract": _l("Service contract"), "individual_contractor": _l("Individual contractor")}
EDUCATION_LABELS = {"secondary": _l("Secondary school"), "technical": _l("Technical diploma"),
                    "bachelor": _l("Bachelor's degree"), "master": _l("Master's degree"),
                    "doctorate": _l("Doctorate")}


def register_labels() -> None:
    """The words a reader sees for the recruitment's own states and steps. Called by
    ``jof.hr.install``."""
    field_messages.FIELD_LABELS.update({
        "post_title": _l("Post title"), "duty_station": _l("Duty station"), "contract_type": _l("Contract type"),
        "job_family": _l("Job family"), "min_education": _l("Education"), "education": _l("Education"),
        "min_years_experience": _l("Years of relevant experience"),
        "years_experience": _l("Years of relevant experience"),
        "required_languages": _l("Required languages (comma-separated)"),
        "desirable_languages": _l("Desirable languages (comma-separated)"), "languages": _l("Languages"),
        "hiring_manager": _l("Hiring manager (e-mail)"), "pass_mark": _l("Pass mark (of 100)"),
        "scores": _l("Scores")})
    S = states.RecruitmentStatus
    templating.STATUS_LABELS.update({
        S.ADVERTISED: _l("Advertised"), S.LONG_LISTED: _l("Long-listed"), S.SHORT_LISTED: _l("Short-listed"),
        S.ASSESSED: _l("Assessed"), S.RECOMMENDED: _l("Recommended"), S.SELECTED: _l("Selected"),
        S.OFFER: _l("Offer made"), S.FAILED: _l("Failed: no suitable candidate"),
    })
    templating.ACTION_LABELS.update({
        "advertise": _l("Advertise"), "long_list": _l("Close applications and long-list"),
        "short_list": _l("Short-list"), "assess": _l("Close the assessment"), "recommend": _l("Recommend"),
        "select": _l("Select"), "offer": _l("Make the offer"), "fail": _l("Failed: no suitable candidate"),
        "readvertise": _l("Re-advertise"),
    })
    templating.ACTION_DONE_LABELS.update({
        "advertise": _l("Advertised"), "long_list": _l("Long-listed"), "short_list": _l("Short-listed"),
        "assess": _l("Assessed"), "recommend": _l("Recommended"), "select": _l("Selected"),
        "offer": _l("Offer made"), "fail": _l("Declared failed"), "readvertise": _l("Re-advertised"),
    })
    templating.TYPE_LABELS.update({states.RECRUITMENT: _l("Recruitment")})


@bp.app_template_filter("hr_contract")
def _contract(code: str) -> str:
    return str(CONTRACT_LABELS.get(code, code))


@bp.app_template_filter("hr_education")
def _education(code: str) -> str:
    return str(EDUCATION_LABELS.get(code, code))


@bp.app_template_filter("hr_check")
def _check(check) -> str:
    """A screening check's reason in the reader's language, from its facts (the API keeps
    the English sentence of jof/hr/screening.py)."""
    if check.requirement == "education":
        text = _("education: %(has)s, %(needs)s required", has=_education(check.has), needs=_education(check.needs))
    elif check.requirement == "experience":
        text = ngettext("%(num)d year of experience, %(needs)s required",
                        "%(num)d years of experience, %(needs)s required", check.has, needs=check.needs)
    elif check.requirement == "language":
        text = _("speaks %(name)s: required", name=check.name)
    else:
        text = _("speaks %(name)s: desirable", name=check.name)
    spoken = check.met if check.requirement != "desirable_language" else bool(check.has)
    if check.requirement in ("language", "desirable_language") and not spoken:
        return _("%(check)s, not spoken", check=text)
    return _("%(check)s: met", check=text) if check.met and spoken else text


def _lines(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def _methods(text: str) -> list[dict]:
    """``Desk review 30`` per line → ``{"name": "Desk review", "weight": "30"}``."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        name, _sep, weight = line.rpartition(" ")
        if not name or not weight.isdigit():
            raise ValidationFailed({"methods": [_("Write one method per line: its name, a space and its weight.")]})
        out.append({"name": name.strip(), "weight": int(weight)})
    return out


#: The recruitments list: what the page shows, sorts by and exports (:mod:`jof.core.listing`).
RECRUITMENTS = Listing(
    "recruitments",
    (
        Column("reference", _l("Reference"), lambda r: r.request.reference, ServiceRequest.reference),
        Column("agency", _l("Agency"), lambda r: r.request.agency.code,
               select(Agency.code).where(Agency.id == ServiceRequest.agency_id).scalar_subquery()),
        Column("post", _l("Post"), lambda r: r.post_title, Recruitment.post_title),
        Column("level", _l("Level"), lambda r: r.level, Recruitment.level),
        Column("duty_station", _l("Duty station"), lambda r: r.duty_station, Recruitment.duty_station),
        Column("closing_date", _l("Closing date"), lambda r: r.closing_date, Recruitment.closing_date),
        Column("status", _l("Status"), lambda r: templating.status_label(r.request.status), ServiceRequest.status),
    ),
    default_sort="reference",
    tiebreak=(Recruitment.id.desc(),),
)


@bp.route("/")
def recruitments_page():
    user = authz.require_user()
    status = request.args.get("status") or None
    stmt = recruitments.recruitments_query(user, status)
    return listing.respond(RECRUITMENTS, stmt, "hr/recruitments.html", _("Recruitments"), PER_PAGE,
                           status=status, statuses=workflow.get_type(states.RECRUITMENT).states)


def _new_form(form: dict, errors: dict, status: int = 200):
    return render_template("hr/recruitment_new.html", form=form, errors=errors, levels=LEVELS,
                           contracts=CONTRACT_TYPES, educations=EDUCATION_LEVELS), status


@bp.route("/recruitments/new", methods=["GET", "POST"])
def recruitment_new():
    authz.require_user()
    if request.method == "GET":
        return _new_form({"methods": "Desk review 30\nWritten test 30\nInterview 40", "pass_mark": "70"}, {})
    form = {k: v.strip() for k, v in request.form.items() if k not in ("csrf_token", "_once")}
    user = authz.require_user()
    try:
        data = {k: v for k, v in form.items() if v != "" and k not in ("methods", "required_languages",
                                                                      "desirable_languages")}
        data["required_languages"] = _lines(form.get("required_languages", ""))
        data["desirable_languages"] = _lines(form.get("desirable_languages", ""))
        data["methods"] = _methods(form.get("methods", ""))
        if "min_years_experience" in data:
            data["min_years_experience"] = int(data["min_years_experience"]) \
                if data["min_years_experience"].isdigit() else data["min_years_experience"]
        rec = recruitments.file_recruitment(user, forms.load(s.RecruitmentIn(), data))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _new_form(form, errors, status)
    flash(_("Recruitment %(reference)s filed as a draft; submit it when it is ready.",
            reference=rec.request.reference), "success")
    return redirect(url_for("hr.recruitment_page", reference=rec.request.reference))


def _render(user, rec, status=200, *, error=None, errors=None, form=None):
    sees = recruitments.sees_candidates(user, rec)
    apps = applications.applications_of(user, rec) if sees else []
    # From a roster, the agency reads only who agreed once presented: no ranked table of all.
    ranked = sees and len(apps) == len(rec.applications)
    screenings = {a.id: screen_application(rec, a.candidate) for a in apps}
    return render_template("hr/recruitment.html", rec=rec, sr=rec.request, sees=sees, apps=apps,
                           screenings=screenings, ranking=ranking_of(rec) if ranked else None,
                           transitions=workflow.available_transitions(user, rec.request),
                           officer=sees and not authz.is_read_only(user) and (
                               authz.is_officer_for(user, states.SERVICE_LINE) or user.has_role(Role.MANAGER)),
                           educations=EDUCATION_LEVELS, S=states.RecruitmentStatus,
                           error=error, errors=errors or {}, form=form or {}), status


@bp.route("/recruitments/<reference>")
def recruitment_page(reference):
    user = authz.require_user()
    return _render(user, recruitments.get_recruitment(user, reference))


def _post(reference, act, success: str):
    def done(rec):
        flash(success % {"reference": reference,
                         "status": templating.status_label(rec.request.status).lower()}, "success")
        return redirect(url_for("hr.recruitment_page", reference=reference))

    return forms.act_on(lambda user: recruitments.get_recruitment(user, reference), act, _render, done)


def _version(form) -> int:
    try:
        return int(form.get("version", ""))
    except ValueError:
        raise ValidationFailed({"version": [_("The form lost the request's version; reload the page.")]}) from None


@bp.route("/recruitments/<reference>/transitions", methods=["POST"])
def recruitment_transition(reference):
    def act(user, rec, form):
        payload = None
        if form.get("action") == "select":
            payload = {"application_id": form.get("application_id", "")}
            if str(payload["application_id"]).isdigit():
                payload["application_id"] = int(payload["application_id"])
        elif form.get("action") == "readvertise":
            payload = {"closing_date": form.get("closing_date", "")}
        workflow.perform(user, rec.request, form.get("action", ""), form.get("comment", ""), _version(form),
                         payload=payload)

    return _post(reference, act, _("%(reference)s is now %(status)s."))


@bp.route("/recruitments/<reference>/applications", methods=["POST"])
def application_new(reference):
    def act(user, rec, form):
        data = {k: form.get(k, "").strip() for k in ("full_name", "email", "phone", "education")}
        years = form.get("years_experience", "").strip()
        data["years_experience"] = int(years) if years.isdigit() else years
        data["languages"] = _lines(form.get("languages", ""))
        applications.record_application(user, rec, forms.load(s.ApplicationIn(), data))

    return _post(reference, act, _("Application recorded for %(reference)s."))


@bp.route("/recruitments/<reference>/applications/<int:application_id>/screening", methods=["POST"])
def application_override(reference, application_id):
    def act(user, rec, form):
        app = applications.get_application(user, rec, application_id)
        applications.override_screening(user, app, form.get("screened_in") == "yes", form.get("comment", ""))

    return _post(reference, act, _("Screening of %(reference)s overridden."))


@bp.route("/recruitments/<reference>/applications/<int:application_id>/scores", methods=["POST"])
def application_scores(reference, application_id):
    def act(user, rec, form):
        app = applications.get_application(user, rec, application_id)
        items = [{"method": m.name, "score": form.get(f"score-{m.id}", "").strip()}
                 for m in rec.methods if form.get(f"score-{m.id}", "").strip()]
        if not items:
            raise ValidationFailed({"scores": [_("Give at least one score.")]})
        assessment.enter_scores(user, app, forms.load(s.ScoresIn(), {"scores": items})["scores"])

    return _post(reference, act, _("Scores recorded for %(reference)s."))
