"""The profile page: who I am, and how JOF may reach me (alert preferences, DESIGN §8)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from jof.core import alerts, authz
from jof.core.db import db
from jof.core.errors import DomainError

bp = Blueprint("profile", __name__, template_folder="templates")
#: The form's fields whose messages show in their own row.
KNOWN = tuple(f"channel_{kind}" for kind in alerts.KINDS)


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    user = authz.require_user()
    if request.method == "POST":
        channels = {kind: request.form.get(f"channel_{kind}", "") for kind in alerts.KINDS}
        digest = request.form.get("daily_digest") == "on"
        try:
            alerts.set_preferences(user, user, channels, digest)
        except DomainError as exc:
            db.session.rollback()
            errors = {f"channel_{k}": v for k, v in (exc.errors or {"_schema": [exc.detail]}).items()}
            return render_template("core/profile.html", prefs={"channels": channels, "daily_digest": digest},
                                   errors=errors, kinds=alerts.KINDS, channels=alerts.CHANNELS, known=KNOWN), exc.status
        flash(_("Your alert preferences were saved."), "success")
        return redirect(url_for("profile.profile"))
    return render_template("core/profile.html", prefs=alerts.preferences(user), errors={},
                           kinds=alerts.KINDS, channels=alerts.CHANNELS, known=KNOWN)
