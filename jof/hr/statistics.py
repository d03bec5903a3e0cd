"""Gender and nationality of the candidates, reported only as aggregates with no count
below :data:`MIN_CELL` (5) shown (issue 14, "Candidates' privacy").

The figures are applications (each is one candidate's) by the self-declared, optional
gender and nationality, with "not declared" as a value of its own, per year of
application and requesting agency. Candidates whose personal data the purge removed are
counted from what it kept (:class:`~jof.hr.models.PurgedTally`), so a purge changes no
figure.

:func:`suppress` is pure and decides what is shown:

1. a count below 5 is hidden ("fewer than 5");
2. a single hidden count could be worked out from the total and the others, and two
   hidden counts summing to less than 5 would each be known to be small: so while one
   count alone is hidden, or the hidden ones sum to less than 5, the smallest count still
   shown is hidden too;
3. the total is shown only when it is 5 or more.

So every number shown is 5 or more, and no hidden count follows from the ones shown
(the Hypothesis properties in tests/hr/test_statistics.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import extract, func, select

from jof.core import authz
from jof.core.db import db
from jof.core.errors import ValidationFailed
from jof.core.people import Agency, User
from jof.core.workflow import ServiceRequest
from jof.hr.models import Application, Candidate, PurgedTally, Recruitment

MIN_CELL = 5
DIMENSIONS = ("gender", "nationality")
NOT_DECLARED = ""


@dataclass(frozen=True)
class Cell:
    value: str
    #: None when hidden.
    count: int | None

    @property
    def hidden(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Table:
    dimension: str
    total: int | None
    cells: tuple[Cell, ...]


def suppress(dimension: str, counts: dict[str, int]) -> Table:
    """The table of ``counts`` (value → count; zero counts are left out) as it may be shown."""
    counts = {v: n for v, n in counts.items() if n > 0}
    hidden = {v for v, n in counts.items() if n < MIN_CELL}
    shown = sorted((v for v in counts if v not in hidden), key=lambda v: (counts[v], v))
    while shown and (len(hidden) == 1 or 0 < sum(counts[v] for v in hidden) < MIN_CELL):
        hidden.add(shown.pop(0))
    total = sum(counts.values())
    order = sorted(counts, key=lambda v: (v == NOT_DECLARED, -counts[v] if v not in hidden else 0, v))
    return Table(dimension, total if total >= MIN_CELL else None,
                 tuple(Cell(v, None if v in hidden else counts[v]) for v in order))


def _live_counts(dimension: str, year: int | None, agency_id: int | None) -> Counter:
    column = getattr(Candidate, dimension)
    stmt = (select(column, func.count(Application.id))
            .join(Application, Application.candidate_id == Candidate.id)
            .join(Recruitment, Recruitment.id == Application.recruitment_id)
            .join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
            .where(Candidate.purged_at.is_(None)).group_by(column))
    if year is not None:
        stmt = stmt.where(extract("year", Application.applied_at) == year)
    if agency_id is not None:
        stmt = stmt.where(ServiceRequest.agency_id == agency_id)
    out: Counter = Counter()
    for value, n in db.session.execute(stmt).all():
        out[value or NOT_DECLARED] += n
    return out


def _purged_counts(dimension: str, year: int | None, agency_id: int | None) -> Counter:
    stmt = (select(PurgedTally.value, func.sum(PurgedTally.count)).where(PurgedTally.dimension == dimension)
            .group_by(PurgedTally.value))
    if year is not None:
        stmt = stmt.where(PurgedTally.year == year)
    if agency_id is not None:
        stmt = stmt.where(PurgedTally.agency_id == agency_id)
    return Counter({v: int(n) for v, n in db.session.execute(stmt).all()})


def counts(dimension: str, year: int | None = None, agency_id: int | None = None) -> dict[str, int]:
    """Exact counts (never shown as such: :func:`suppress` them first)."""
    return dict(_live_counts(dimension, year, agency_id) + _purged_counts(dimension, year, agency_id))


def statistics(actor: User, year: int | None = None, agency_code: str | None = None) -> dict:
    """The tables a user may see: facility staff for any agency or all of them, agency
    staff for their own agency only (another agency's code is ignored)."""
    agency = None
    if not authz.sees_all_agencies(actor):
        agency = db.session.get(Agency, actor.agency_id)
    elif agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.upper()))
        if agency is None:
            raise ValidationFailed({"agency": ["No agency has this code."]})
    agency_id = agency.id if agency is not None else None
    return {"year": year, "agency": agency.code if agency is not None else None, "min_cell": MIN_CELL,
            "tables": [suppress(d, counts(d, year, agency_id)) for d in DIMENSIONS]}
