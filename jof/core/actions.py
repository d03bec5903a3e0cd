"""What the general request page offers: only the moves that can succeed from it.

The engine's :func:`jof.core.workflow.available_transitions` already drops moves whose
guard refuses the user now. Two more kinds must not be offered as buttons on the general
page, since pressing them could only fail:

* a move that needs details the page cannot collect (its line's payload schema refuses an
  empty payload, e.g. "Assign" on an ICT ticket needs the officer): the page points to the
  line's own page, where the form asks for them;
* a move the table allows the user's role in this status but whose guard refuses now (a
  ticket assigned to another officer): the page names it with the guard's reason, without
  a button.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import marshmallow as ma

from jof.core import authz, workflow
from jof.core.people import User


@dataclass
class PageActions:
    #: Moves the page can make with a comment alone.
    here: list[workflow.Transition] = field(default_factory=list)
    #: Moves open now that need details given on the line's own page.
    elsewhere: list[workflow.Transition] = field(default_factory=list)
    #: (move, reason) for moves the role has in this status but that are blocked now.
    blocked: list[tuple[workflow.Transition, str]] = field(default_factory=list)


def needs_details(sr: workflow.ServiceRequest, action: str) -> bool:
    """True when the action's payload schema refuses an empty payload."""
    schema = sr.type.payloads.get(action)
    if schema is None:
        return False
    try:
        schema().load({})
    except ma.ValidationError:
        return True
    return False


def page_actions(user: User, sr: workflow.ServiceRequest) -> PageActions:
    out = PageActions()
    open_now = workflow.available_transitions(user, sr)
    for t in open_now:
        (out.elsewhere if needs_details(sr, t.action) else out.here).append(t)
    if authz.is_read_only(user):
        return out
    offered = {t.action for t in open_now}
    for t in sr.type.transitions:
        if t.action in offered or sr.status not in t.sources or t.guard is None:
            continue
        if not any(workflow.actor_is(user, sr, token) for token in t.actors):
            continue
        reason = t.guard(sr, user)
        if reason and t.action not in {b.action for b, _ in out.blocked}:
            out.blocked.append((t, reason))
    return out
