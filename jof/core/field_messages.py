"""Plain field messages on HTML forms (issue 13, "Plain error messages").

The schemas are the API's: their messages are marshmallow's ("Length must be between 3
and 200.", "Not a valid number.") under keys such as ``lines.0.quantity``. A person reads
them on a form as a sentence that names the field as the page shows it and says what to
do: "Title: enter between 3 and 200 characters", "Line 1 · quantity: enter a number", in
the user's language.

Every page gets this without its view doing anything: :func:`init_app` rewrites the
``errors`` (and any other ``…errors`` mapping, such as one form per row's) of every
template's context (``{key: [message, …]}``, keys kept, since the
inputs find their messages by name) just before it renders. A message that is not one
of marshmallow's own (a rule's sentence, written for people) keeps its words and gains
the field's name; one that already starts by naming something ("Line 2, quantity: …",
written by a form such as the requisition's) is left alone. API answers keep
marshmallow's words and the field keys (clients match them).

The field's name comes from :data:`FIELD_LABELS` (generic words here; each line adds its
own in its views module), then from a ``field_labels`` mapping in the template's
context (a page whose field reads differently), and failing both from the key itself
with its underscores turned into spaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask, before_render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

#: What a field is called on the forms, by the name it is posted and loaded under.
FIELD_LABELS: dict = {
    "title": _l("Title"), "description": _l("Description"), "justification": _l("Justification"),
    "name": _l("Name"), "code": _l("Code"), "kind": _l("Kind"), "category": _l("Category"),
    "status": _l("Status"), "reason": _l("Reason"), "comment": _l("Comment"), "note": _l("Note"),
    "notes": _l("Notes"), "text": _l("Text"), "body": _l("Add a comment"),
    "email": _l("E-mail"), "phone": _l("Phone"), "address": _l("Address"), "country": _l("Country"),
    "city": _l("City"), "currency": _l("Currency"), "amount": _l("Amount"), "quantity": _l("quantity"),
    "unit": _l("unit"), "unit_price": _l("estimated unit price"), "agency": _l("Agency"),
    "agency_id": _l("Agency"), "agencies": _l("Agencies"), "month": _l("Month"), "period": _l("Month"),
    "start": _l("From"), "end": _l("To"), "starts_on": _l("From"), "ends_on": _l("Last day"),
    "effective_from": _l("From"), "valid_from": _l("Valid from"), "valid_to": _l("Valid to"),
    "reference": _l("Reference"), "service": _l("Service"), "urgency": _l("Urgency"),
    "impact": _l("Impact"), "password": _l("Password"), "locale": _l("Language"),
    "file": _l("File"), "confirm": _l("Confirmation"), "version": _l("Version"),
    "full_name": _l("Full name"), "roles": _l("Roles"), "membership": _l("Membership"),
    "joined_on": _l("Joined on"), "left_on": _l("Left on"), "seats": _l("Seats"),
    "level": _l("Level"), "rating": _l("Rating"), "score": _l("Score"), "paid_on": _l("Date"),
    "needed_by": _l("Needed by"), "budget_code": _l("Budget code"), "purpose": _l("Purpose"),
    "lines": _l("Lines"), "csv": _l("CSV text"), "approval_limit_usd": _l("Approval limit (USD)"),
    "alternate_email": _l("Alternate of the agency head (e-mail)"), "service_lines": _l("Service lines (officers)"),
    "current_password": _l("Current password"), "new_password": _l("New password"),
    "confirm_password": _l("New password again"), "units_per_usd": _l("Units per USD"),
    "bank_name": _l("Bank"), "bank_account_holder": _l("Account holder"), "bank_account": _l("IBAN or account number"),
    "bank_swift": _l("SWIFT/BIC"), "payment_reference": _l("Payment reference"), "headcount": _l("Headcount"),
    "threshold": _l("Threshold"), "quorum_rule": _l("Quorum"), "closes_at": _l("Voting closes at (facility time)"),
    "choice": _l("Vote"), "payload": _l("Effect"), "credit_amount": _l("Amount (USD)"),
}
#: How a numbered row of a list field is called: "Line 2", "Leg 1".
ITEM_LABELS: dict = {"lines": _l("Line %(n)d"), "legs": _l("Leg %(n)d"), "items": _l("Line %(n)d"),
                     "rows": _l("Line %(n)d")}

_BOUND = re.compile(r"^(greater|less) than( or equal to)? (\S+)$")
_RANGE = re.compile(r"^Must be ((?:greater|less) than(?: or equal to)? \S+?)(?: and (less than(?: or equal to)? \S+?))?\.$")


def _range(m: re.Match, _list: bool = False) -> str:
    """"Must be greater than or equal to 1 and less than or equal to 5." → "enter a value from 1 to 5"."""
    bounds = {}
    for part in filter(None, m.groups()):
        side, inclusive, value = _BOUND.match(part).groups()
        bounds["lo" if side == "greater" else "hi"] = (value, bool(inclusive))
    if len(bounds) == 2:
        return _("enter a value from %(min)s to %(max)s", min=bounds["lo"][0], max=bounds["hi"][0])
    side, (value, inclusive) = next(iter(bounds.items()))
    if side == "lo":
        return _("enter %(n)s or more", n=value) if inclusive else _("enter more than %(n)s", n=value)
    return _("enter %(n)s or less", n=value) if inclusive else _("enter less than %(n)s", n=value)


def _length(m: re.Match, is_list: bool) -> str:
    lo, hi = m.group("min"), m.group("max")
    if is_list:
        return _("give between %(min)s and %(max)s", min=lo, max=hi) if lo != "1" else _("give at least one")
    return _("enter between %(min)s and %(max)s characters", min=lo, max=hi)


#: marshmallow's own wording (fields' ``default_error_messages`` and the validators'),
#: as a pattern and what to say instead; ``is_list``: the field holds rows, not text.
_EMPTY = re.compile(r"^(Missing data for required field|Field may not be null|Must not be blank)\.$")
_RULES: list[tuple[re.Pattern, Callable[[re.Match, bool], str]]] = [
    (_EMPTY,
     lambda m, is_list: _("give at least one") if is_list else _("fill this in")),
    (re.compile(r"^Length must be between (?P<min>\d+) and (?P<max>\d+)\.$"), _length),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"),
     lambda m, is_list: _("give at least %(n)s", n=m.group(1)) if is_list
     else _("enter at least %(n)s characters", n=m.group(1))),
    (re.compile(r"^Longer than maximum length (\d+)\.$"),
     lambda m, is_list: _("give at most %(n)s", n=m.group(1)) if is_list
     else _("enter at most %(n)s characters", n=m.group(1))),
    (re.compile(r"^Length must be (\d+)\.$"), lambda m, _list: _("enter exactly %(n)s characters", n=m.group(1))),
    (re.compile(r"^Not a valid integer\.$"), lambda m, _list: _("enter a whole number")),
    (re.compile(r"^(Not a valid number|Special numeric values \(nan or infinity\) are not permitted)\.$"),
     lambda m, _list: _("enter a number")),
    (re.compile(r"^Number too large\.$"), lambda m, _list: _("enter a smaller number")),
    (re.compile(r"^Write the number in full, without an exponent\.$"),
     lambda m, _list: _("write the number in full (1000, not 1e3)")),
    (re.compile(r"^(Not a valid date|.* cannot be formatted as a date)\.$"),
     lambda m, _list: _("enter a date (YYYY-MM-DD)")),
    (re.compile(r"^(Not a valid (\w+ )?datetime|.* cannot be formatted as a datetime)\.$"),
     lambda m, _list: _("enter a date and a time")),
    (re.compile(r"^(Not a valid (\w+ )?time|.* cannot be formatted as a time)\.$"),
     lambda m, _list: _("enter a time (HH:MM)")),
    (re.compile(r"^Not a valid email address\.$"), lambda m, _list: _("enter an e-mail address, e.g. name@example.org")),
    (re.compile(r"^Not a valid URL\.$"), lambda m, _list: _("enter a web address starting with https://")),
    (re.compile(r"^Not a valid boolean\.$"), lambda m, _list: _("tick the box or leave it empty")),
    (re.compile(r"^(Must be one of: .*|One or more of the choices you made was not in: .*)$"),
     lambda m, _list: _("choose one of the options offered")),
    (_RANGE, _range),
    (re.compile(r"^String does not match expected pattern\.$"), lambda m, _list: _("check the format")),
    (re.compile(r"^(Not a valid (string|list|tuple|mapping type|UUID|utf-8 string|period of time)|Invalid type"
                r"|Invalid input type|Invalid value|Invalid input|Must be equal to .*"
                r"|One or more of the choices you made was in: .*)\.$"),
     lambda m, _list: _("check this value")),
    (re.compile(r"^Unknown field\.$"), lambda m, _list: _("this form does not take it")),
]

def phrase(message: str, *, is_list: bool = False) -> str | None:
    """What to do, for one of marshmallow's own messages ("enter a number"); None for a
    message written for people already."""
    for pattern, say in _RULES:
        m = pattern.match(message)
        if m:
            return say(m, is_list)
    return None


def field_label(key: str, extra: dict | None = None) -> str | None:
    """The field as the page names it: ``lines.0.quantity`` → "Line 1 · quantity";
    None for the form as a whole (``_schema``)."""
    if key in ("_schema", ""):
        return None
    labels = {**FIELD_LABELS, **(extra or {})}
    if key in labels:
        return str(labels[key])
    parts = re.split(r"[.\-]", key)
    if len(parts) >= 2 and parts[1].isdigit() and parts[0] in ITEM_LABELS:
        row = str(ITEM_LABELS[parts[0]]) % {"n": int(parts[1]) + 1}
        rest = ".".join(parts[2:])
        return row if not rest else f"{row} · {field_label(rest, extra)}"
    if len(parts) > 1:
        return " · ".join(field_label(p, extra) or p for p in parts if not p.isdigit())
    return key.replace("_", " ").capitalize()


def plain_errors(errors: dict, extra_labels: dict | None = None) -> dict:
    """``{key: [message]}`` with every message a sentence that names its field."""
    out: dict = {}
    for key, messages in errors.items():
        if isinstance(messages, dict):
            out[key] = plain_errors(messages, extra_labels)
            continue
        if isinstance(messages, str):
            messages = [messages]
        if not isinstance(messages, list | tuple):
            out[key] = messages
            continue
        label = field_label(str(key), extra_labels)
        is_list = str(key) in ITEM_LABELS
        if any(_EMPTY.match(str(m)) for m in messages):
            # an empty field also fails its length ("between 1 and 200 characters"): "fill this in" says it all
            messages = [m for m in messages if _EMPTY.match(str(m))][:1]
        said = []
        for message in messages:
            text = str(message)
            plain = phrase(text, is_list=is_list)
            if label is None:
                said.append(_capital(plain) + "." if plain else text)
            elif plain is None and (text.startswith(label) or _NAMED.match(text)):
                said.append(text)
            else:
                said.append(_("%(field)s: %(message)s", field=label,
                              message=(plain + ".") if plain else text))
        out[key] = said
    return out


#: A sentence that already starts by naming what it is about ("Line 2, quantity: …",
#: "Effective month: …"): a form's own message, kept as it is.
_NAMED = re.compile(r"^[^:;.]{1,60}: ")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _plain_context(sender, template, context, **_extra) -> None:
    for name, errors in list(context.items()):  # errors, edit_errors (one form per row)…
        if name.endswith("errors") and isinstance(errors, dict) and errors:
            context[name] = plain_errors(errors, context.get("field_labels"))


def init_app(app: Flask) -> None:
    before_render_template.connect(_plain_context, app)
