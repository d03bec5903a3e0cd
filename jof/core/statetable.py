"""Declared state tables for every object with a status besides the request itself.

A tender, a lot, a purchase order, a decision, an invoice, a billing period, a travel
stage, a ticket: each has a :class:`StateTable` of moves (action, from states, to
state). Services change a status only through :meth:`StateTable.move`, which refuses
an undeclared move with the same 409 as the request engine (the reason and the
actions open now), so no line can write ``status = "awarded"`` from a state where the
award makes no sense. Who may act and the business guards stay in the services; the
table answers only "is this move possible from here".

Statuses are :class:`enum.StrEnum` members stored in their column as text
(:class:`StatusType`), so they compare equal to the plain strings the API and the
templates use, and an unknown value never reaches the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from jof.core.errors import Conflict


@dataclass(frozen=True)
class Move:
    action: str
    sources: tuple[str, ...]
    target: str


class StateTable:
    """The moves of one kind of object; see the module docstring."""

    def __init__(self, noun: str, states: type[StrEnum], moves: Iterable[Move], *,
                 attribute: str = "status"):
        self.noun = noun
        self.states = states
        self.moves = tuple(moves)
        self.attribute = attribute
        known = {s.value for s in states}
        for m in self.moves:
            unknown = {*m.sources, m.target} - known
            if unknown:
                raise ValueError(f"{noun}: move {m.action!r} names unknown states {sorted(unknown)}")
        _TABLES[noun] = self

    def actions_from(self, status: str) -> list[str]:
        """The actions this table allows from ``status``, in declaration order."""
        out: list[str] = []
        for m in self.moves:
            if status in m.sources and m.action not in out:
                out.append(m.action)
        return out

    def allows(self, obj, action: str) -> bool:
        return action in self.actions_from(getattr(obj, self.attribute))

    def target(self, status: str, action: str) -> str | None:
        for m in self.moves:
            if m.action == action and status in m.sources:
                return m.target
        return None

    def move(self, obj, action: str) -> tuple[str, str]:
        """Apply ``action`` to ``obj``; a move the table does not declare is a 409."""
        current = getattr(obj, self.attribute)
        target = self.target(current, action)
        if target is None:
            allowed = self.actions_from(current)
            raise Conflict(
                f"'{action}' is not possible while the {self.noun} is {_words(current)}."
                + (f" Possible now: {', '.join(allowed)}." if allowed else f" The {self.noun} is final."),
                allowed_actions=allowed,
            )
        setattr(obj, self.attribute, self.states(target))
        return current, target

    def illegal_moves(self) -> list[tuple[str, str]]:
        """Every (state, action) pair the table refuses: what the table test walks."""
        actions = {m.action for m in self.moves}
        return [(s.value, a) for s in self.states for a in sorted(actions)
                if self.target(s.value, a) is None]


def _words(status) -> str:
    return str(status).replace("_", " ")


_TABLES: dict[str, StateTable] = {}


def tables() -> list[StateTable]:
    """Every declared table (the lines declare theirs when their module is imported)."""
    return sorted(_TABLES.values(), key=lambda t: t.noun)


class StatusType(TypeDecorator):
    """A status column: text in the database, a member of ``enum`` in Python."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 20):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)

    def coerce_compared_value(self, op, value):
        return String()
