"""Every form speaks to people (issue 13, "Plain error messages"): posted empty or with
values of the wrong kind, no form of any line answers with marshmallow's own wording
("Length must be between 3 and 200.", "Not a valid number.") or a schema key
("lines.0.quantity"); its messages name the field as the page shows it, in English and in
Portuguese.

The forms are found, not listed: a crawl from each role's home (GET only) collects every
``<form method="post">`` it meets, once per (action, fields); each is then fetched again
(fresh CSRF and once-only tokens) and posted twice, with its visible fields empty and
with wrong values (300 characters of text, a word where a number or a date goes, an
option that is not offered), hidden fields kept.
"""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser

import marshmallow as ma
import pytest
from marshmallow import fields, validate
from sqlalchemy import select

from jof.core import services
from jof.core.db import db
from jof.core.people import User
from tests.browser.test_crawl import _seed as seed_activity
from tests.test_labels_not_codes import crawl, visible_texts

ROLES = ("manager@jof.example", "requester@undp.jof.example", "head@undp.jof.example",
         "procurement@jof.example", "travel@jof.example", "ict@jof.example", "admin@jof.example")
#: Not posted: signing out, the language switch (they are no forms to fill).
SKIPPED_ACTIONS = re.compile(r"^/(logout|language)\b")
SCHEMA_KEY = re.compile(r"\b[a-z_]+\.\d+\.[a-z_]+\b")
#: The plain phrases' English words; none may remain on a Portuguese page.
ENGLISH_PHRASES = ("fill this in", "enter a number", "enter between", "choose one of the options",
                   "enter a date", "enter a whole number", "check the format", "check this value")


def marshmallow_defaults() -> list[re.Pattern]:
    """marshmallow's own messages, from its fields and validators, as patterns."""
    texts: set[str] = set(ma.Schema._default_error_messages.values())
    for obj in vars(fields).values():
        if inspect.isclass(obj) and issubclass(obj, fields.Field):
            texts.update(obj.default_error_messages.values())
    for obj in vars(validate).values():
        if inspect.isclass(obj) and issubclass(obj, validate.Validator):
            texts.update(v for k, v in vars(obj).items()
                         if isinstance(v, str) and (k.startswith("message") or k == "default_message"))
    patterns = []
    for text in texts:
        if not text.endswith("."):
            continue  # a fragment of a Range message ("greater than"), not a message
        parts = re.split(r"\{\{?[^{}]*\}\}?", text)
        patterns.append(re.compile(".+?".join(re.escape(p) for p in parts)))
    return patterns


def test_the_default_messages_are_collected_from_marshmallow_itself():
    found = marshmallow_defaults()
    for message in ("Length must be between 3 and 200.", "Not a valid number.", "Missing data for required field.",
                    "Must be greater than or equal to 1 and less than or equal to 5.", "Not a valid date."):
        assert any(p.search(message) for p in found), message


class _Forms(HTMLParser):
    """The page's POST forms: action and fields ``(tag, type, name, value, options)``."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = {"action": a.get("action") or "", "fields": []}
                self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._select.append(a.get("value", ""))
            return
        if tag == "input":
            self._form["fields"].append(("input", (a.get("type") or "text").lower(), a["name"], a.get("value") or ""))
        elif tag == "textarea":
            self._form["fields"].append(("textarea", "text", a["name"], ""))
        elif tag == "select":
            self._select = []
            self._form["fields"].append(("select", "select", a["name"], self._select))
        elif tag == "button" and (a.get("type") or "submit") == "submit":
            self._form["fields"].append(("button", "submit", a["name"], a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def post_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _filled(form: dict, wrong: bool) -> dict:
    data: dict = {}
    pressed = False
    for tag, kind, name, value in form["fields"]:
        if kind == "hidden":
            data[name] = value
        elif tag == "button":
            if not pressed:
                data[name], pressed = value, True
        elif kind in ("checkbox", "radio", "file", "submit"):
            continue
        elif not wrong:
            data[name] = ""
        elif kind in ("number", "date", "datetime-local", "month", "time", "email"):
            data[name] = "not a value"
        elif tag == "select":
            data[name] = "no-such-option"
        else:
            data[name] = "x" * 300
    return data


def _problems(html: str, defaults: list[re.Pattern], locale: str) -> list[str]:
    found = []
    for text in visible_texts(html):
        found += [f"default wording: {text[:120]}" for p in defaults if p.search(text)][:1]
        found += [f"schema key: {text[:120]}" for _ in SCHEMA_KEY.findall(text)][:1]
        if locale != "en":
            found += [f"English: {text[:120]}" for w in ENGLISH_PHRASES if w in text][:1]
    return found


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
def test_every_form_posted_empty_or_wrong_answers_in_plain_words(app, api, web, locale):
    seed_activity(app, api)  # requests of each line, a decision, invoices: their pages' forms
    defaults = marshmallow_defaults()
    seen: set = set()
    problems: dict[str, set[str]] = {}
    answered = 0
    for email in ROLES:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            services.set_locale(user, locale, app.config["JOF_LANGUAGES"])
            db.session.commit()
        client = web(email)
        for url, html in list(crawl(client, limit=60)):
            for i, form in enumerate(post_forms(html)):
                action = form["action"] or url
                key = (re.sub(r"/[A-Z]+-\d{4}-\d+|/\d+", "/N", action.split("?")[0]),
                       tuple(sorted(f[2] for f in form["fields"] if f[1] != "hidden")))
                if key in seen or SKIPPED_ACTIONS.match(action) or not key[1]:
                    continue
                seen.add(key)
                for wrong in (False, True):
                    fresh = post_forms(client.get(url).get_data(as_text=True))
                    if i >= len(fresh):
                        break
                    r = client.post(action, data=_filled(fresh[i], wrong), follow_redirects=True)
                    if not r.content_type.startswith("text/html"):
                        continue
                    answered += 1
                    for problem in _problems(r.get_data(as_text=True), defaults, locale):
                        problems.setdefault(problem, set()).add(f"{email} {action}")
    print(f"{answered} answers to {len(seen)} forms")
    assert answered > 40, f"only {answered} forms answered: the crawl found too few"
    assert problems == {}, "\n".join(f"{p}  ← {sorted(where)[:3]}" for p, where in sorted(problems.items()))
