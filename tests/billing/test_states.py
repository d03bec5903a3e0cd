"""Billing's statuses change only through their declared tables, and the line's wiring is
made by ``install(app)``, not by importing it."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from jof.billing import pricing, services, states
from jof.core import charges
from jof.core.errors import Conflict
from jof.governance import effects

TABLES = [states.INVOICE, states.PERIOD, states.JOB]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.noun)
def test_every_undeclared_move_of_a_billing_table_is_a_409_naming_the_actions_open(table):
    illegal = table.illegal_moves()
    assert illegal  # each table refuses something (a closed period never reopens …)
    for status, action in illegal:
        obj = SimpleNamespace(status=table.states(status))
        with pytest.raises(Conflict) as refused:
            table.move(obj, action)
        assert refused.value.status == 409
        assert refused.value.extra == {"allowed_actions": table.actions_from(status)}
        assert obj.status == status  # unchanged


def test_the_declared_moves_of_billing():
    invoice = SimpleNamespace(status=states.InvoiceStatus.DRAFT)
    assert states.INVOICE.move(invoice, "issue") == ("draft", "issued")
    for action in ("record_payment", "credit"):  # an issued invoice stays issued
        assert states.INVOICE.move(invoice, action) == ("issued", "issued")
    period = SimpleNamespace(status=states.PeriodStatus.OPEN)
    assert states.PERIOD.move(period, "close") == ("open", "closed")
    for end in ("finish", "fail"):
        job = SimpleNamespace(status=states.JobStatus.QUEUED)
        states.JOB.move(job, "start")
        assert states.JOB.move(job, end)[1] == {"finish": "done", "fail": "failed"}[end]


def test_every_billing_status_a_person_reads_has_a_label():
    for enum in (states.Standing, states.PeriodStatus, states.JobStatus):
        for status in enum:
            assert status in states.LABELS, status


def test_importing_billing_registers_nothing():
    code = ("import jof.billing.api, jof.billing.views, jof.billing.jobs, jof.billing.cli\n"
            "from jof.core import charges\nfrom jof.governance import effects\n"
            "assert charges._after_record == [] and effects._freeze_guards == [], 'listeners'\n"
            "assert 'price_list' not in effects._APPLIERS, 'price_list'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_second_app_in_the_same_process_registers_each_listener_once(app):
    from jof import create_app

    second = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "SECRET_KEY": "another-test-key", "TESTING": True})
    assert "billing_status" in second.jinja_env.filters
    assert charges._after_record.count(services.on_record) == 1
    assert effects._freeze_guards.count(services.frozen) == 1
    assert effects._APPLIERS["price_list"] == (pricing.validate_decision, pricing.apply_decision)
