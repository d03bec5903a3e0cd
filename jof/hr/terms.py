"""A recruitment's terms of reference (issue 14): the document describing the post,
attached to the request and offered with the vacancy.

* **Checked** like every document JOF keeps (:func:`jof.core.uploads.check_document`):
  PDF, DOCX or ODT, at most 5 MB, its first bytes those of its extension, its name made
  safe, its SHA-256 kept.
* **Who uploads**: a requester of the recruitment's agency while it is a draft or
  submitted; an HR officer or the facility manager at any time before it ends (completed,
  failed, rejected or cancelled).
* **Versions**: a new upload becomes the current version; the earlier ones stay, listed
  as the history. Each upload is audited (``hr.terms.upload``) with its version, size,
  type and hash, never its name or contents.
* **Who reads**: everyone who may see the recruitment (another agency's is 404); and
  anyone, without signing in, the current version while the vacancy is advertised
  (``/vacancies/<reference>/terms``).
"""

from __future__ import annotations

import io

import marshmallow as ma
from flask import flash, redirect, request, send_file, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest.fields import Upload
from marshmallow import fields
from sqlalchemy import func, select

from jof.core import audit, authz, field_messages, forms
from jof.core import uploads as up
from jof.core.db import db
from jof.core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from jof.core.people import Role, User
from jof.core.timeutil import utcnow
from jof.hr import api, public, recruitments, states, views
from jof.hr.models import Recruitment, TermsOfReference

S = states.RecruitmentStatus
#: The types a terms of reference may be.
TERMS_TYPES = ("pdf", "docx", "odt")
#: While the requesting agency may still change its terms of reference.
REQUESTER_STATES = (S.DRAFT, S.SUBMITTED)
#: After these nobody changes them.
ENDED_STATES = (S.COMPLETED, S.FAILED, S.REJECTED, S.CANCELLED)
MAX_NOTE = 200

field_messages.FIELD_LABELS.update({"terms_file": _l("Terms of reference"), "terms_note": _l("What changed")})


def may_upload(user: User, rec: Recruitment) -> bool:
    if authz.is_read_only(user):
        return False
    status = rec.request.status
    if authz.is_officer_for(user, states.SERVICE_LINE) or user.has_role(Role.MANAGER):
        return status not in ENDED_STATES
    return (user.agency_id == rec.request.agency_id and user.has_role(Role.REQUESTER)
            and status in REQUESTER_STATES)


def versions_of(rec: Recruitment) -> list[TermsOfReference]:
    """Every version, the current (highest) first."""
    return list(db.session.scalars(select(TermsOfReference).where(TermsOfReference.recruitment_id == rec.id)
                                   .order_by(TermsOfReference.version.desc())))


def current_of(rec: Recruitment) -> TermsOfReference | None:
    return db.session.scalar(select(TermsOfReference).where(TermsOfReference.recruitment_id == rec.id)
                             .order_by(TermsOfReference.version.desc()).limit(1))


def upload_terms(actor: User, rec: Recruitment, filename: str, data: bytes, note: str = "") -> TermsOfReference:
    """Attach a new version of the terms of reference; it becomes the current one."""
    authz.ensure_can_change(actor)
    if rec.request.status in ENDED_STATES:
        raise Conflict(_("The recruitment has ended: its terms of reference no longer change."))
    if not may_upload(actor, rec):
        raise Forbidden(_("Only a requester of the agency (while the request is a draft or submitted), an HR "
                          "officer or the facility manager attaches the terms of reference."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationFailed({"note": [_("At most %(n)s characters.", n=MAX_NOTE)]})
    doc = up.check_document(filename, data, allowed=TERMS_TYPES,
                            wrong_type=_("Attach the terms of reference as a PDF, DOCX or ODT file."))
    last = db.session.scalar(select(func.max(TermsOfReference.version))
                             .where(TermsOfReference.recruitment_id == rec.id)) or 0
    terms = TermsOfReference(recruitment_id=rec.id, version=last + 1, filename=doc.filename,
                             content_type=doc.content_type, size=doc.size, sha256=doc.sha256, data=doc.data,
                             note=note, uploaded_by_id=actor.id, uploaded_at=utcnow())
    db.session.add(terms)
    db.session.flush()
    audit.record(actor, "hr.terms.upload", rec, after={
        "version": terms.version, "content_type": terms.content_type, "size": terms.size,
        "sha256": terms.sha256, "replaces": last or None})
    return terms


def get_version(rec: Recruitment, version: int) -> TermsOfReference:
    terms = db.session.scalar(select(TermsOfReference).where(
        TermsOfReference.recruitment_id == rec.id, TermsOfReference.version == version))
    if terms is None:
        raise NotFound(_("No such version of the terms of reference."))
    return terms


def public_terms(reference: str) -> TermsOfReference:
    """The current version for the public vacancy page: only while advertised."""
    rec = public.open_vacancy(reference)
    terms = current_of(rec)
    if terms is None:
        raise NotFound(_("This vacancy has no terms of reference."))
    return terms


def send_terms(terms: TermsOfReference):
    response = send_file(io.BytesIO(terms.data), mimetype=terms.content_type, as_attachment=True,
                         download_name=terms.filename, etag=terms.sha256, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# --- template helpers (the include hr/_terms.html) -----------------------------------------


@views.bp.app_template_global("hr_terms_of")
def _terms_of(rec: Recruitment) -> list[TermsOfReference]:
    return versions_of(rec)


@views.bp.app_template_global("hr_terms_may_upload")
def _terms_may_upload(rec: Recruitment) -> bool:
    user = authz.current_user()
    return user is not None and may_upload(user, rec)


# --- pages ---------------------------------------------------------------------------------


@views.bp.route("/recruitments/<reference>/terms", methods=["POST"])
def terms_upload(reference):
    user = authz.require_user()
    rec = recruitments.get_recruitment(user, reference)
    form = {"note": request.form.get("note", "")}
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": [_("Choose a file to attach.")]})
        terms = upload_terms(user, rec, upload.filename, upload.stream.read(up.MAX_DOCUMENT_BYTES + 1),
                             form["note"])
    except DomainError as exc:
        errors, status = forms.refused(exc)
        detail = exc.detail if status != 422 else _("The form has errors; see the messages below.")
        return views._render(user, recruitments.get_recruitment(user, reference), status, error=detail,
                             errors={f"terms_{k}": v for k, v in errors.items()}, form=form)
    flash(_("Terms of reference version %(version)s attached to %(reference)s.",
            version=terms.version, reference=reference), "success")
    return redirect(url_for("hr.recruitment_page", reference=reference))


@views.bp.route("/recruitments/<reference>/terms/<int:version>")
def terms_download(reference, version):
    user = authz.require_user()
    return send_terms(get_version(recruitments.get_recruitment(user, reference), version))


@public.bp.route("/<reference>/terms")
def public_terms_download(reference):
    return send_terms(public_terms(reference))


# --- API -----------------------------------------------------------------------------------


class TermsIn(ma.Schema):
    file = Upload(required=True, metadata={"description": "PDF, DOCX or ODT; at most 5 MB."})


class TermsOut(ma.Schema):
    version = fields.Integer(metadata={"description": "1 for the first upload; the highest is the current one."})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    note = fields.String()
    uploaded_by = fields.Function(lambda t: t.uploaded_by.email)
    uploaded_at = fields.DateTime()
    url = fields.Function(lambda t: f"/api/v1/hr/recruitments/{t.recruitment.request.reference}/terms/{t.version}")


@api.blp.route("/recruitments/<reference>/terms")
class Terms(MethodView):
    @api.blp.response(200, TermsOut(many=True))
    @api.blp.errors(404)
    def get(self, reference):
        """The terms of reference, every version, the current (highest) first; another
        agency's recruitment is 404."""
        user = authz.require_user()
        return versions_of(recruitments.get_recruitment(user, reference))

    @api.blp.arguments(TermsIn, location="files")
    @api.blp.response(201, TermsOut)
    @api.blp.errors(403, 404, 409, 413, 422)
    def post(self, files, reference):
        """Attach a new version of the terms of reference (multipart ``file``, and an optional
        form field ``note`` saying what changed, at most 200 characters): a requester of the agency while the request is a draft or submitted, an HR
        officer or the manager until it ends. The new version becomes the current one."""
        user = authz.require_user()
        rec = recruitments.get_recruitment(user, reference)
        upload = files["file"]
        return upload_terms(user, rec, upload.filename or "", upload.stream.read(up.MAX_DOCUMENT_BYTES + 1),
                            request.form.get("note", ""))


@api.blp.route("/recruitments/<reference>/terms/<int:version>")
@api.blp.response(200, content_type="application/octet-stream")
@api.blp.errors(404)
def terms_file(reference, version):
    """Download one version of the terms of reference."""
    user = authz.require_user()
    return send_terms(get_version(recruitments.get_recruitment(user, reference), version))
