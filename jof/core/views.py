"""Core pages: login, dashboard, the queue, a request, notifications, admin, audit."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from jof.core import auth, authz
from jof.core.db import db
from jof.core.errors import TooManyRequests, Unauthorized

bp = Blueprint("core", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never an open redirect."""
    if not target:
        return url_for("core.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("core.dashboard")
    return target


@bp.before_app_request
def _login_wall():
    if request.path.startswith(("/api/", "/static/", "/bootstrap/")):
        return None
    if request.endpoint in {"core.login", "core.health"} or g.get("user") is not None:
        return None
    return redirect(url_for("core.login", next=request.full_path.rstrip("?")))


@bp.route("/health")
def health():
    return {"status": "ok"}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = {"email": request.form.get("email", "")}
    if request.method == "POST":
        try:
            user = auth.authenticate(form["email"], request.form.get("password", ""),
                                     request.remote_addr or "")
        except Unauthorized as exc:
            db.session.commit()  # the failure must count even though the page says no
            return render_template("core/login.html", form=form, error=exc.detail), 401
        except TooManyRequests as exc:
            return render_template("core/login.html", form=form, error=exc.detail), 429
        auth.start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("core/login.html", form=form, error=None)


@bp.route("/logout", methods=["POST"])
def logout():
    auth.end_session(g.get("user"))
    return redirect(url_for("core.login"))


@bp.route("/")
def dashboard():
    user = authz.require_user()
    return render_template("core/dashboard.html", user=user)


@bp.route("/queue")
def queue():
    return redirect(url_for("core.dashboard"))


@bp.route("/admin/agencies")
def admin_agencies():
    return redirect(url_for("core.dashboard"))


@bp.route("/admin/users")
def admin_users():
    return redirect(url_for("core.dashboard"))


@bp.route("/rates")
def rates():
    return redirect(url_for("core.dashboard"))


@bp.route("/audit")
def audit_page():
    return redirect(url_for("core.dashboard"))


__all__ = ["bp", "_"]
