"""The formatting layer: amounts by locale with the currency's decimals, unit prices and
rates without exponents, times in the facility's zone (jof.core.formatting)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from jof.core import formatting as f
from jof.core.db import db
from jof.core.errors import Conflict
from jof.core.notifications import Notification
from jof.governance import decisions
from tests.governance.conftest import PARTNER, board, head_email, pages  # noqa: F401  (fixtures)

SP = ZoneInfo("America/Sao_Paulo")


@pytest.mark.parametrize(("value", "currency", "locale", "expected"), [
    (Decimal("12880000"), "USD", "en", "USD 12,880,000.00"),
    (Decimal("84652.3"), "BRL", "pt_BR", "BRL 84.652,30"),
    (Decimal("-1200"), "USD", "en", "USD -1,200.00"),
    (Decimal("-1200"), "USD", "pt_BR", "USD -1.200,00"),
    (Decimal("0.005"), "USD", "en", "USD 0.01"),  # half up, as jof.core.money.quantize
    (Decimal("-0.001"), "USD", "en", "USD 0.00"),  # never "-0.00"
    (Decimal("1.2E+3"), "USD", "en", "USD 1,200.00"),
    (Decimal("150000.4"), "CLP", "en", "CLP 150,000"),  # the peso has no minor unit
    (None, "USD", "en", "—"),
])
def test_money_is_the_code_and_the_locales_number_with_the_currencys_decimals(value, currency, locale, expected):
    assert f.money(value, currency, locale) == expected


@pytest.mark.parametrize(("value", "locale", "expected"), [
    (Decimal("12880.0000").normalize(), "en", "12,880.00"),
    (Decimal("12880.0000"), "pt_BR", "12.880,00"),
    (Decimal("0.0125"), "en", "0.0125"),
    (Decimal("1E-4"), "en", "0.0001"),
    (Decimal("-1450"), "en", "-1,450.00"),
])
def test_unit_prices_keep_two_to_four_decimals_grouped(value, locale, expected):
    assert f.unit_price(value, locale=locale) == expected


def test_rates_quantities_and_percentages_have_their_own_precision():
    assert f.rate(Decimal("5.360000"), "pt_BR") == "5,36"
    assert f.rate(Decimal("0.921234"), "en") == "0.921234"
    assert f.quantity(Decimal("1000.0000").normalize(), "en") == "1,000"
    assert f.quantity(Decimal("2.5"), "pt_BR") == "2,5"
    assert f.percent(Decimal("2.50"), "en") == "2.5%"
    assert f.plain(Decimal("1.288E+4")) == "12880" and f.plain(Decimal("-1E-7")) == "-0.0000001"


@settings(max_examples=300, deadline=None)
@given(st.decimals(min_value=Decimal("-1E12"), max_value=Decimal("1E12"), allow_nan=False, allow_infinity=False,
                   places=4), st.sampled_from(["en", "pt_BR"]))
def test_no_amount_is_ever_written_with_an_exponent(value, locale):
    for text in (f.money(value, "USD", locale), f.unit_price(value.normalize(), locale=locale),
                 f.quantity(value, locale), f.rate(value, locale), f.plain(value.normalize())):
        assert "E" not in text, text


def test_calendar_dates_read_in_the_locale_whether_a_date_or_a_recorded_iso_string():
    from datetime import date

    assert f.local_date(date(2026, 12, 1), locale="en") == f.local_date("2026-12-01", locale="en") == "Dec 1, 2026"
    assert f.local_date("2026-12-01", locale="pt_BR") == "1 de dez. de 2026"
    assert f.local_date(None) == f.local_date("") == f.EMPTY


def test_times_are_the_facilitys_with_the_offset_where_asked():
    moment = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
    assert f.local_dt(moment, locale="pt_BR", tz=SP) == "07/12/2026 12:30"
    assert f.local_dt(moment, zone=True, locale="pt_BR", tz=SP) == "07/12/2026 12:30 (UTC-03:00)"
    assert f.facility_time(moment, tz=SP) == "2026-12-07 12:30 (UTC-03:00)"
    assert f.facility_time(moment, tz=ZoneInfo("UTC")) == "2026-12-07 15:30 (UTC)"
    assert f.zone_label(moment, ZoneInfo("Asia/Kolkata")) == "UTC+05:30"


def test_the_vote_notification_names_the_closing_time_in_the_facilitys_zone(board):  # noqa: F811
    decision = board.open(closes_in=timedelta(days=7))
    message = db.session.scalars(select(Notification.message).where(
        Notification.link == f"/governance/decisions/{decision.id}")).first()
    local = decision.closes_at.astimezone(SP)
    assert f"closes {local:%Y-%m-%d %H:%M} (UTC-03:00)" in message and " UTC)" not in message


def test_the_early_close_refusal_names_the_closing_time_in_the_facilitys_zone(board):  # noqa: F811
    decision = board.open(closes_in=timedelta(days=7))
    with pytest.raises(Conflict) as refused:
        decisions.close(decision.id, None, now=decision.closes_at - timedelta(days=1))
    assert f"{decision.closes_at.astimezone(SP):%Y-%m-%d %H:%M} (UTC-03:00)" in refused.value.detail


def test_the_resolution_pdf_dates_the_close_in_the_facilitys_zone(pages, web):  # noqa: F811
    def decide(b):
        decision = b.open(title="Saturday opening")
        b.votes(decision, yes=5, no=1)
        closed = b.close(decision)
        return decision.id, closed.closed_at

    decision_id, closed_at = pages(decide)
    r = web(head_email(PARTNER)).get(f"/governance/resolutions/{decision_id}.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "(UTC-03:00)" in text and " UTC " not in text
