"""The facility's invoicing settings page: bank details and payment reference, kept by
the manager or the administrator (the auditor reads them); the rules are in
``jof.core.invoicing_settings``."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from jof.core import authz, forms
from jof.core import invoicing_settings as settings
from jof.core.errors import DomainError

bp = Blueprint("settings", __name__)


def _page(form: dict, errors: dict, status: int = 200, can_change: bool = True):
    return render_template("core/invoicing_settings.html", form=form, errors=errors,
                           can_change=can_change), status


@bp.route("/settings/invoicing", methods=["GET", "POST"])
def invoicing():
    user = authz.require_user()
    settings.require_keeper(user)
    row = settings.facility()
    if request.method == "GET":
        return _page({k: getattr(row, k) for k in settings.FIELDS}, {},
                     can_change=settings.may_change(user))
    form = {k: request.form.get(k, "") for k in settings.FIELDS}
    try:
        settings.update_bank_details(user, forms.load(settings.BankDetailsInput(), form))
    except DomainError as exc:
        errors, status = forms.refused(exc)
        return _page(form, errors, status)
    flash(_("The bank details printed on invoices are saved."), "success")
    return redirect(url_for("settings.invoicing"))
