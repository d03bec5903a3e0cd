"""Who may do what in billing. The services call these with the acting user, so the
API, the pages, the command line and the jobs apply the same rules."""

from __future__ import annotations

from jof.core import authz
from jof.core.people import Role

#: The facility's own people follow periods, jobs and their ZIPs; agencies see invoices.
FACILITY = (Role.MANAGER, Role.AUDITOR, Role.ADMIN, Role.RESIDENT_COORDINATOR)


def ensure_manager(user, why: str) -> None:
    """Closing, issuing, crediting and recording payments are the facility manager's."""
    authz.ensure_can_change(user)
    authz.require_roles(user, Role.MANAGER, why=why)


def ensure_facility(user) -> None:
    authz.require_roles(user, *FACILITY, why="Periods are the facility's business.")


def follows_periods(user) -> bool:
    """Whether the pages link to the period close (officers are facility staff, but the
    periods are not theirs: a link there would only answer 403)."""
    return any(user.has_role(role) for role in FACILITY)


def may_manage(user) -> bool:
    """Whether the pages offer the manager's buttons (the services decide again)."""
    return user.has_role(Role.MANAGER)
