"""Authorization in one place (DESIGN §9, ASVS 8.2).

Rules: agency users see only their own agency's objects, and another agency's object
answers 404 so its existence does not leak; a missing role answers 403; the auditor
reads everything and changes nothing; facility staff see every agency.
"""

from __future__ import annotations

from functools import wraps

from flask import g

from jof.core.errors import Forbidden, NotFound, Unauthorized
from jof.core.people import Agency, Role, User

READ_ONLY_ROLES = {Role.AUDITOR}


def current_user() -> User | None:
    return g.get("user")


def require_user() -> User:
    user = current_user()
    if user is None:
        raise Unauthorized("Log in first.")
    return user


def sees_all_agencies(user: User) -> bool:
    return user.is_facility_staff


def is_read_only(user: User) -> bool:
    """True for a user whose roles allow reading only (the auditor)."""
    return bool(user.roles) and user.roles <= READ_ONLY_ROLES


def ensure_can_change(user: User) -> None:
    if is_read_only(user):
        raise Forbidden("Your role allows reading only; it cannot change anything.")


def ensure_visible(user: User, agency_id: int | None, what: str = "object") -> None:
    """404 for an object of another agency, as if it did not exist."""
    if sees_all_agencies(user):
        return
    if agency_id is None or agency_id != user.agency_id:
        raise NotFound(f"No such {what}.")


def require_roles(user: User, *roles: str, why: str | None = None) -> None:
    if not user.has_role(*roles):
        names = ", ".join(roles)
        raise Forbidden(why or f"This needs one of the roles: {names}.")


def is_head_of(user: User, agency: Agency | None) -> bool:
    """The agency's head, or the alternate the agency has named."""
    if agency is None or user.agency_id != agency.id or not user.active:
        return False
    return user.has_role(Role.AGENCY_HEAD) or agency.alternate_id == user.id


def is_officer_for(user: User, line: str) -> bool:
    return user.has_role(Role.OFFICER) and line in user.service_lines


def roles_required(*roles: str):
    """View/API decorator: logged in and holding one of ``roles``."""

    def deco(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            user = require_user()
            if roles:
                require_roles(user, *roles)
            return fn(*args, **kwargs)

        return wrapper

    return deco


login_required = roles_required()
