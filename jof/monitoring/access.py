"""Who reads which dashboard (DESIGN §8): facility staff, the auditor and the Resident
Coordinator read every agency; agency users read their own agency against the facility
totals, and another agency asked for by name is a 404, as everywhere in JOF."""

from __future__ import annotations

from jof.core import authz
from jof.core.errors import NotFound
from jof.core.people import User

#: The Resident Coordinator chairs the board and reads every dashboard, like the auditor;
#: named by value so this module needs no part of the code that defines the role.
READS_EVERY_AGENCY = {"manager", "auditor", "officer", "admin", "resident_coordinator"}


def sees_every_agency(user: User) -> bool:
    return authz.sees_all_agencies(user) or bool(user.roles & READS_EVERY_AGENCY)


def scope_agency(user: User, requested: int | None) -> int | None:
    """The agency a dashboard shows: any (or all, None) for staff; an agency user's own
    agency whatever they ask, and 404 when they name another."""
    if sees_every_agency(user):
        return requested
    if requested is not None and requested != user.agency_id:
        raise NotFound("No such agency.")
    return user.agency_id
