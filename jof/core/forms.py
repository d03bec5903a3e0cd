"""What every HTML form of the service lines does the same way.

A POST on an object's page acts through a service, then redirects; a refusal rolls the
unit of work back and renders the page again with the message, the field errors and
the user's input, under the refusal's status (422, 409, 403…).
"""

from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from flask import request
from flask_babel import gettext as _

from jof.core import authz
from jof.core.db import db
from jof.core.errors import DomainError, ValidationFailed, flatten_field_errors


def load(schema: ma.Schema, data: dict) -> dict:
    """Validate form data with the same schema the API uses."""
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        raise ValidationFailed(flatten_field_errors(exc.messages)) from None


def refused(exc: DomainError) -> tuple[dict, int]:
    """Undo the attempt; the field errors (or the message) and the status to answer with."""
    db.session.rollback()
    return (exc.errors or {"_schema": [exc.detail]}), exc.status


def act_on(fetch: Callable, act: Callable, render: Callable, done: Callable):
    """``fetch(user)`` the object, ``act(user, obj, form)`` on it, then ``done(obj)``;
    a refusal answers ``render(user, obj, status, error=, errors=, form=)``."""
    user = authz.require_user()
    obj = fetch(user)
    form = request.form.to_dict()
    try:
        act(user, obj, form)
    except DomainError as exc:
        errors, status = refused(exc)
        detail = exc.detail if status != 422 else _("The form has errors; see the messages below.")
        return render(user, fetch(user), status, error=detail, errors=errors, form=form)
    return done(obj)
