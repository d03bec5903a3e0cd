"""The JSON API under /api/v1 (flask-smorest), with the error shape of DESIGN §9."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Api as _Api

from jof.core.errors import ValidationFailed


class ProblemSchema(ma.Schema):
    """Every API error: ``{"status", "title", "detail", "errors": {field: [messages]}}``."""

    status = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()))
    allowed_actions = ma.fields.List(ma.fields.String(), metadata={"description": "On 409 for an illegal transition: what the caller may do now."})


class Api(_Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """The app-wide handlers in :mod:`jof.web` already answer in the problem shape."""


api = Api(spec_kwargs={
    "info": {"description": "JOF: pooled procurement, travel and ICT services of a Joint "
                            "Operations Facility. Authenticate with `POST /api/v1/auth/token`, "
                            "then send `Authorization: Bearer <token>`."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
})


class PaginationQuery(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1))
    per_page = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=200))


def page_of(stmt, page: int, per_page: int | None):
    """Run a select for one page; the body carries the total (DESIGN §10)."""
    from sqlalchemy import func, select

    from jof.core.db import db

    per_page = per_page or current_app.config["PER_PAGE_DEFAULT"]
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return {"items": rows, "total": total, "page": page, "per_page": per_page}


def page_schema(item_schema, name: str):
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema)),
        "total": ma.fields.Integer(),
        "page": ma.fields.Integer(),
        "per_page": ma.fields.Integer(),
    }, name=name)


def json_body() -> dict:
    """The request's JSON object, or a 422 saying why it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"_body": ["Send a JSON object with Content-Type: application/json."]})
    return data


from flask_smorest import Blueprint as _Blueprint  # noqa: E402
from webargs.flaskparser import FlaskParser  # noqa: E402


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 422

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ValidationFailed({"_body": [f"The body is not valid JSON ({error})."]},
                               "The body is not valid JSON.")


class Blueprint(_Blueprint):
    """flask-smorest blueprint whose malformed-JSON answer is a 422 in the problem shape."""

    ARGUMENTS_PARSER = _Parser()
