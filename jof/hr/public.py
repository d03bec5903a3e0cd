"""The public side of recruitment: the list of open vacancies and the application form of
each, for people without an account (issue 14).

An application sent here is recorded and screened exactly like one an HR officer records
(:func:`jof.hr.applications.create_application`), with ``source="public"``. The form is
guarded like every other one and more:

* **CSRF**: the global CSRF protection (Flask-WTF) covers it, as every form of JOF;
* **once only**: the page's one-time ``_once`` token (:mod:`jof.core.once` stamps it on
  every form) is claimed in :class:`~jof.hr.models.PublicSubmission`, whose unique index
  makes a second send of the same form land on the confirmation instead of recording a
  second application (the core's own claim needs a signed-in user);
* **rate limit**: at most ``JOF_HR_PUBLIC_MAX_APPLICATIONS`` (5) applications per address
  group (an IPv4 address, an IPv6 /64, as the login throttle counts) within
  ``JOF_HR_PUBLIC_WINDOW`` (an hour), counted in the database so the limit holds across
  workers; the next one is a 429 saying when to come back;
* **attachment**: one optional document (CV), at most 5 MB, PDF, DOCX, ODT or plain text,
  checked by extension and by its first bytes, its name made safe, as the board's
  decision attachments are.

The applicant sees no screening result, only that the application was received.
"""

from __future__ import annotations

import math
from datetime import timedelta
from types import SimpleNamespace

import marshmallow as ma
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from jof.core import audit, forms, uploads
from jof.core.calendar import local_today
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, NotFound, TooManyRequests, ValidationFailed
from jof.core.formatting import local_date
from jof.core.once import FORM_FIELD
from jof.core.throttle import address_group
from jof.core.timeutil import utcnow
from jof.core.workflow import ServiceRequest
from jof.hr import panels, states
from jof.hr.applications import create_application
from jof.hr.models import (
    EDUCATION_LEVELS,
    GENDERS,
    ApplicationAttachment,
    PublicSubmission,
    Recruitment,
    Referee,
)
from jof.hr.schemas import ApplicationIn

bp = Blueprint("hr_public", __name__, url_prefix="/vacancies", template_folder="templates")

#: The audit's actor for what the public page records: nobody signed in.
APPLICANT = SimpleNamespace(id=None, email="public application page")
DEFAULT_MAX_APPLICATIONS = 5
DEFAULT_WINDOW = timedelta(hours=1)
MAX_ATTACHMENT_BYTES = uploads.MAX_DOCUMENT_BYTES
#: The kinds of document an applicant may attach (checked by :mod:`jof.core.uploads`).
ATTACHMENT_TYPES = ("pdf", "docx", "odt", "txt")
MAX_REFEREES = 2
GENDER_LABELS = {"woman": _l("Woman"), "man": _l("Man"), "non_binary": _l("Non-binary"), "other": _l("Other")}


class PublicApplicationIn(ApplicationIn):
    referees = fields.List(fields.Dict(), load_default=list, validate=validate.Length(max=MAX_REFEREES))
    consent = fields.Boolean(required=True, validate=validate.Equal(True, error=_l("Agree to the privacy notice to apply.")))


class RefereeIn(ma.Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))


# --- services -----------------------------------------------------------------------------


def open_vacancies() -> list[Recruitment]:
    """Advertised vacancies, soonest closing first."""
    return list(db.session.scalars(
        select(Recruitment).join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
        .options(contains_eager(Recruitment.request).joinedload(ServiceRequest.agency))
        .where(ServiceRequest.status.in_(states.OPEN_FOR_APPLICATIONS))
        .order_by(Recruitment.closing_date, ServiceRequest.id)))


def open_vacancy(reference: str) -> Recruitment:
    """An advertised vacancy by its reference; anything else (unknown, not yet or no
    longer advertised) is 404, so the page tells nothing about other requests."""
    rec = db.session.scalar(select(Recruitment).join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
                            .where(ServiceRequest.reference == reference))
    if rec is None or rec.request.status not in states.OPEN_FOR_APPLICATIONS:
        raise NotFound(_("This vacancy is not open for applications."))
    return rec


def checked_attachment(filename: str, data: bytes) -> ApplicationAttachment:
    """The document as it will be kept, or the refusal saying what is wrong with it (the
    checks every upload of JOF goes through, under the form's ``cv`` field)."""
    doc = uploads.check_document(filename, data, allowed=ATTACHMENT_TYPES, field="cv",
                                 max_bytes=MAX_ATTACHMENT_BYTES,
                                 wrong_type=_("Attach a PDF, DOCX, ODT or plain text (.txt) file."))
    return ApplicationAttachment(filename=doc.filename, content_type=doc.content_type, size=doc.size,
                                 sha256=doc.sha256, data=doc.data, uploaded_at=utcnow())


def _check_rate(address: str) -> None:
    cfg = current_app.config
    limit = cfg.get("JOF_HR_PUBLIC_MAX_APPLICATIONS", DEFAULT_MAX_APPLICATIONS)
    window = cfg.get("JOF_HR_PUBLIC_WINDOW", DEFAULT_WINDOW)
    now = utcnow()
    # Rows older than the window have served their purpose: forget them.
    db.session.execute(PublicSubmission.__table__.delete().where(PublicSubmission.at <= now - window))
    since = now - window
    count = db.session.scalar(select(func.count(PublicSubmission.id)).where(
        PublicSubmission.address == address, PublicSubmission.at > since)) or 0
    if count >= limit:
        oldest = db.session.scalar(select(PublicSubmission.at).where(
            PublicSubmission.address == address, PublicSubmission.at > since)
            .order_by(PublicSubmission.at).offset(count - limit).limit(1))
        wait = max(1, math.ceil((oldest + window - now).total_seconds()))
        raise TooManyRequests(_("Too many applications from your network address. Try again in %(minutes)s "
                                "minutes.", minutes=math.ceil(wait / 60)), retry_after=wait)


def claim_token(token: str, address: str) -> PublicSubmission | None:
    """Claim the form's one-time token; None when it was used already (the form was sent
    twice: the first send's application stands)."""
    if not token:
        raise ValidationFailed({FORM_FIELD: [_("The form lost its one-time token; reload the page.")]},
                               _("The form lost its one-time token; reload the page."))
    token = token[:100]
    if db.session.scalar(select(PublicSubmission.id).where(PublicSubmission.token == token)) is not None:
        return None
    _check_rate(address)
    row = PublicSubmission(token=token, address=address, at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return None  # the same form, sent twice at once: the other send records it
    return row


def apply(rec: Recruitment, data: dict, attachment: ApplicationAttachment | None,
          submission: PublicSubmission):
    """Record a public application: the candidate, screened; referees; the document."""
    if rec.closing_date < local_today():  # the facility's day, as the vacancy page says
        raise Conflict(_("Applications closed on %(date)s.", date=local_date(rec.closing_date)))
    app = create_application(APPLICANT, rec, data, source="public")
    for ref in data.get("referees") or []:
        db.session.add(Referee(application_id=app.id, name=ref["name"].strip(), email=ref["email"].strip().lower()))
    if attachment is not None:
        attachment.application_id = app.id
        db.session.add(attachment)
    submission.application_id = app.id
    db.session.flush()
    if data.get("referees"):
        panels.unseat_referees(APPLICANT, rec)
    if attachment is not None:
        audit.record(APPLICANT, "hr.application.attach", app, after={
            "application_id": app.id, "attachment": attachment.id, "size": attachment.size})
    return app


# --- pages --------------------------------------------------------------------------------


@bp.app_template_filter("hr_gender")
def _gender(code: str) -> str:
    return str(GENDER_LABELS.get(code, code))


@bp.route("/")
def vacancies_page():
    return render_template("hr/vacancies.html", vacancies=open_vacancies())


def _form_data(form: dict) -> dict:
    data = {k: (form.get(k) or "").strip() for k in ("full_name", "email", "phone", "education")}
    years = (form.get("years_experience") or "").strip()
    data["years_experience"] = int(years) if years.isdigit() else years
    data["languages"] = [p.strip() for p in (form.get("languages") or "").split(",") if p.strip()]
    data["gender"] = form.get("gender") or None
    data["nationality"] = (form.get("nationality") or "").strip().upper() or None
    data["consent"] = form.get("consent") == "yes"
    referees, errors = [], {}
    for i in range(1, MAX_REFEREES + 1):
        name, email = (form.get(f"referee{i}_name") or "").strip(), (form.get(f"referee{i}_email") or "").strip()
        if not name and not email:
            continue
        try:
            referees.append(RefereeIn().load({"name": name, "email": email}))
        except ma.ValidationError as exc:
            errors.update({f"referee{i}_{k}": v for k, v in exc.messages.items()})
    data["referees"] = referees
    if errors:
        raise ValidationFailed(errors)
    return data


def _apply_form(rec, form: dict, errors: dict, status: int = 200, error: str | None = None):
    return render_template("hr/apply.html", rec=rec, form=form, errors=errors, error=error,
                           educations=EDUCATION_LEVELS, genders=GENDERS, max_referees=MAX_REFEREES,
                           purge_months=current_app.config.get("JOF_HR_PURGE_MONTHS", 24)), status


@bp.route("/<reference>", methods=["GET", "POST"])
def apply_page(reference):
    rec = open_vacancy(reference)
    if request.method == "GET":
        return _apply_form(rec, {}, {})
    form = {k: v for k, v in request.form.items() if k not in ("csrf_token", FORM_FIELD)}
    try:
        data = _form_data(form)
        data = forms.load(PublicApplicationIn(), data)
        upload = request.files.get("cv")
        attachment = None
        if upload is not None and upload.filename:
            attachment = checked_attachment(upload.filename, upload.read(MAX_ATTACHMENT_BYTES + 1))
        submission = claim_token(request.form.get(FORM_FIELD, ""), address_group(request.remote_addr or ""))
        if submission is not None:
            apply(rec, data, attachment, submission)
    except DomainError as exc:
        errors, status = forms.refused(exc)
        if status == 429:
            raise
        detail = exc.detail if status != 422 else _("The form has errors; see the messages below.")
        return _apply_form(rec, form, errors, status, error=detail)
    flash(_("Thank you: your application for %(post)s was received. The facility's HR team will contact "
            "you if you are short-listed.", post=rec.post_title), "success")
    return redirect(url_for("hr_public.vacancies_page"))
