"""The cumulative weighted score of an assessment and the ranked list, in exact
arithmetic, with their explanation (the same rule as bid evaluation in procurement:
every term shown, nothing rounded before the end).

A candidate's total is Σ score × weight / 100 over the methods of the plan, whose
weights sum to 100; scores are 0–100 with at most two decimals, so every total is an
exact :class:`~decimal.Decimal` (four decimals at most) and no rounding can reorder two
candidates. A candidate passes at or above the pass mark.

Ties are broken, in this order (docs/hr.md):

1. the higher score on the plan's methods taken by weight, largest first (between two
   methods of equal weight, the one listed first in the plan) — with the usual plan
   (desk review 30, written test 30, interview 40) the interview decides first;
2. the earlier application (its number within the recruitment).

The order the scores were entered in plays no part, so ranks never depend on it.
This module is pure (no database): :func:`rank` takes plain values and
:func:`ranking_of` reads them off a recruitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Method:
    name: str
    weight: int


@dataclass(frozen=True)
class Entry:
    """One short-listed application: its number, its id and its scores by method name."""

    seq: int
    application_id: int
    candidate_id: int
    scores: dict[str, Decimal]


@dataclass(frozen=True)
class Term:
    method: str
    score: Decimal
    weight: int
    points: Decimal  #: score × weight / 100


@dataclass(frozen=True)
class Row:
    rank: int
    seq: int
    application_id: int
    candidate_id: int
    terms: tuple[Term, ...]
    total: Decimal
    passed: bool


@dataclass(frozen=True)
class Ranking:
    methods: tuple[Method, ...]
    pass_mark: Decimal
    #: The methods in the order they break ties.
    tie_break: tuple[str, ...]
    rows: tuple[Row, ...]


def weights_error(weights: Sequence[int]) -> str | None:
    """Why a plan's weights are unacceptable, or None: each a whole number from 1 to
    100, together exactly 100."""
    if not weights:
        return "The assessment plan needs at least one method."
    if any(isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= 100 for w in weights):
        return "Each weight is a whole number from 1 to 100."
    total = sum(weights)
    if total != 100:
        return f"The weights must sum to 100; they sum to {total}."
    return None


def tie_break_order(methods: Sequence[Method]) -> tuple[str, ...]:
    """Method names by weight, largest first; equal weights keep the plan's order."""
    return tuple(m.name for _, m in sorted(enumerate(methods), key=lambda im: (-im[1].weight, im[0])))


def rank(methods: Sequence[Method], pass_mark: Decimal, entries: Sequence[Entry]) -> Ranking:
    """The ranked list of ``entries``; every entry must have a score for every method."""
    order = tie_break_order(methods)
    scored = []
    for e in entries:
        terms = tuple(Term(m.name, Decimal(e.scores[m.name]), m.weight,
                           Decimal(e.scores[m.name]) * m.weight / HUNDRED) for m in methods)
        total = sum((t.points for t in terms), Decimal(0))
        key = (-total, *(-Decimal(e.scores[name]) for name in order), e.seq)
        scored.append((key, e, terms, total))
    scored.sort(key=lambda item: item[0])
    rows = tuple(Row(rank=i, seq=e.seq, application_id=e.application_id, candidate_id=e.candidate_id,
                     terms=terms, total=total, passed=total >= pass_mark)
                 for i, (_, e, terms, total) in enumerate(scored, start=1))
    return Ranking(methods=tuple(methods), pass_mark=Decimal(pass_mark), tie_break=order, rows=rows)


def ranking_of(recruitment) -> Ranking:
    """The ranking of a recruitment's short-listed applications, from its scores so far
    (an application still missing a score is left out until it has them all)."""
    methods = [Method(m.name, m.weight) for m in recruitment.methods]
    entries = []
    for a in recruitment.applications:
        if not a.short_listed:
            continue
        scores = {s.method.name: Decimal(s.score).quantize(Decimal("0.01")) for s in a.scores}
        if all(m.name in scores for m in methods):
            entries.append(Entry(a.seq, a.id, a.candidate_id, scores))
    return rank(methods, Decimal(recruitment.pass_mark), entries)
