"""The words people read for the workflow's states and steps, in their language.

The spine's words are here; each line adds its own states and steps at install
(``templating.STATUS_LABELS.update(...)`` names these same dictionaries). Kept apart from
``jof.core.templating`` so that the workflow engine can word its refusals and
notifications without importing the templates' helpers (which import the engine).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

#: Words users read for the spine's states; a line's own states fall back to their code.
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "certified": _l("Certified"),
    "approved": _l("Approved"),
    "in_progress": _l("In progress"),
    "completed": _l("Completed"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}

ACTION_LABELS = {
    "create": _l("Created"),
    "submit": _l("Submit"),
    "certify": _l("Certify"),
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "start": _l("Start work"),
    "complete": _l("Complete"),
    "cancel": _l("Cancel"),
}

#: How the timeline names a past action ("Approved", not the button's "Approve").
ACTION_DONE_LABELS = {
    "create": _l("Created"),
    "submit": _l("Submitted"),
    "certify": _l("Certified"),
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "start": _l("Work started"),
    "complete": _l("Completed"),
    "cancel": _l("Cancelled"),
}


def status_label(status: str | None) -> str:
    if not status:
        return "—"
    label = STATUS_LABELS.get(status)
    return str(label) if label is not None else status.replace("_", " ")


def action_label(action: str, fallback: str = "") -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else (fallback or action.replace("_", " ").capitalize())


def action_done_label(action: str) -> str:
    label = ACTION_DONE_LABELS.get(action)
    return str(label) if label is not None else action_label(action)
