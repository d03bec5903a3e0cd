"""Applications imported from an advertisement platform's CSV export, validated line by
line like the DSA rate import (jof/travel/rates.py): all or nothing.

The header must hold :data:`COLUMNS`; :data:`OPTIONAL_COLUMNS` may follow. Languages are
separated by semicolons (``Portuguese;English``); education is one of
:data:`~jof.hr.models.EDUCATION_LEVELS`. When any line is wrong nothing is recorded and the
report names each rejected line and why, so the export can be fixed and sent again; when
every line is right each application is recorded and screened as an officer's would be
(``source="import"``), and one more audit event says how many came in (never who).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import marshmallow as ma
from marshmallow import fields, validate
from sqlalchemy import select

from jof.core import audit
from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed, flatten_field_errors
from jof.core.people import User
from jof.hr import panels, states
from jof.hr.applications import create_application
from jof.hr.models import Application, Candidate, Recruitment, Referee
from jof.hr.recruitments import ensure_hr_officer, ensure_sees_candidates
from jof.hr.schemas import ApplicationIn

COLUMNS = ("full_name", "email", "phone", "education", "years_experience", "languages")
OPTIONAL_COLUMNS = ("gender", "nationality", "referee_name", "referee_email")
MAX_ROWS = 2000


class ImportedApplicationIn(ApplicationIn):
    referee_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=2, max=200))
    referee_email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))

    @ma.validates_schema
    def _referee_whole(self, data, **_kw):
        if bool(data.get("referee_name")) != bool(data.get("referee_email")):
            raise ma.ValidationError("Give the referee's name and e-mail, or neither.", "referee_email")


@dataclass
class ImportReport:
    imported: int = 0
    rejected: list[dict] = field(default_factory=list)


def _row_data(row: dict) -> dict:
    years = row["years_experience"]
    data = {k: row[k] for k in ("full_name", "email", "phone", "education")}
    data["education"] = data["education"].lower()
    data["years_experience"] = int(years) if years.isdigit() else years
    data["languages"] = [p.strip() for p in row["languages"].split(";") if p.strip()]
    for k in OPTIONAL_COLUMNS:
        data[k] = row.get(k) or None
    if data["gender"]:
        data["gender"] = data["gender"].lower().replace("-", "_").replace(" ", "_")
    if data["nationality"]:
        data["nationality"] = data["nationality"].upper()
    return data


def import_applications_csv(actor: User, rec: Recruitment, text: str) -> ImportReport:
    """Record every application of the CSV, or none (the report then names the lines)."""
    ensure_sees_candidates(actor, rec)
    ensure_hr_officer(actor)
    if rec.request.status not in states.OPEN_FOR_APPLICATIONS:
        raise Conflict("Applications are imported while the vacancy is advertised; it is "
                       f"{rec.request.status.replace('_', ' ')}.")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    names = [(f or "").strip() for f in (reader.fieldnames or [])]
    if not set(COLUMNS) <= set(names):
        raise ValidationFailed({"csv": [f"The CSV needs the columns {', '.join(COLUMNS)} "
                                        f"(and may have {', '.join(OPTIONAL_COLUMNS)})."]})
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationFailed({"csv": [f"The column {n} appears more than once in the header." for n in twice]})
    already = set(db.session.scalars(select(Candidate.email).join(Application, Application.candidate_id == Candidate.id)
                                     .where(Application.recruitment_id == rec.id)))
    report = ImportReport()
    parsed: list[dict] = []
    seen: dict[str, int] = {}
    for lineno, raw in enumerate(reader, start=2):
        if lineno - 1 > MAX_ROWS:
            raise ValidationFailed({"csv": [f"At most {MAX_ROWS} lines per import."]})
        if None in raw or any(raw.get(c) is None for c in COLUMNS):
            report.rejected.append({"line": lineno, "errors": {"_row": [
                f"Expected the {len(names)} columns of the header."]}})
            continue
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        if not any(row.values()):
            continue  # a blank line at the end of an export
        try:
            data = ImportedApplicationIn().load(_row_data(row))
        except ma.ValidationError as exc:
            report.rejected.append({"line": lineno, "errors": flatten_field_errors(exc.messages)})
            continue
        email = data["email"].strip().lower()
        if email in already:
            report.rejected.append({"line": lineno, "errors": {"email": [
                "This candidate has applied to this vacancy already."]}})
        elif email in seen:
            report.rejected.append({"line": lineno, "errors": {"email": [f"Same e-mail as line {seen[email]}."]}})
        else:
            seen[email] = lineno
            parsed.append(data)
    if not parsed and not report.rejected:
        raise ValidationFailed({"csv": ["The CSV has no rows."]})
    if report.rejected:
        return report
    for data in parsed:
        app = create_application(actor, rec, data, source="import")
        if data.get("referee_email"):
            db.session.add(Referee(application_id=app.id, name=data["referee_name"].strip(),
                                   email=data["referee_email"].strip().lower()))
        report.imported += 1
    db.session.flush()
    panels.unseat_referees(actor, rec)
    audit.record(actor, "hr.application.import", rec, after={
        "recruitment": rec.request.reference, "imported": report.imported})
    return report


def rejection_errors(report: ImportReport) -> dict[str, list[str]]:
    """The rejected lines as field messages: ``{"line 3": ["email: Not a valid email address."]}``."""
    return {f"line {r['line']}": [f"{k}: {m}" for k, msgs in r["errors"].items() for m in msgs]
            for r in report.rejected}
