"""The agenda of the demo history: the cast, the calendar and the clock of its stories."""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from jof.core import workflow
from jof.core.calendar import (
    WorkingCalendar,
    facility_zone,
    next_month,
    previous_month,
)
from jof.core.db import db
from jof.core.people import User
from jof.core.timeutil import clock_at

#: The pilot's member agencies (codes as in :mod:`jof.demo`) and its partner.
MEMBERS = ("UNDP", "UNFPA", "UNESCO", "UNWOMEN", "UNOPS", "UNEP")
PARTNER = "UNAIDS"
#: How busy each agency is (relative weights of its requests).
ACTIVITY = {"UNDP": 6, "UNFPA": 3, "UNESCO": 3, "UNWOMEN": 2, "UNOPS": 4, "UNEP": 2, "UNAIDS": 1}
HOME = ("Brasília", "BR")
FACILITY_ZONE = "America/Sao_Paulo"  # the demo facility's (jof.demo), before it exists
DESTINATIONS = [("São Paulo", "BR"), ("Rio de Janeiro", "BR"), ("Salvador", "BR"), ("Recife", "BR"),
                ("Buenos Aires", "AR"), ("Santiago", "CL"), ("Montevideo", "UY")]
CARRIERS = ["LATAM", "GOL", "Azul", "Aerolíneas Argentinas"]
#: (description, UNSPSC, unit, estimated unit price in USD) of what agencies requisition.
GOODS = [("Laptop 14in, 16 GB RAM", "43211503", "each", "1250.00"),
         ("Desktop computer, 16 GB RAM", "43211507", "each", "980.00"),
         ("Monitor 24in", "43211902", "each", "210.00"),
         ("Network laser printer", "43212105", "each", "640.00"),
         ("Ergonomic office chair", "56101504", "each", "320.00"),
         ("Office desk 160 cm", "56101703", "each", "410.00")]
#: The long-term agreement for office supplies every agency calls off from.
LTA_LINES = [("Copy paper A4, box of 5 reams", "14111507", "box", "24.5000"),
             ("Toner cartridge, black", "44103103", "each", "89.0000"),
             ("Ballpoint pens, box of 50", "44121701", "box", "11.2000")]
TICKET_TOPICS = [("Cannot send e-mail from Outlook", "email"), ("Wi-Fi drops in the meeting room", "network"),
                 ("Printer on floor 2 jams", "printing"), ("Laptop does not start", "hardware"),
                 ("Licence for the statistics package", "software"), ("Access to the shared drive", "access"),
                 ("VPN disconnects every hour", "network"), ("Mailbox full", "email")]
#: Working time an ICT officer takes to resolve a ticket of each priority when on time.
RESOLVE_HOURS = {"P1": (1, 3.5), "P2": (2, 7), "P3": (4, 20), "P4": (8, 50)}
LATE_SHARE = 0.15  # of tickets resolved after their SLA target
LEVELS = ["high", "medium", "low"]


def requester(code: str) -> str:
    return f"requester@{code.lower()}.jof.example"


def head(code: str) -> str:
    return f"head@{code.lower()}.jof.example"


MANAGER, PROCUREMENT, TRAVEL, ICT = ("manager@jof.example", "procurement@jof.example",
                                     "travel@jof.example", "ict@jof.example")


class HistoryError(Exception):
    """The history cannot be generated here (the database holds activity already)."""


@dataclass
class HistoryResult:
    months: list[date]
    requests: int
    invoices: int


def history_months(months: int, end: date) -> list[date]:
    """The ``months`` whole months before ``end``'s month, oldest first."""
    first = end.replace(day=1)
    out = []
    for _ in range(months):
        first = previous_month(first)
        out.append(first)
    return out[::-1]


def is_fresh() -> bool:
    """No request was ever filed here: the history may be generated."""
    return db.session.scalar(select(workflow.ServiceRequest.id).limit(1)) is None


def founding_clock(first: date):
    """The clock held at 08:00 at the facility on the history's first day, when the demo
    facility is set up (before any story of the first month)."""
    return clock_at(datetime.combine(first, time(8, 0), ZoneInfo(FACILITY_ZONE)))


def ensure_fresh() -> None:
    if not is_fresh():
        raise HistoryError("The database holds requests already; the demo history is generated only "
                           "on a fresh database (delete instance/jof.db to start again).")


Story = Iterator[datetime]


class History:
    """The agenda of stories, the cast and the calendar of one generated history."""

    def __init__(self, months: list[date], seed: int, now: datetime):
        self.months = months
        self.rng = random.Random(seed)
        self.cal = WorkingCalendar.of_facility()
        self.tz = facility_zone()
        #: The history's present: a step planned after it has not happened yet, so its
        #: story stops there and leaves its request open (the queues of today).
        self.limit = now
        self._agenda: list[tuple[datetime, int, Story]] = []
        self._n = 0
        self._users: dict[str, User] = {}
        #: (agency, traveller) → the trips planned so far, so nobody is in two places.
        self.travels: dict[tuple[str, str], list[tuple[date, date]]] = {}

    # --- the cast and the calendar --------------------------------------------------------

    def user(self, email: str) -> User:
        if email not in self._users:
            self._users[email] = db.session.scalar(select(User).where(User.email == email))
        return self._users[email]

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz)

    def working_days(self, month: date) -> list[date]:
        days, day = [], month
        while day < next_month(month):
            if self.cal.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def working_day(self, day: date, after: int = 0) -> date:
        """``day`` itself if it is a working day (else the next one), then ``after`` more."""
        while not self.cal.is_working_day(day):
            day += timedelta(days=1)
        return self.cal.add_working_days(day, after) if after else day

    def later(self, moment: datetime, hours: float) -> datetime:
        """``hours`` of working time after ``moment``."""
        return self.cal.add(moment, timedelta(minutes=round(hours * 60)))

    def agency_pick(self, members_only: bool = False) -> str:
        codes = [c for c in ACTIVITY if not members_only or c in MEMBERS]
        return self.rng.choices(codes, weights=[ACTIVITY[c] for c in codes])[0]

    # --- the agenda -----------------------------------------------------------------------

    def add(self, story: Story) -> None:
        """Schedule a story; its first yield is the moment of its first step."""
        first = next(story, None)
        if first is not None:
            self._push(first, story)

    def _push(self, moment: datetime, story: Story) -> None:
        if moment > self.limit:
            return  # still to come: the story's request stays open
        self._n += 1
        heapq.heappush(self._agenda, (moment, self._n, story))

    def run(self, on_month: Callable[[date], None] | None = None) -> None:
        """Play every step in time order; ``on_month(month)`` when the clock leaves a month."""
        current: date | None = None
        while self._agenda:
            moment, _n, story = heapq.heappop(self._agenda)
            month = moment.astimezone(self.tz).date().replace(day=1)
            if current is not None and month != current and on_month:
                on_month(current)
            current = month
            with clock_at(moment):
                upcoming = next(story, None)
            if upcoming is not None:
                # A step planned for a moment already past (the work before it ran late)
                # happens now: the clock never goes back.
                self._push(max(upcoming, moment), story)
        if current is not None and on_month:
            on_month(current)

    # --- shared moves ---------------------------------------------------------------------

    def move(self, email: str, sr: workflow.ServiceRequest, action: str, comment: str = "") -> None:
        workflow.perform(self.user(email), sr, action, comment, sr.version)

    def approvals(self, sr: workflow.ServiceRequest, moment: datetime) -> Story:
        """The agency head certifies above the agency's limit, then the manager approves."""
        if sr.status == workflow.Status.SUBMITTED and sr.needs_certification:
            moment = self.later(moment, self.rng.uniform(1, 6))
            yield moment
            self.move(head(sr.agency.code), sr, "certify")
        yield self.later(moment, self.rng.uniform(0.5, 5))
        self.move(MANAGER, sr, "approve")


def money(value: float | Decimal, places: str = "0.01") -> Decimal:
    return Decimal(str(value)).quantize(Decimal(places))
