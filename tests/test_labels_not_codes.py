"""People read labels, never the codes JOF stores (issue 13): no page shows a raw status,
kind, rule or action code, in English or Portuguese.

A crawl from each role's home follows every link of the pages it reaches (bounded) and
reads the visible text (not attributes, scripts, form values or code samples): a
``snake_case`` token is a stored code by construction (prose never has one), and a text
that is exactly a stored enum value in lower case (``draft``, ``economy``) is a code
shown where its label belonged.
"""

from __future__ import annotations

import enum
import importlib
import pkgutil
import re
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

import jof
from jof.core import services
from jof.core.db import db
from jof.core.people import User

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
#: Elements whose text is not a label: scripts, code samples (a CSV header to copy), what
#: the person typed, and the audit trail, which shows stored fields verbatim as evidence.
HIDDEN = {"script", "style", "code", "pre", "textarea", "title"}
ROLES = ("requester@undp.jof.example", "head@undp.jof.example", "head@unaids.jof.example",
         "manager@jof.example", "procurement@jof.example", "travel@jof.example", "ict@jof.example",
         "auditor@jof.example", "admin@jof.example")
#: Pages per role; enough to reach every line's lists and a few objects of each.
LIMIT = 70


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hidden = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in HIDDEN:
            self.hidden = max(0, self.hidden - 1)

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.texts.append(" ".join(data.split()))


def visible_texts(html: str) -> list[str]:
    parser = _Visible()
    parser.feed(html)
    return parser.texts


def stored_codes() -> set[str]:
    """Every value of every StrEnum JOF stores (imported from all of its modules)."""
    for info in pkgutil.walk_packages(jof.__path__, "jof."):
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
    found: set[str] = set()

    def walk(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("jof."):
                found.update(str(m.value) for m in sub)
            walk(sub)

    walk(enum.StrEnum)
    return {v for v in found if v and v.islower()}


def raw_codes(html: str, codes: set[str]) -> set[str]:
    shown = set()
    for text in visible_texts(html):
        shown.update(SNAKE.findall(text))
        if text in codes:
            shown.add(text)
    return shown


def crawl(client, limit: int = LIMIT):
    """(url, html) of the HTML pages reachable from home, breadth first, GET only."""
    seen: set[str] = set()
    patterns: dict[str, int] = {}
    todo = ["/"]
    while todo and len(seen) < limit:
        url = todo.pop(0)
        if url in seen:
            continue
        seen.add(url)
        if url.startswith("/audit"):
            continue  # the audit trail is the stored record itself, shown as evidence
        r = client.get(url)
        if r.status_code != 200 or not r.content_type.startswith("text/html"):
            continue
        html = r.get_data(as_text=True)
        yield url, html
        for href in re.findall(r'href="(/[^"#]*)"', html):
            path = unescape(href)
            parts = urlsplit(path)
            if (parts.path.endswith((".pdf", ".zip", ".csv", ".xlsx")) or path.startswith(("/static", "/api", "/logout"))
                    or "page=" in path or "sort=" in path):
                continue
            pattern = re.sub(r"/[A-Z]+-\d{4}-\d+|/\d+", "/N", parts.path)
            if patterns.get(pattern, 0) >= 2 and path not in seen:
                continue  # two objects of a kind are enough
            patterns[pattern] = patterns.get(pattern, 0) + 1
            todo.append(path)


@pytest.fixture
def populated(app, make):
    """Requests in several states and a closed decision with its tally, so the pages show
    statuses, kinds, rules, outcomes and votes."""
    from datetime import timedelta

    from jof.core.timeutil import utcnow
    from jof.governance import decisions, votes

    make.request("requester@undp.jof.example", status="submitted")
    make.request("requester@undp.jof.example", status="in_progress")
    make.request("requester@unfpa.jof.example", status="completed")
    with app.app_context():
        def user(email):
            return db.session.scalar(select(User).where(User.email == email))

        decision = decisions.propose(user("manager@jof.example"), {
            "title": "Open on Saturdays", "text": "The board is asked to decide.", "kind": "general",
            "threshold": "simple_majority", "quorum_rule": "more_than_half", "payload": None})
        decisions.open_decision(user("manager@jof.example"), decision, utcnow() + timedelta(days=7))
        votes.cast_vote(user("head@undp.jof.example"), decision.id, "yes")
        db.session.commit()
        decisions.close(decision.id, None, now=decision.closes_at + timedelta(seconds=1))
        db.session.commit()


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
def test_no_page_shows_a_stored_code_instead_of_its_label(app, web, populated, locale):
    codes = stored_codes()
    found: dict[str, set[str]] = {}
    for email in ROLES:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            services.set_locale(user, locale, app.config["JOF_LANGUAGES"])
            db.session.commit()
        for url, html in crawl(web(email)):
            for code in raw_codes(html, codes):
                found.setdefault(code, set()).add(url)
    assert found == {}, "\n".join(f"{code}: {sorted(urls)[:3]}" for code, urls in sorted(found.items()))
