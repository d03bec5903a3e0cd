"""Every page, PDF and export shows amounts and times through the one formatting layer.

The app is crawled as the manager and an agency requester, in English and Portuguese,
with a closed month whose charges hold large (USD 12,880,000.00 of fares, a unit price of
12,880.00, 1,000 seats), small (0.01) and negative (credited) amounts. Every page the
crawl reaches must be free of exponent notation (``1.288E+4``), of ungrouped thousands
(``USD 1450.0000``, ``84652.30``) and, in Portuguese, of an English decimal point next to
a currency; and calendar dates must be in the reader's format (``7 Dec 2026``, ``7 de dez.
de 2026``), not ISO, outside text recorded in English. The crawl also records which templates were rendered, and fails when a
template in the template folders was never rendered, so a new page is checked too.
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import template_rendered
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from jof.billing import invoices
from jof.billing.models import Invoice, PriceItem
from jof.core.db import db
from jof.core.money import CURRENCIES
from tests.billing.conftest import close, month, record, user  # noqa: F401  (month is a fixture)
from tests.procurement.conftest import Flow, requisition_body
from tests.travel.conftest import body as trip_body
from tests.travel.conftest import round_trip

MANAGER = "manager@jof.example"
REQUESTER = "requester@undp.jof.example"
#: Who crawls: every facility role and an agency's requester and head.
CRAWLERS = (MANAGER, "admin@jof.example", "procurement@jof.example", "travel@jof.example", "ict@jof.example",
            REQUESTER, "head@undp.jof.example")
ROOT = Path(__file__).resolve().parent.parent / "jof"

#: A number in exponent notation, as ``str(Decimal.normalize())`` prints it.
EXPONENT = re.compile(r"\d(?:\.\d+)?E[+-]?\d+")
#: Four or more digits before a decimal mark with no group separator: ``1450.0000``.
UNGROUPED = re.compile(r"(?<![\d.,])\d{4,}[.,]\d+")
#: A currency code followed by an ungrouped whole number: ``USD 84652``.
UNGROUPED_CODE = re.compile(rf"\b(?:{'|'.join(CURRENCIES)}) -?\d{{4,}}(?![-\d])")
#: In Portuguese, a currency code followed by an English-formatted number: ``BRL 1,234.56``.
ENGLISH_IN_PT = re.compile(rf"\b(?:{'|'.join(CURRENCIES)}) -?\d{{1,3}}(?:,\d{{3}})*\.\d{{2}}\b")
#: An element whose text is declared English (``lang="en"``), e.g. a recorded rule.
ENGLISH_ELEMENT = re.compile(r'(?s)<(?!html\b)(\w+)\b[^>]*\blang="en"[^>]*>.*?</\1>')
#: Links not worth following: leaving, switching language, assets, downloads checked apart.
SKIP = re.compile(r"^/(?:logout|static/|bootstrap/|language|api/)")
#: Pages that show stored values verbatim, as data rather than amounts to read: the audit
#: trail prints each recorded field exactly as it was written (``"amount": "12880.00"``).
#: A notification is written once, in its reader's language when it was raised: one raised
#: before the reader switched to Portuguese keeps its English numbers.
VERBATIM = {"/audit", "/notifications"}
#: Reached by a crawl that only reads: templates that answer a POST, error pages, and the
#: pieces included by others.
NOT_BY_CRAWL = {
    "error.html",  # every error; the tests of jof.web render it
    "billing/job.html",  # a job's page, after starting one by POST (tests/billing/test_jobs.py)
    "monitoring/job.html",  # likewise a report job's (tests/monitoring/test_report_jobs.py)
    # confirmations open from a button's form with the action's details, not from a link
    # (tests/core/test_confirm_transitions.py, tests/ict/test_confirmations.py, …)
    "core/confirm.html", "core/confirm_transition.html", "governance/confirm_close.html",
    "travel/confirm_cancel.html",
    "hr/recruitment.html",  # the crawl's month has no recruitment (tests/hr/test_views.py)
    # nor its panel, import page and recommendation report (tests/hr/test_panels.py,
    # test_import.py, test_recommendation.py reads the PDF's table)
    "hr/panel.html", "hr/import.html", "hr/recommendation_pdf.html",
    # the public vacancies, for people without an account (tests/hr/test_public.py)
    "hr/vacancies.html", "hr/apply.html",
    # the monthly report and board pack are asked for a month by a form: their amounts, in both
    # languages, are checked by tests/monitoring/test_report_formatting.py
    "monitoring/report_pdf.html", "monitoring/board_pack_pdf.html",
}


def visible_text(html: str) -> str:
    """The page's text without tags, attributes, scripts and styles (where numbers hide)."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html.replace("&nbsp;", " ").replace("\u202f", " "))


#: A calendar date printed as stored (``2026-11-30``) instead of in the reader's format.
ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")


def problems(text: str) -> list[str]:
    """Exponents and ungrouped thousands, in any language."""
    return [m.group(0) for pattern in (EXPONENT, UNGROUPED, UNGROUPED_CODE) for m in pattern.finditer(text)]


def recorded_sentences() -> list[str]:
    """Text written once and shown as it was recorded: request titles (typed, or composed
    by a line when the request was filed), adopted decisions' effects and the procurement
    rule a requisition was routed by. A date inside them stays as it was written."""
    from jof.core.workflow import ServiceRequest
    from jof.governance.models import DecisionEffect
    from jof.procurement.models import Requisition

    texts = [*db.session.scalars(select(ServiceRequest.title)), *db.session.scalars(select(DecisionEffect.summary)),
             *db.session.scalars(select(Requisition.method_rule))]
    return sorted((t for t in texts if t), key=len, reverse=True)


def iso_dates(text: str, recorded: list[str]) -> list[str]:
    """Calendar dates printed as stored rather than in the reader's format, outside text
    recorded in English (PDF text runs its lines together, so spaces are evened out)."""
    text = " ".join(text.split())
    for sentence in recorded:
        text = text.replace(" ".join(sentence.split()), " ")
    return [m.group(0) for m in ISO_DATE.finditer(text)]


def english_numbers(text: str) -> list[str]:
    """Amounts written the English way (``USD 1,234.56``), wrong on a Portuguese page."""
    return [m.group(0) for m in ENGLISH_IN_PT.finditer(text)]


def shape(path: str) -> str:
    """``/billing/invoices/17`` and ``/billing/invoices/18`` are the same kind of page."""
    return re.sub(r"\d+", "N", path)


@pytest.fixture
def busy_month(app, month):  # noqa: F811 - the billing month fixture, extended
    """The billing test month, plus large, tiny and credited amounts, closed and issued."""
    with app.app_context():
        d = month.period.replace(day=14)
        for item in db.session.scalars(select(PriceItem).where(PriceItem.code == "itb_process")):
            item.amount = Decimal("12880.0000")  # a unit price Decimal.normalize() prints as 1.288E+4
        record("UNESCO", "PRC-LARGE/itb", "itb_process", "procurement", on=d)
        record("UNDP", "TRV-LARGE/fare", "air_fare", "travel", value="12880000.00", on=d, kind="pass_through")
        record("UNDP", "TRV-LARGE2/fare", "air_fare", "travel", value="12880.00", on=d, kind="pass_through")
        record("UNDP", "TRV-SMALL/fare", "air_fare", "travel", value="0.01", on=d, kind="pass_through")
        record("UNESCO", "ICT-SUB-9/seats", "email_account", "ict", qty="1000", on=d)
        db.session.commit()
    ids = close(app, month, issue=("UNDP", "UNESCO"))
    with app.app_context():
        manager = user(MANAGER)
        invoices.credit_note(manager, db.session.get(Invoice, ids["UNDP"]), amount=Decimal("1234.56"),
                             reason="Fare refunded")
        db.session.commit()
    return ids


@pytest.fixture
def every_kind_of_page(app, api, busy_month):
    """A request of each line with large amounts: requisitions of USD 14,500,000 pooled in a
    tender, bid at 1,288,000.0000 a unit, awarded into orders and an LTA; a trip; an ICT
    subscription of 1,000 seats and a ticket."""
    flow = Flow(api, app)
    big = requisition_body(qty="1000", price="14500.0000", title="Vehicles")
    refs = [flow.approved("undp", big), flow.approved("unfpa", requisition_body(qty="3", price="6500.00",
                                                                                currency="BRL"))]
    alfa = flow.supplier("Alfa Comércio", "10.000.000/0001-01")
    tender = flow.tender(refs)
    flow.publish(tender["id"])
    assert flow.bid(tender["id"], alfa, "12880.0000", "90").status_code == 201
    flow.close(tender["id"])
    url = f"/api/v1/procurement/tenders/{tender['id']}/lots/1"
    winner = flow.officer.get(f"{url}/evaluation").get_json()["winner_bid_id"]
    assert flow.manager.post(f"{url}/committee").status_code == 200  # above USD 200,000
    r = flow.officer.post(f"{url}/award", json={"bid_id": winner, "justification": "Only compliant offer"})
    assert r.status_code == 201, r.get_json()
    r = flow.officer.post(f"{url}/lta", json={"ceiling_usd": "50000000.00"})
    assert r.status_code == 201, r.get_json()
    legs = round_trip()
    first_night = legs[0]["depart_at"][:10]
    r = api(REQUESTER).post("/api/v1/travel/requests", json=trip_body(legs, provisions=[
        {"from_night": first_night, "accommodation": True}]))  # a night the host provides
    assert r.status_code == 201, r.get_json()
    order = flow.officer.get("/api/v1/procurement/purchase-orders").get_json()["items"][0]["number"]
    r = flow.officer.post(f"/api/v1/procurement/purchase-orders/{order}/receipts", json={"rating": 4})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        for code in ("UNDP", "UNESCO"):  # a payment on each issued invoice
            inv = db.session.get(Invoice, busy_month[code])
            invoices.record_payment(user(MANAGER), inv, paid_on=inv.issued_on, amount=Decimal("100.00"),
                                    reference=f"BANK-REF-{code}")
        db.session.commit()
    r = api(REQUESTER).post("/api/v1/ict/subscriptions", json={"service": "email_account", "seats": 1000,
                                                               "starts_on": "2026-04-16"})
    assert r.status_code == 201, r.get_json()
    r = api(REQUESTER).post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident", "category": "email",
        "service": "email_account", "urgency": "high", "impact": "high"})
    assert r.status_code == 201, r.get_json()
    return busy_month


def crawl(client, portuguese: bool, seen_templates: set[str], limit_per_shape: int = 2,
          recorded: list[str] = ()) -> dict[str, list[str]]:
    """Follow every link from the dashboard; the problems found, by page."""
    if portuguese:
        from tests.conftest import csrf_from

        token = csrf_from(client.get("/").get_data(as_text=True))
        client.post("/language", data={"locale": "pt_BR", "csrf_token": token})
    queue, visited, shapes, bad = ["/"], set(), {}, {}
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        kind = shape(urlsplit(path).path)
        if shapes.get(kind, 0) >= limit_per_shape:
            continue
        shapes[kind] = shapes.get(kind, 0) + 1
        r = client.get(path, follow_redirects=True)
        if r.status_code != 200:
            continue
        if urlsplit(path).path in VERBATIM:
            continue
        if r.mimetype == "application/pdf":
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
        elif r.mimetype == "text/html":
            html = r.get_data(as_text=True)
            text = visible_text(html)
            for href in re.findall(r'href="([^"#]+)"', html):
                href = href.replace("&amp;", "&")
                if href.startswith("/") and not SKIP.match(href) and href not in visited:
                    queue.append(href)
        else:
            continue
        found = problems(text)
        found += iso_dates(visible_text(ENGLISH_ELEMENT.sub(" ", html)) if r.mimetype == "text/html" else text, recorded)
        if portuguese:  # text declared English (a recorded English sentence) keeps English numbers
            found += english_numbers(visible_text(ENGLISH_ELEMENT.sub(" ", html)) if r.mimetype == "text/html" else text)
        if found:
            bad[path] = found
    return bad


def templates_in_folders() -> set[str]:
    names = set()
    for folder in ROOT.rglob("templates"):
        for f in folder.rglob("*.html"):
            name = f.relative_to(folder).as_posix()
            if not Path(name).name.startswith("_") and name != "base.html":
                names.add(name)
    return names


@pytest.mark.parametrize("portuguese", [False, True], ids=["en", "pt_BR"])
def test_every_page_shows_amounts_grouped_and_dates_in_the_readers_format(app, web, every_kind_of_page, portuguese):
    rendered: set[str] = set()

    def remember(sender, template, context, **extra):
        rendered.add(template.name)

    template_rendered.connect(remember, app)
    try:
        bad = {}
        for email in CRAWLERS:
            with app.app_context():
                recorded = recorded_sentences()
            bad |= crawl(web(email), portuguese, rendered, recorded=recorded)
    finally:
        template_rendered.disconnect(remember, app)
    for path, found in sorted(bad.items()):
        print(path, found)
    assert bad == {}
    missing = templates_in_folders() - rendered - NOT_BY_CRAWL
    assert sorted(missing) == [], "templates no page of the crawl rendered"


def pdf_text(client, invoice_id: int) -> str:
    r = client.get(f"/billing/invoices/{invoice_id}.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)


def test_invoice_pdf_prints_the_unit_price_grouped_and_the_bank_details(app, web, busy_month):
    with app.app_context():
        number = db.session.get(Invoice, busy_month["UNESCO"]).number
    c = web(MANAGER)
    text = pdf_text(c, busy_month["UNESCO"])
    assert "12,880.00" in text  # the unit price of the ITB process, grouped
    assert "1,015" in text and "12,180.00" in text  # 1,015 email seats at 12.00
    assert problems(text) == []
    assert "BR15 0000 0000 0000 1093 2840 814P 2" in text and "DEMOBRDFXXX" in text
    assert f"{number} / UNESCO" in text  # the demo's payment reference, filled in
    large = pdf_text(c, busy_month["UNDP"])
    assert "12,895,320.12" in large and "USD 3,333.33" in large and problems(large) == []


def test_portuguese_invoice_statement_and_price_list_read_in_portuguese_with_portuguese_numbers(app, web, busy_month):
    from tests.conftest import csrf_from

    c = web(MANAGER)
    c.post("/language", data={"locale": "pt_BR", "csrf_token": csrf_from(c.get("/").get_data(as_text=True))})
    text = visible_text(c.get(f"/billing/invoices/{busy_month['UNDP']}").get_data(as_text=True))
    assert "12.895.320,12" in text and "Tarifa aérea" in text
    assert re.search(r"BRL \d{1,3}(\.\d{3})+,\d{2}", text)  # the local-currency total, grouped
    assert "Emitida" in text and "Issued" not in text  # the invoice's standing, in Portuguese
    assert "Parcela do fundo de custos de instalações (USD 3.333,33)" in text
    statement = visible_text(c.get("/billing/statements/UNDP").get_data(as_text=True))
    assert "Fatura de" in statement and "Invoice for" not in statement
    prices = visible_text(c.get("/billing/price-list").get_data(as_text=True))
    assert "Emissão de passagem" in prices and "por passagem" in prices and "USD 35,00" in prices


def test_statement_exports_write_plain_decimals_and_numeric_cells(app, web, busy_month):
    c = web(MANAGER)
    csv_text = c.get("/billing/statements/UNDP.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    amounts = [row[k] for row in rows for k in ("debit_usd", "credit_usd", "balance_usd")]
    assert amounts and all(re.fullmatch(r"-?\d+\.\d{2}", a) for a in amounts), amounts
    assert any(len(a) >= 11 for a in amounts)  # the eight-figure balance, as plain digits
    book = load_workbook(io.BytesIO(c.get("/billing/statements/UNDP.xlsx").data))
    numbers = [cell for row in book.active.iter_rows() for cell in row if isinstance(cell.value, (int, float, Decimal))
               and cell.row > 4]
    assert numbers and all(cell.number_format == "#,##0.00" for cell in numbers)


def test_invoice_page_shows_bank_details_and_the_payment_reference(app, web, busy_month):
    c = web("manager@jof.example")
    html = c.get(f"/billing/invoices/{busy_month['UNDP']}").get_data(as_text=True)
    with app.app_context():
        number = db.session.get(Invoice, busy_month["UNDP"]).number
    assert "BR15 0000 0000 0000 1093 2840 814P 2" in html and "DEMOBRDFXXX" in html
    assert f"{number} / UNDP" in html


def test_portuguese_invoice_pdf_explains_each_cost_share_with_names_de_and_portuguese_percentages(app, web,
                                                                                                 busy_month):
    from tests.conftest import csrf_from

    c = web(MANAGER)
    c.post("/language", data={"locale": "pt_BR", "csrf_token": csrf_from(c.get("/").get_data(as_text=True))})
    text = " ".join(pdf_text(c, busy_month["UNDP"]).split())
    start = text.index("Como foi calculada")
    shares = text[start:text.index("Instruções", start)]
    assert not re.search(r"\b(?:premises|staff|equal|headcount|usage_count|usage_value|fixed)\b", shares), shares
    assert " of " not in shares and " de " in shares
    assert "instalações" in shares
    assert not re.search(r"\d\.\d+%", shares) and re.search(r"\d,\d+%", shares), shares
    assert not re.search(r"\b\d{4}-\d{2}-\d{2}\b", text)  # the invoice's dates, in the reader's format
