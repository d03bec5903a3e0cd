"""The monthly report and the board pack (issue 12): PDFs whose text holds the known
answers of a hand-made month (SLA compliance and invoice total per agency; each closed
decision's number, outcome label and tally), the ``jof report`` commands, and who may
download them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from jof.core.db import db
from jof.core.people import Agency, User
from jof.governance.models import Decision

MANAGER = "manager@jof.example"
RC = "rc@jof.example"
UNDP_HEAD = "head@undp.jof.example"
UNDP_REQUESTER = "requester@undp.jof.example"
AUDITOR = "auditor@jof.example"


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(BytesIO(pdf)).pages)


def add_invoices(app) -> None:
    """November invoices: UNDP 1,234.56 and UNFPA 10.00 issued, UNOPS 99.99 still a draft."""
    from jof.billing.models import Invoice

    with app.app_context():
        ids = {c: db.session.scalar(select(Agency.id).where(Agency.code == c)) for c in ("UNDP", "UNFPA", "UNOPS")}
        for code, number, total, status in (("UNDP", "T-INV-11", "1234.56", "issued"),
                                            ("UNFPA", "T-INV-12", "10.00", "issued"),
                                            ("UNOPS", None, "99.99", "draft")):
            db.session.add(Invoice(number=number, agency_id=ids[code], period=date(2026, 11, 1), status=status,
                                   total_usd=Decimal(total), issued_on=date(2026, 12, 3) if number else None))
        db.session.commit()
        db.session.remove()


def add_decisions(app) -> dict:
    """Two decisions closed in November 2026 (adopted 4–1–1, rejected 1–3 with 2 not
    voting), one closed in October, one open."""
    with app.app_context():
        def closed(title, number, outcome, tally, when):
            db.session.add(Decision(title=title, kind="general", status="closed", resolution_number=number,
                                    outcome=outcome, tally=tally, closed_at=when,
                                    opened_at=when - timedelta(days=7), closes_at=when))

        base = {"voting_members": 6, "quorum_met": True}
        closed("Extend the opening hours", "RES-2026-041", "adopted",
               base | {"yes": 4, "no": 1, "abstain": 1, "not_voted": 0, "outcome": "adopted"},
               datetime(2026, 11, 10, 15, 0, tzinfo=UTC))
        closed("Buy a second shuttle", "RES-2026-042", "rejected",
               base | {"yes": 1, "no": 3, "abstain": 0, "not_voted": 2, "outcome": "rejected"},
               datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
        closed("An October matter", "RES-2026-039", "adopted",
               base | {"yes": 6, "no": 0, "abstain": 0, "not_voted": 0, "outcome": "adopted"},
               datetime(2026, 10, 20, 15, 0, tzinfo=UTC))
        db.session.add(Decision(title="Adopt the 2027 budget", kind="budget", status="open",
                                opened_at=datetime(2026, 11, 28, 12, 0, tzinfo=UTC), closes_at=datetime(2026, 12, 15, 12, 0, tzinfo=UTC)))
        db.session.commit()
        db.session.remove()


def test_the_monthly_report_holds_the_month_each_agencys_compliance_and_invoice_total(app, month, web):
    add_invoices(app)
    response = web(MANAGER).get("/monitoring/report.pdf?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "jof-monthly-report-2026-11.pdf" in response.headers["Content-Disposition"]
    text = text_of(response.data)
    assert "Monthly report: 2026-11" in text
    # UNDP: 2 h and 12 h within the 50 h target, 72 h over it; UNFPA: 10 h within.
    assert "UNDP 3 2 1 66.7" in text
    assert "UNFPA 1 1 0 100.0" in text
    assert "SLA compliance, facility: 75.0 %" in text
    # Invoices of November issued: UNDP 1,234.56 and UNFPA 10.00; a draft is not invoiced.
    assert "1,234.56" in text and "10.00" in text
    assert "Total 1,244.56" in text
    assert "99.99" not in text
    # Services and steps by their labels, never their codes.
    assert "micro_purchase" not in text and "Late step" in text


def test_the_monthly_report_draws_the_dashboard_charts_with_their_style_inline(app, month):
    from jof.monitoring import report

    with app.app_context(), app.test_request_context():
        manager = db.session.scalar(select(User).where(User.email == MANAGER))
        built = report.monthly(manager, date(2026, 11, 1))
        assert [c.key for c in built.charts] == ["compliance", "volumes"]
        assert all("<svg" in c.svg and "<style" in c.svg for c in built.charts)


def test_the_board_pack_holds_each_closed_decisions_number_outcome_label_and_tally(app, month, web):
    add_decisions(app)
    add_invoices(app)
    response = web(RC).get("/monitoring/board-pack.pdf?month=2026-11")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = text_of(response.data)
    assert "RES-2026-041 Extend the opening hours Adopted 4 1 1 0" in text
    assert "RES-2026-042 Buy a second shuttle Rejected 1 3 0 2" in text
    assert "RES-2026-039" not in text  # closed in October, outside the period
    assert "Adopt the 2027 budget Budget" in text  # open: kind by its label
    assert "adopted" not in text and "rejected" not in text  # labels, never codes
    assert "UNDP 3 1 66.7" in text and "UNFPA 1 0 100.0" in text
    # Money is facility-wide only: the total invoiced, no agency's own invoice figure.
    assert "1,244.56" in text
    assert "1,234.56" not in text


def test_a_board_pack_of_three_months_takes_the_decisions_closed_in_them(app, month, web):
    add_decisions(app)
    text = text_of(web(MANAGER).get("/monitoring/board-pack.pdf?month=2026-11&months=3").data)
    assert "RES-2026-039" in text and "RES-2026-041" in text and "Period: Sep 1, 2026 – Nov 30, 2026" in text


def test_an_agency_head_gets_the_same_board_pack_as_the_board(app, month, web):
    add_decisions(app)
    add_invoices(app)
    head = text_of(web(UNDP_HEAD).get("/monitoring/board-pack.pdf?month=2026-11").data)
    rc = text_of(web(RC).get("/monitoring/board-pack.pdf?month=2026-11").data)
    assert head == rc
    assert "10.00" not in head.replace("1,244.56", "")  # UNFPA's invoice stays UNFPA's


def test_a_requester_gets_neither_the_report_nor_the_pack(app, month, web, api):
    client = web(UNDP_REQUESTER)
    assert client.get("/monitoring/report.pdf?month=2026-11").status_code == 403
    assert client.get("/monitoring/board-pack.pdf?month=2026-11").status_code == 403
    page = client.get("/monitoring/").get_data(as_text=True)
    assert "/monitoring/reports/" not in page


def test_an_agency_head_gets_the_pack_but_not_the_monthly_report(app, month, web):
    client = web(UNDP_HEAD)
    assert client.get("/monitoring/report.pdf?month=2026-11").status_code == 403
    page = client.get("/monitoring/").get_data(as_text=True)
    assert "/monitoring/reports/board_pack" in page and "/monitoring/reports/monthly_report" not in page


def test_the_manager_dashboard_offers_both_reports_as_jobs(app, month, web):
    page = web(MANAGER).get("/monitoring/?start=2026-11-01&end=2026-11-30").get_data(as_text=True)
    assert 'method="post" action="/monitoring/reports/monthly_report"' in page
    assert 'method="post" action="/monitoring/reports/board_pack"' in page
    assert 'value="2026-11"' in page


def test_a_malformed_month_is_refused_naming_it(app, month, web):
    response = web(MANAGER).get("/monitoring/report.pdf?month=November")
    assert response.status_code == 422
    assert web(MANAGER).get("/monitoring/board-pack.pdf?month=2026-11&months=40").status_code == 422


@pytest.mark.parametrize("url", ["/monitoring/report.pdf?month=9999-12", "/monitoring/report.pdf?month=0001-01",
                                 "/monitoring/board-pack.pdf?month=9999-12",
                                 "/monitoring/board-pack.pdf?month=0001-01&months=2",
                                 "/monitoring/report.pdf?month=1999-12"])
def test_a_month_out_of_range_is_refused_naming_it(app, month, web, url):
    response = web(MANAGER).get(url)
    assert response.status_code == 422
    assert "Give a month as YYYY-MM, from 2000-01 to" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["start=9999-01-01", "end=9999-12-31", "start=0001-01-01", "end=0001-01-31",
                                   "start=0001-01-01&end=9999-12-31"])
def test_a_dashboard_period_out_of_range_is_refused_on_every_monitoring_url(app, month, web, api, query):
    assert web(MANAGER).get(f"/monitoring/?{query}").status_code == 422
    for fmt in ("csv", "xlsx"):
        assert web(MANAGER).get(f"/monitoring/export/agencies.{fmt}?{query}").status_code == 422
    body = api(MANAGER).get(f"/api/v1/monitoring/dashboard?{query}")
    assert body.status_code == 422
    errors = body.get_json()["errors"]
    assert errors and {k.split(".")[-1] for k in errors} <= {"start", "end"}, errors


@pytest.mark.parametrize("command", [["report", "monthly", "9999-12"], ["report", "monthly", "0001-01"],
                                     ["report", "board", "9999-12"], ["report", "board", "0001-01", "--months", "2"]])
def test_the_report_commands_refuse_a_month_out_of_range_with_a_usage_error(app, month, tmp_path, command):
    out = tmp_path / "x.pdf"
    result = app.test_cli_runner().invoke(args=[*command, "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()
    assert "from 2000-01 to" in result.output and "Traceback" not in result.output


def test_the_report_commands_write_the_pdfs(app, month, tmp_path):
    add_invoices(app)
    add_decisions(app)
    runner = app.test_cli_runner()
    out = tmp_path / "nov.pdf"
    result = runner.invoke(args=["report", "monthly", "2026-11", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = text_of(out.read_bytes())
    assert "Monthly report: 2026-11" in text and "UNDP 3 2 1 66.7" in text and "1,234.56" in text
    pack = tmp_path / "pack.pdf"
    result = runner.invoke(args=["report", "board", "2026-11", "--out", str(pack)])
    assert result.exit_code == 0, result.output
    assert "RES-2026-042 Buy a second shuttle Rejected 1 3 0 2" in text_of(pack.read_bytes())


def test_the_report_command_refuses_a_reader_who_may_not_read_it(app, month, tmp_path):
    out = tmp_path / "no.pdf"
    result = app.test_cli_runner().invoke(args=["report", "monthly", "2026-11", "--out", str(out),
                                                "--as", UNDP_REQUESTER])
    assert result.exit_code == 1 and not out.exists()
    result = app.test_cli_runner().invoke(args=["report", "monthly", "Nov", "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()

