"""The JSON API plumbing under /api/v1 (flask-smorest), with the error shape of DESIGN §9.

Every blueprint of the API is a :class:`Blueprint` from here, which gives it three
things the lines should not have to remember:

* **secure by default**: every operation needs a signed-in caller (a bearer token)
  unless it is marked :func:`public`, and that check runs *before* the body or the
  query is parsed, so an anonymous caller learns nothing from validation messages;
* **one error shape**: malformed JSON, a non-JSON body, unknown fields, unknown query
  parameters and schema errors all answer 422 ``{"status", "title", "detail",
  "errors": {field: [messages]}}``;
* **documented errors**: each operation's 401/403/404/422 responses reference the
  ``Problem`` schema in the OpenAPI document.
"""

from __future__ import annotations

import hashlib
import http
import json
import re
from collections.abc import Mapping
from contextlib import contextmanager
from copy import deepcopy
from datetime import datetime
from decimal import Decimal, InvalidOperation

import marshmallow as ma
from flask import current_app, g, request
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from sqlalchemy import inspect as sa_inspect
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request

from jof.core.db import db
from jof.core.errors import (
    Conflict,
    PreconditionRequired,
    Unauthorized,
    ValidationFailed,
    flatten_field_errors,
)
from jof.core.money import MAX_AMOUNT


class ProblemSchema(ma.Schema):
    """Every API error: ``{"status", "title", "detail", "errors": {field: [messages]}}``.

    A few errors add one documented member: ``allowed_actions`` and ``current_version``
    on a 409 from the workflow, ``rejected`` on a refused CSV import.
    """

    class Meta:
        #: The extension members every client may meet (tests hold the API to this list).
        extensions = ("allowed_actions", "current_version", "rejected")

    status = ma.fields.Integer(required=True, metadata={"description": "The HTTP status code."})
    title = ma.fields.String(required=True, metadata={"description": "The status phrase."})
    detail = ma.fields.String(required=True, metadata={"description": "What went wrong, for a person."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()), required=True,
        metadata={"description": "Messages per field (empty when the error concerns no field)."},
    )
    allowed_actions = ma.fields.List(ma.fields.String(), metadata={
        "description": "On 409 for an illegal transition: what the caller may do now."})
    current_version = ma.fields.Integer(metadata={
        "description": "On 409 for a stale version: the version to reload."})
    rejected = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "On 422 for a refused import: each rejected line and its errors."})


#: A number in exponent form ("1e3", "2.5E+2").
_EXPONENT = re.compile(r"^\s*[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*$")


class DecimalString(ma.fields.Decimal):
    """A decimal sent and returned as a string (``"1250.00"``), never a float.

    A JSON number is a binary float in most clients, so ``0.1`` may arrive as
    0.1000000000000000055…; amounts must be exact, hence strings. Whole numbers are
    exact and accepted. The magnitude is bounded so the integer column always holds it.
    """

    #: Above any amount or rate JOF handles, and within a 64-bit column at 6 decimals.
    MAX_ABS = MAX_AMOUNT
    #: What an amount looks like: ASCII digits only. ``Decimal`` also reads other
    #: scripts' digits ("١٢٣" is 123) and underscores ("1_000"), which nobody means in
    #: an amount and which a person checking the request would misread.

    def __init__(self, places: int = 2, **kw):
        kw.setdefault("metadata", {}).setdefault(
            "description", f"Decimal as a string with at most {places} decimals, e.g. \"1250.00\".")
        super().__init__(places=places, as_string=True, allow_nan=False, **kw)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, float):
            raise ma.ValidationError("Send amounts as strings (e.g. \"1250.00\"), not as floats.")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ma.ValidationError("Send amounts as strings, e.g. \"1250.00\".")
        if isinstance(value, str) and (not value.isascii() or "_" in value):
            raise ma.ValidationError("Not a valid number: write it with the digits 0-9 and a point.")
        if isinstance(value, str) and _EXPONENT.match(value):  # "1e3": Decimal reads it, people misread it
            raise ma.ValidationError("Write the number in full, without an exponent.")
        try:
            exact = Decimal(value) if isinstance(value, int) else Decimal(value.strip())
        except (InvalidOperation, ValueError):
            raise ma.ValidationError("Not a valid number.") from None
        if not exact.is_finite():
            raise ma.ValidationError("Special numeric values (nan or infinity) are not permitted.")
        if exact.adjusted() >= 18 or abs(exact) >= self.MAX_ABS:
            raise ma.ValidationError("The amount is too large.")
        if exact.as_tuple().exponent < -18 or exact != exact.quantize(self.places):
            raise ma.ValidationError(f"At most {-self.places.as_tuple().exponent} decimals.")
        return super()._deserialize(value, attr, data, **kwargs)


def _decimal_string_doc(self, field, ret, **kwargs):
    """Document a :class:`DecimalString` as what travels: a string, its bounds as text."""
    if isinstance(field, DecimalString):
        ret["type"] = "string"
        ret["format"] = "decimal"
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in ret:
                ret[f"x-{key}"] = str(ret.pop(key))
    return {}


PROBLEM_KEYS = frozenset({"status", "title", "detail", "errors"})
PROBLEM_EXTENSIONS = frozenset(ProblemSchema.Meta.extensions)


class Api(_Api):
    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *args, **kwargs):
        super()._init_spec(*args, **kwargs)
        self.ma_plugin.converter.add_attribute_function(_decimal_string_doc)

    def _register_error_handlers(self):
        """The app-wide handlers in :mod:`jof.web` already answer in the problem shape."""


api = Api(spec_kwargs={
    "info": {"description": "JOF: pooled procurement, travel and ICT services of a Joint "
                            "Operations Facility. Authenticate with `POST /api/v1/auth/token`, "
                            "then send `Authorization: Bearer <token>`. Collections take "
                            "`?page=&per_page=` and carry `total` in the body. Amounts are "
                            "decimal strings (`\"1250.00\"`), never JSON numbers. Every error "
                            "is a `Problem`."},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                  "description": "A token from POST /api/v1/auth/token."}}},
    "security": [{"bearer": []}],
})


class LeanSchema(ma.Schema):
    """A schema that dumps objects by plain attribute access, for the API's hot paths.

    marshmallow reaches each field's value through three generic accessors (dotted paths,
    mappings, defaults) before formatting it; a page of 50 requests is a thousand such
    walks. This plan, built once per schema instance, reads ``getattr(obj, attribute)``
    and hands the value to the field's own formatter, so the output is the same (the
    tests compare it with marshmallow's own dump; ``only``/``exclude`` are honoured, as
    the plan is made of the instance's dump fields). Mappings and schemas with dotted
    ``attribute`` paths take marshmallow's own path.
    """

    def _lean_plan(self):
        plan = self.__dict__.get("_jof_plan")
        if plan is None:
            plan = []
            for attr_name, field in self.dump_fields.items():
                name = field.attribute or attr_name
                if "." in name:
                    plan = False
                    break
                key = field.data_key if field.data_key is not None else attr_name
                plan.append((key, name, field, _plain_kind(field), field._CHECK_ATTRIBUTE,
                             field.dump_default))
            self.__dict__["_jof_plan"] = plan
        return plan

    def _serialize(self, obj, *, many: bool = False):
        plan = self._lean_plan()
        if obj is None or plan is False or isinstance(obj, Mapping):
            return super()._serialize(obj, many=many)
        if many:
            return [self._serialize(one) for one in obj]
        missing = ma.missing
        out = self.dict_class()
        for key, name, field, plain, check, default in plan:
            if check:
                value = getattr(obj, name, missing)
                if value is missing:
                    value = default() if callable(default) else default
                    if value is missing:
                        continue
            else:
                value = None
            if plain is None:
                out[key] = field._serialize(value, name, obj)
            elif value is None or value.__class__ is plain:
                # A value of the very type the field would make of it is its own dump.
                out[key] = value
            elif value.__class__ is datetime and plain is _ISO:
                out[key] = value.isoformat()
            else:
                out[key] = field._serialize(value, name, obj)
        return out


#: Fields whose dump of None is None and of a value of exactly this type is the value
#: itself: marshmallow's String makes text of text, Integer an int of an int, Boolean
#: passes values through. An ISO DateTime dumps a datetime as ``isoformat()``
#: (:data:`_ISO`). Every other field, and any other value, goes to the field's formatter.
_ISO = object()
_PLAIN = {ma.fields.String: str, ma.fields.Integer: int, ma.fields.Boolean: bool, ma.fields.DateTime: _ISO}


def _plain_kind(field):
    kind = _PLAIN.get(field.__class__)
    if kind is int and field.as_string:
        return None
    if kind is _ISO and (field.format or field.DEFAULT_FORMAT) not in ("iso", "iso8601"):
        return None
    return kind


def page_schema(item_schema, name: str):
    return ma.Schema.from_dict({
        # One nested schema dumping the whole list (not a schema call per item).
        "items": ma.fields.Nested(item_schema, many=True),
        "total": ma.fields.Integer(metadata={"description": "Items matching, over all pages."}),
        "page": ma.fields.Integer(),
        "per_page": ma.fields.Integer(),
    }, name=name)


def json_body() -> dict:
    """The request's JSON object, or a 422 saying why it is not one."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationFailed({"_body": ["Send a JSON object with Content-Type: application/json."]})
    return data


_LOCATIONS = {"json", "query", "querystring", "form", "files", "headers", "view_args", "json_or_form"}


def merge_locations(messages) -> dict[str, list[str]]:
    """webargs nests messages by location ("json", "query"); users need the field names."""
    if isinstance(messages, dict) and messages and set(messages) <= _LOCATIONS:
        merged: dict = {}
        for sub in messages.values():
            if isinstance(sub, dict):
                merged.update(sub)
            else:
                merged.setdefault("_schema", []).extend(sub if isinstance(sub, list) else [sub])
        messages = merged
    return flatten_field_errors(messages)


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 422
    #: A misspelt filter (``?stauts=``) must not silently return everything.
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
                                   "query": ma.RAISE, "querystring": ma.RAISE}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.get_data(cache=True):
                raise ValidationFailed({"_body": ["Send a JSON object with Content-Type: application/json."]},
                                       "The body is not JSON.")
            return webargs_core.missing
        return super()._raw_load_json(req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ValidationFailed({"_body": [f"The body is not valid JSON ({error})."]},
                               "The body is not valid JSON.")

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        raise ValidationFailed(merge_locations(error.messages))


# --- optimistic locking of PATCH: ETag / If-Match ------------------------------------------


def representation_etag(data) -> str:
    """The entity tag of a JSON representation: a digest of its canonical form, so the
    body a GET returned and the same object dumped again give the same tag."""
    canonical = json.dumps(json.loads(current_app.json.dumps(data)), sort_keys=True,
                           separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:40] + '"'


class StaleWrite(Conflict):
    """409: the object changed since the caller read it (its ``If-Match`` is stale)."""

    def __init__(self, current_etag: str):
        super().__init__("This was changed since you read it: GET it again (its ETag is in this "
                         "answer) and send your change with the new If-Match.")
        self.current_etag = current_etag

    def headers(self) -> dict[str, str]:
        return {"ETag": self.current_etag}


@contextmanager
def if_match(obj, schema, represent=None):
    """Refuse a PATCH whose ``If-Match`` no longer names the object's representation.

    Every single-object GET and PATCH of a resource that can be patched answers with an
    ``ETag``; a client that sends it back as ``If-Match`` gets 409 instead of silently
    overwriting someone else's change (like a stale ``version`` on a transition). The
    row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers are
    serialised anyway), so two writers holding the same tag cannot both pass. Without
    ``If-Match`` the answer is 428 (issue 11, "optimistic locking on every PATCH"): a
    client that does not say what it read could overwrite a change it never saw.
    ``If-Match: *`` says so explicitly ("whatever it is now") and is applied.

    Used as ``with if_match(obj, Schema): return services.update(...)``: the tag is
    compared before the change, but a stale one is refused only after the service ran,
    so its permission checks answer first (a requester learns 403, not whether the
    object changed); the 409 or 428 then rolls the change back.
    """
    header = request.headers.get("If-Match")
    if not header:
        yield
        raise PreconditionRequired(
            "Send If-Match with the ETag of your last GET of this object (or If-Match: * to "
            "overwrite whatever it holds now): a PATCH must say which version it changes.",
            {"If-Match": ["Missing."]})
    # Lock the object's own row only: it may have been loaded with joined relations (the
    # caller's roles), and PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    db.session.refresh(obj, with_for_update={"of": sa_inspect(obj).mapper.local_table})
    current: str | None = representation_etag(schema().dump(represent(obj) if represent else obj))
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    if "*" in tags or current in tags:
        current = None
    yield
    if current is not None:
        raise StaleWrite(current)


#: Patchable resources locked by a ``version`` in the body instead: an ICT ticket's
#: representation holds the SLA seconds left, so a digest of it changes every second.
VERSIONED_ENDPOINTS = frozenset({"ict_api.TicketItem"})


def require_version(version: int | None) -> None:
    """The 428 of a PATCH locked by a ``version`` in its body (:data:`VERSIONED_ENDPOINTS`)
    that sent none; call it after the service, so permission checks answer first."""
    if version is None:
        raise PreconditionRequired(
            "Send the version you read (the \"version\" of this object's GET) with your change: "
            "a PATCH must say which version it changes (this resource takes no If-Match).",
            {"version": ["Missing."]})


def versioned(func):
    """Mark a PATCH operation as locked by a ``version`` in its body, not ``If-Match``."""
    func._apidoc = {**getattr(func, "_apidoc", {}), "jof_versioned": True}
    return func


def _patchable_route() -> bool:
    rule = request.url_rule
    return (rule is not None and "PATCH" in (rule.methods or ())
            and request.endpoint not in VERSIONED_ENDPOINTS)


def public(func):
    """Mark an API operation as open to anonymous callers (only the token exchange is)."""
    func._jof_public = True
    func._apidoc = {**getattr(func, "_apidoc", {}), "jof_public": True}
    return func


def _is_public_endpoint() -> bool:
    view = current_app.view_functions.get(request.endpoint)
    if view is None:
        return False
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        view = getattr(view_class, request.method.lower(), None)
        if view is None and request.method == "HEAD":
            view = getattr(view_class, "get", None)
    return bool(getattr(view, "_jof_public", False))


_CHANGES = {"post", "put", "patch", "delete"}


class Blueprint(_Blueprint):
    """flask-smorest blueprint: secure by default, problem-shaped errors, documented errors."""

    ARGUMENTS_PARSER = _Parser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(self._require_caller)
        self.after_request(self._challenge)
        self.after_request(self._etag)
        self._prepare_doc_cbks.append(self._prepare_problem_doc)

    @staticmethod
    def _require_caller():
        if request.method == "OPTIONS" or g.get("user") is not None or _is_public_endpoint():
            return None
        raise Unauthorized("Send a valid bearer token: Authorization: Bearer <token> "
                           "(get one from POST /api/v1/auth/token).")

    @staticmethod
    def _challenge(response):
        """RFC 6750: a 401 names the scheme the client should use."""
        if response.status_code == 401:
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="JOF API"')
        return response

    @staticmethod
    def _etag(response):
        """An ``ETag`` on the representation of every object that can be patched."""
        if (request.method in ("GET", "PATCH") and response.status_code == 200
                and response.mimetype == "application/json" and _patchable_route()
                and "ETag" not in response.headers):
            response.headers["ETag"] = representation_etag(response.get_json())
        return response

    @staticmethod
    def _prepare_problem_doc(doc, doc_info, *, method, **kwargs):
        """401 on every non-public operation, 403 on every change (the auditor's answer),
        ``If-Match`` (or a body ``version``), 409 and 428 on every PATCH."""
        responses = doc.setdefault("responses", {})
        if method == "patch":
            if not doc_info.get("jof_versioned"):
                doc.setdefault("parameters", []).append({
                    "in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
                    "description": "The ETag of the object as last read (a stale one answers 409), "
                                   "or `*` to change whatever it holds now; without it, 428."})
            responses.setdefault(409, http.HTTPStatus(409).name)
            responses.setdefault(428, http.HTTPStatus(428).name)
        if method == "post" and not doc_info.get("jof_public"):
            doc.setdefault("parameters", []).append({
                "in": "header", "name": "Idempotency-Key", "required": False,
                "schema": {"type": "string", "minLength": 1, "maxLength": 100},
                "description": "Makes a retry safe: a second POST with the same key and the same "
                               "body (within a day, per user) answers the first one's status, body "
                               "and Location with `Idempotent-Replayed: true` and does nothing again; "
                               "the same key with another body answers 422; a failed request "
                               "keeps no key."})
            responses.setdefault(409, http.HTTPStatus(409).name)
            responses.setdefault(422, http.HTTPStatus(422).name)
        if doc_info.get("jof_public"):
            doc["security"] = []
        else:
            responses.setdefault(401, http.HTTPStatus(401).name)
            if method in _CHANGES:
                responses.setdefault(403, http.HTTPStatus(403).name)
        return doc

    @staticmethod
    def errors(*codes: int):
        """Document the error responses an operation may give, each a ``Problem``."""

        def deco(func):
            apidoc = deepcopy(getattr(func, "_apidoc", {}))
            responses = apidoc.setdefault("response", {}).setdefault("responses", {})
            for code in codes:
                responses.setdefault(code, []).append(http.HTTPStatus(code).name)
            func._apidoc = apidoc
            return func

        return deco
