"""The home page: what needs this person now (DESIGN §9).

Each role lands on the same page, filled with what waits for *them*: the requests whose
next move is theirs (from the engine's tables, :func:`jof.core.workflow.waiting_query`),
and whatever a line knows waits for them besides (a vote, an invoice to pay). Core
imports no line, so a line offers its part through :func:`register_panel` and
:func:`register_new_request` in its ``install(app)``; installing again replaces them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import func, select

from jof.core import authz, waiting
from jof.core.db import db
from jof.core.people import Membership, Role, User

#: How many waiting requests the home page lists; the count covers them all.
SHOWN = 10


@dataclass(frozen=True)
class Entry:
    """One line of a panel: what it is, where to act on it, and a short note (a date)."""

    label: str
    url: str
    note: str = ""


@dataclass(frozen=True)
class Panel:
    """A count of things waiting for the user, the first few of them, and the full list."""

    title: str
    count: int
    url: str
    entries: tuple[Entry, ...] = field(default_factory=tuple)
    #: What the user does with them, as a button label ("Vote", "Pay").
    action: str = ""


PanelSource = Callable[[User], "Panel | None"]


@dataclass(frozen=True)
class NewRequest:
    """A kind of request agency staff can file, for the home page's "New request" menu."""

    endpoint: str
    #: A lazy string (``lazy_gettext``), read in the user's language when shown.
    label: str


_PANELS: dict[str, PanelSource] = {}
_NEW: dict[str, NewRequest] = {}


def register_panel(key: str, source: PanelSource) -> None:
    """``source(user)`` returns the user's panel, or None when nothing waits (or it does not
    concern them). It must run a fixed number of statements, whatever the data size."""
    _PANELS[key] = source


def register_new_request(key: str, endpoint: str, label: str) -> None:
    _NEW[key] = NewRequest(endpoint, label)


def panels(user: User) -> list[Panel]:
    """The user's non-empty panels, in the order the lines were installed."""
    found = (source(user) for source in _PANELS.values())
    return [p for p in found if p is not None and p.count > 0]


def new_requests(user: User) -> list[NewRequest]:
    """What this user may file: agency staff who file requests (not the read-only)."""
    if user.is_facility_staff or authz.is_read_only(user) or not user.has_role(Role.REQUESTER, Role.AGENCY_HEAD):
        return []
    return list(_NEW.values())


@dataclass(frozen=True)
class Waiting:
    count: int
    requests: list


def waiting_for(user: User) -> Waiting:
    """The requests whose next move is the user's: how many, and the oldest :data:`SHOWN`."""
    stmt = waiting.waiting_query(user)
    if stmt is None:
        return Waiting(0, [])
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    shown = db.session.scalars(stmt.limit(SHOWN)).all() if count else []
    return Waiting(count, list(shown))


def is_partner_head(user: User) -> bool:
    """A partner's head is served under its SLA and pays fees, but has no vote."""
    return (user.agency is not None and user.agency.membership == Membership.PARTNER
            and authz.is_head_of(user, user.agency))
