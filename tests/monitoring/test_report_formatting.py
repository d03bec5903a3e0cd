"""The monthly report and the board pack print money and shares through the formatting
layer, in the reader's language: grouped thousands, never exponent notation, never an
English decimal point in Portuguese, and the savings sources by their names, not codes.

The formatting crawl (tests/test_formatting_pages.py) cannot reach these PDFs (a form asks
for their month), so this test renders both, in English and Portuguese, with a month whose
invoices are large (USD 12,880,000.00), small (0.01) and negative (a credit of 1,234.56)."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from jof.core.db import db
from jof.core.pdf import render_pdf
from jof.core.people import Agency, User
from tests.monitoring.test_report import MANAGER, RC, text_of
from tests.test_formatting_pages import english_numbers, iso_dates, problems

LARGE, SMALL, CREDIT = Decimal("12880000.00"), Decimal("0.01"), Decimal("-1234.56")


def add_odd_invoices(app) -> None:
    """November invoices issued to UNDP (large), UNFPA (small) and UNOPS (a credit)."""
    from jof.billing.models import Invoice

    with app.app_context():
        for code, number, total in (("UNDP", "T-INV-21", LARGE), ("UNFPA", "T-INV-22", SMALL),
                                    ("UNOPS", "T-INV-23", CREDIT)):
            agency = db.session.scalar(select(Agency.id).where(Agency.code == code))
            db.session.add(Invoice(number=number, agency_id=agency, period=date(2026, 11, 1), status="issued",
                                   total_usd=total, issued_on=date(2026, 12, 3)))
        db.session.commit()
        db.session.remove()


def in_language(client, portuguese: bool):
    if portuguese:
        from tests.conftest import csrf_from

        token = csrf_from(client.get("/").get_data(as_text=True))
        client.post("/language", data={"locale": "pt_BR", "csrf_token": token})
    return client


def assert_read_as_numbers(text: str, portuguese: bool) -> None:
    assert problems(text) == [], problems(text)
    assert iso_dates(text, []) == [], iso_dates(text, [])  # the period's days in the reader's format
    if portuguese:
        assert english_numbers(text) == [], english_numbers(text)


@pytest.mark.parametrize("portuguese", [False, True], ids=["en", "pt_BR"])
def test_the_monthly_report_prints_large_small_and_negative_amounts_grouped_in_the_readers_language(
        app, month, web, portuguese):
    add_odd_invoices(app)
    text = text_of(in_language(web(MANAGER), portuguese).get("/monitoring/report.pdf?month=2026-11").data)
    assert_read_as_numbers(text, portuguese)
    total = LARGE + SMALL + CREDIT  # 12,878,765.45
    if portuguese:
        assert "Faturado: USD 12.878.765,45" in text
        assert "12.880.000,00" in text and "0,01" in text and "-1.234,56" in text
        assert "66,7" in text  # UNDP's share within target, with a Portuguese decimal comma
    else:
        assert f"Invoiced: USD {total:,}" in text
        assert "12,880,000.00" in text and "0.01" in text and "-1,234.56" in text
        assert "UNDP 3 2 1 66.7" in text


@pytest.mark.parametrize("portuguese", [False, True], ids=["en", "pt_BR"])
def test_the_board_pack_prints_the_facilitys_money_grouped_in_the_readers_language(app, month, web, portuguese):
    add_odd_invoices(app)
    text = text_of(in_language(web(RC), portuguese).get("/monitoring/board-pack.pdf?month=2026-11").data)
    assert_read_as_numbers(text, portuguese)
    assert ("12.878.765,45" if portuguese else "12,878,765.45") in text


@pytest.mark.parametrize("locale", ["en", "pt_BR"])
def test_the_reports_name_savings_sources_and_format_their_amounts(app, month, locale):
    """Savings need purchase orders of a joint tender and an LTA; their figures are set on
    the computed report so that both sources, and an amount of each size, are printed."""
    from flask_babel import force_locale

    from jof.monitoring import report

    savings = {"joint_tender": {"estimate_usd": Decimal("14500000.00"), "awarded_usd": Decimal("12880000.00"),
                                "savings_usd": Decimal("1620000.00")},
               "lta": {"estimate_usd": Decimal("0.01"), "awarded_usd": Decimal("1234.57"),
                       "savings_usd": Decimal("-1234.56")},
               "total_usd": Decimal("1618765.44")}
    with app.app_context(), app.test_request_context(), force_locale(locale):
        manager = db.session.scalar(select(User).where(User.email == MANAGER))
        built = dataclasses.replace(report.monthly(manager, date(2026, 11, 1)), savings=savings)
        monthly = text_of(render_pdf(report._render("monitoring/report_pdf.html", report=built)))
        pack = dataclasses.replace(report.board_pack(manager, date(2026, 11, 1)), savings=savings)
        from jof.governance.views import BOARD_LABELS

        board = text_of(render_pdf(report._render("monitoring/board_pack_pdf.html", pack=pack, labels=BOARD_LABELS)))
    for text in (monthly, board):
        assert_read_as_numbers(text, locale == "pt_BR")
        assert not re.search(r"\bjoint_tender\b|\blta\b", text)
    if locale == "pt_BR":
        assert "Licitações conjuntas 14.500.000,00 12.880.000,00 1.620.000,00" in monthly
        assert "Acordos de longo prazo 0,01 1.234,57 -1.234,56" in monthly
        assert "USD 1.618.765,44" in board
    else:
        assert "Joint tenders 14,500,000.00 12,880,000.00 1,620,000.00" in monthly
        assert "Long-term agreements 0.01 1,234.57 -1,234.56" in monthly
        assert "USD 1,618,765.44" in board
