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

A reader may also ask for several tables, by year and by agency, and subtract them (all
agencies 8 women, UNDP 6: UNFPA's hidden count would be 2). So the tables are
suppressed together (:func:`linked_table`): the applications of one year and one agency
are the finest table, suppressed on its own as above; a table over all years or all
agencies is made of finer ones, and

4. a value hidden in any of its finer tables is hidden in it too (then 2. applies);
5. its total is hidden when a finer table's total is hidden.

So a count a coarser table shows is the sum of counts its finer tables all show, and its
hidden part is the sum of theirs: nothing it shows is not already shown finer, and the
finest tables hold different applications. Subtracting one table from another gives
only counts already shown.
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


def suppress(dimension: str, counts: dict[str, int], forced: frozenset[str] = frozenset(),
             hide_total: bool = False) -> Table:
    """The table of ``counts`` (value → count; zero counts are left out) as it may be shown;
    ``forced`` values are hidden whatever their count, and ``hide_total`` hides the total
    (rules 4 and 5, from the finer tables)."""
    counts = {v: n for v, n in counts.items() if n > 0}
    hidden = {v for v, n in counts.items() if n < MIN_CELL or v in forced}
    shown = sorted((v for v in counts if v not in hidden), key=lambda v: (counts[v], v))
    while shown and (len(hidden) == 1 or 0 < sum(counts[v] for v in hidden) < MIN_CELL):
        hidden.add(shown.pop(0))
    total = sum(counts.values())
    order = sorted(counts, key=lambda v: (v == NOT_DECLARED, -counts[v] if v not in hidden else 0, v))
    return Table(dimension, total if total >= MIN_CELL and not hide_total else None,
                 tuple(Cell(v, None if v in hidden else counts[v]) for v in order))


#: (year, agency id) → value → count: the finest tables.
Finest = dict[tuple[int, int], dict[str, int]]


def linked_table(dimension: str, finest: Finest, year: int | None, agency_id: int | None,
                 _memo: dict | None = None) -> Table:
    """Pure: the table of ``year`` and ``agency_id`` (None: all), suppressed with the finer
    tables it is made of (rules 4 and 5), so no pair of tables gives away a hidden count."""
    memo = {} if _memo is None else _memo
    key = (year, agency_id)
    if key in memo:
        return memo[key]
    counts: Counter = Counter()
    for (y, a), cells in finest.items():
        if year in (None, y) and agency_id in (None, a):
            counts.update(cells)
    finer: list[Table] = []
    if year is None:
        finer += [linked_table(dimension, finest, y, agency_id, memo) for y in sorted({y for y, _a in finest})]
    if agency_id is None:
        finer += [linked_table(dimension, finest, year, a, memo) for a in sorted({a for _y, a in finest})]
    forced = frozenset(c.value for t in finer for c in t.cells if c.hidden)
    hide_total = any(t.total is None and t.cells for t in finer)
    memo[key] = suppress(dimension, dict(counts), forced, hide_total)
    return memo[key]


def _finest(dimension: str) -> Finest:
    """Exact counts per year and agency (never shown as such: :func:`linked_table` them)."""
    column = getattr(Candidate, dimension)
    year = extract("year", Application.applied_at)
    live = (select(year, ServiceRequest.agency_id, column, func.count(Application.id))
            .join(Application, Application.candidate_id == Candidate.id)
            .join(Recruitment, Recruitment.id == Application.recruitment_id)
            .join(ServiceRequest, ServiceRequest.id == Recruitment.request_id)
            .where(Candidate.purged_at.is_(None)).group_by(year, ServiceRequest.agency_id, column))
    purged = (select(PurgedTally.year, PurgedTally.agency_id, PurgedTally.value, func.sum(PurgedTally.count))
              .where(PurgedTally.dimension == dimension)
              .group_by(PurgedTally.year, PurgedTally.agency_id, PurgedTally.value))
    out: dict[tuple[int, int], Counter] = {}
    for stmt in (live, purged):
        for y, agency_id, value, n in db.session.execute(stmt).all():
            out.setdefault((int(y), agency_id), Counter())[value or NOT_DECLARED] += int(n)
    return {k: dict(v) for k, v in out.items()}


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
            "tables": [linked_table(d, _finest(d), year, agency_id) for d in DIMENSIONS]}
