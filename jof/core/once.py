"""Once-only submission: a form sent twice, or an API call retried, acts once.

A slow answer invites a second click, and a client whose connection dropped retries: both
used to create a second requisition or ticket. Two mechanisms share one table, so they
hold across gunicorn workers:

* **forms**: every HTML ``<form method="post">`` JOF renders carries a one-time token
  (``_once``), added to the page by :func:`stamp_forms` at the request boundary, so no
  template has to remember it;
* **API**: a client may send ``Idempotency-Key: <up to 100 characters>`` on any ``POST``.

The first request with a token claims it by inserting a :class:`Submission` row in its
own transaction, before the handler runs; when the request succeeds (status below 400)
the row keeps the answer (status, ``Location``, body) and commits with everything the
handler did. A failed request rolls the row back with the rest, so the corrected form
(or the retried call) runs again. A second request with the same token meets the row:

* on PostgreSQL its insert waits on the unique index until the first request commits,
  then fails and the stored answer is read; on SQLite the second writer waits for the
  first one's write lock (``BEGIN IMMEDIATE``, see :mod:`jof.core.db`) and then sees the row;
* it answers the stored status, ``Location`` and body, with ``Idempotent-Replayed:
  true``: the second click lands where the first one did (a form's redirect to what it
  created), the retried call gets the same ``201`` and object;
* an API key sent again with another method, path or body is refused (422): a client
  that reuses keys by mistake must not receive an answer about a different request.

Keys are per user (two users may choose the same key) and expire after
``JOF_ONCE_TTL`` (a day); expired rows are deleted as new ones are written.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import datetime, timedelta

from flask import Response, current_app, g, request
from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import ImmutableMultiDict

from jof.core.db import db
from jof.core.errors import Conflict, ValidationFailed
from jof.core.timeutil import UTCDateTime, utcnow

#: The hidden field carrying a form's one-time token.
FORM_FIELD = "_once"
#: The API header (the IETF draft "The Idempotency-Key HTTP Header Field").
HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100
DEFAULT_TTL = timedelta(days=1)
FORM, API = "form", "api"
#: Answers larger than this are not kept: a replay of such an answer is a 409.
MAX_STORED_BODY = 2_000_000


class Submission(db.Model):
    """A form token or Idempotency-Key that was used, and the answer the first use got."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("user_id", "kind", "key", name="uq_submission_user_kind_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    #: ``form`` (the hidden token) or ``api`` (the Idempotency-Key header).
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    #: SHA-256 of method, path, query and body: a key reused for another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    #: The first answer; None only if it could not be kept (a file, a huge body).
    #: The HTTP status of the stored answer (None while the first request runs).
    response_code: Mapped[int | None] = mapped_column(Integer)
    location: Mapped[str] = mapped_column(String(2000), default="")
    content_type: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- putting tokens into forms -----------------------------------------------------------------

_POST_FORM = re.compile(r"<form\b[^>]*\bmethod\s*=\s*[\"']?post\b[^>]*>", re.IGNORECASE)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def stamp_forms(response: Response) -> None:
    """Give every ``<form method="post">`` of an HTML page its own one-time token.

    Tokens are random and stored only when used, so rendering a page writes nothing.
    """
    if response.mimetype != "text/html" or response.direct_passthrough or response.is_streamed:
        return
    html = response.get_data(as_text=True)
    if "<form" not in html and "<FORM" not in html:
        return

    def add(match: re.Match) -> str:
        return f'{match.group(0)}<input type="hidden" name="{FORM_FIELD}" value="{escape(new_token())}">'

    stamped, count = _POST_FORM.subn(add, html)
    if count:
        response.set_data(stamped)


# --- claiming and replaying --------------------------------------------------------------------


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:  # the same JSON written with other spacing or key order is the same request
        body = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), request.query_string, body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _key_from_request(is_api: bool) -> tuple[str, str] | None:
    if is_api:
        key = request.headers.get(HEADER)
        if key is None:
            return None
        key = key.strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
            message = _("Send a key of 1 to %(n)s printable ASCII characters.", n=MAX_KEY_LENGTH)
            raise ValidationFailed({HEADER: [message]}, message)
        return API, key
    token = request.form.get(FORM_FIELD) if request.mimetype in (
        "application/x-www-form-urlencoded", "multipart/form-data") else None
    if not token:
        return None
    # The token is the boundary's business; the handlers and their schemas never see it.
    request.form = ImmutableMultiDict([(k, v) for k, v in request.form.items(multi=True) if k != FORM_FIELD])
    return FORM, token[:MAX_KEY_LENGTH]


def begin(user, *, is_api: bool) -> Response | None:
    """Claim the request's token before its handler runs.

    None lets the request proceed (first use, or no token); otherwise the response to
    send instead: the first use's answer again, or a refusal.
    """
    if user is None or request.method != "POST":
        return None
    found = _key_from_request(is_api)
    if found is None:
        return None
    kind, key = found
    now = utcnow()
    fingerprint = _fingerprint() if kind == API else ""
    row = Submission(user_id=user.id, kind=kind, key=key, fingerprint=fingerprint, response_code=None,
                     location="", content_type="", body=None, created_at=now,
                     expires_at=now + current_app.config.get("JOF_ONCE_TTL", DEFAULT_TTL))
    for _attempt in range(2):
        try:
            with db.session.begin_nested():
                db.session.add(row)
        except IntegrityError:
            earlier = db.session.scalar(select(Submission).where(
                Submission.user_id == user.id, Submission.kind == kind, Submission.key == key))
            if earlier is None:  # expired and deleted meanwhile: claim it now
                continue
            if earlier.expires_at <= now:
                db.session.delete(earlier)
                db.session.flush()
                continue
            return _replay(earlier, fingerprint)
        else:
            g.once_submission = row
            _purge(now)
            return None
    raise Conflict(_("This submission is being processed; try again in a moment."))


def _purge(now: datetime) -> None:
    """Delete some expired rows, skipping rows another transaction is deleting: a long
    request that purged a row must not make every other request wait for its commit."""
    expired = (select(Submission.id).where(Submission.expires_at <= now)
               .limit(100).with_for_update(skip_locked=True))
    ids = db.session.scalars(expired).all()
    if ids:
        db.session.execute(delete(Submission).where(Submission.id.in_(ids)))


def _replay(earlier: Submission, fingerprint: str) -> Response:
    if earlier.kind == API and earlier.fingerprint != fingerprint:
        message = _("This Idempotency-Key was already used for a different request; "
                    "send a new key for a new request.")
        raise ValidationFailed({HEADER: [message]}, message)
    if earlier.response_code is None or earlier.body is None:
        raise Conflict(_("This was already sent and done; its answer cannot be shown again."))
    response = Response(earlier.body, status=earlier.response_code, content_type=earlier.content_type or None)
    if earlier.location:
        response.headers["Location"] = earlier.location
    response.headers["Idempotent-Replayed"] = "true"
    g.once_replayed = True
    return response


def remember(response: Response) -> None:
    """Keep a successful answer with the claimed token (it commits with the request)."""
    row = g.pop("once_submission", None)
    if row is None or response.status_code >= 400:
        return
    row.response_code = response.status_code
    row.location = (response.headers.get("Location") or "")[:2000]
    row.content_type = (response.headers.get("Content-Type") or "")[:200]
    if not (response.direct_passthrough or response.is_streamed):
        data = response.get_data(as_text=True)
        row.body = data if len(data) <= MAX_STORED_BODY else None
