"""What a reader sees for an invoice line, a price-list item and a cost pool, in their
language.

An invoice line keeps the English description it was issued with (the record); the page
and the PDF describe it again from its structured fields (kind, item code, quantity, the
cost-sharing explanation) in the reader's language, with amounts through
``jof.core.formatting``. An item code JOF does not know keeps its stored wording.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext, ngettext

from jof.core.formatting import money, percent, quantity

#: How billing words a pass-through line when it drafts the invoice (billing.services).
_PASS_THROUGH = re.compile(r"(.*) \(pass-through cost, (\d+) items?\)")

#: The price list's items and the pass-through costs the lines record.
ITEMS = {
    "ticket_issuance": "Ticket issuance",
    "ticket_fare": "Air fare",
    "air_fare": "Air fare",
    "ticket_cancellation": "Ticket cancellation",
    "rfq_process": "Request for quotation process",
    "itb_process": "Invitation to bid / request for proposals process",
    "lta_call_off": "Call-off against a long-term agreement",
    "email_account": "Email account",
    "connectivity": "Connectivity",
    "shared_printing": "Shared printing",
    "laptop_setup": "Laptop set-up",
    "micro_purchase": "Micro-purchase handling",
    "recruitment_fixed_term": "Recruitment: fixed-term appointment",
    "recruitment_temporary": "Recruitment: temporary appointment",
    "recruitment_service_contract": "Recruitment: service contract",
    "recruitment_individual_contractor": "Recruitment: individual contractor",
    "roster_hire": "Hire from a roster",
}

UNITS = {
    "per ticket": "per ticket",
    "per process": "per process",
    "per call-off": "per call-off",
    "per seat per month": "per seat per month",
    "per laptop": "per laptop",
    "per recruitment": "per recruitment",
    "% of value": "percentage of value",
}

POOLS = {
    "staff": "staff",
    "premises": "premises",
    "ict_infrastructure": "ICT infrastructure",
    "other": "other",
}


#: The cost-sharing key's methods (governance's allocation codes).
METHODS = {
    "equal": "Equal share",
    "headcount": "Headcount",
    "usage_count": "Number of requests",
    "usage_value": "Value of requests",
    "fixed": "Fixed weights",
}


def item_name(code: str, stored: str = "") -> str:
    """The item's name in the reader's language, unless the board worded it otherwise."""
    english = ITEMS.get(code or "")
    if english is not None and (not stored or stored in (english, code.replace("_", " "))):
        return gettext(english)
    return stored or (code or "").replace("_", " ")


def unit_name(unit: str) -> str:
    return gettext(UNITS[unit]) if unit in UNITS else (unit or "")


def pool_name(category: str) -> str:
    return gettext(POOLS[category]) if category in POOLS else (category or "").replace("_", " ")


def line_description(line) -> str:
    """An invoice line described in the reader's language (the ``invoice_line`` filter)."""
    if line.kind == "cost_share":
        e = line.explanation or {}
        category = e.get("pool") or line.item_code
        if e.get("pool_amount") is None:
            return line.description
        return gettext("Share of the %(pool)s cost pool (%(amount)s)", pool=pool_name(category),
                       amount=money(e["pool_amount"]))
    english = ITEMS.get(line.item_code or "")
    if english is None:
        return line.description
    if line.kind == "pass_through":
        found = _PASS_THROUGH.fullmatch(line.description or "")
        if found and found.group(1) in (english, line.item_code.replace("_", " ")):
            count = int(found.group(2))
            if count == 1:
                return gettext("%(name)s (pass-through cost, 1 item)", name=gettext(english))
            return gettext("%(name)s (pass-through cost, %(num)d items)", num=count, name=gettext(english))
        return line.description
    return item_name(line.item_code, line.description)


_STATEMENT = {
    "invoice": (re.compile(r"Invoice for (?P<month>\d{4}-\d{2})"), "Invoice for %(month)s"),
    "credit_note": (re.compile(r"(?s)Credit note on (?P<invoice>\S+): (?P<reason>.*)"),
                    "Credit note on %(invoice)s: %(reason)s"),
    "payment": (re.compile(r"Payment of (?P<invoice>\S+)"), "Payment of %(invoice)s"),
}


def statement_entry(entry) -> str:
    """A statement line's description in the reader's language (the ``statement_entry``
    filter); the statement itself (API, CSV, workbook) keeps the English wording."""
    pattern, msgid = _STATEMENT.get(entry.kind, (None, None))
    found = pattern.fullmatch(entry.description or "") if pattern else None
    return gettext(msgid, **found.groupdict()) if found else entry.description



def share_terms(explanation: dict | None) -> str:
    """How a cost share was weighed, in the reader's language: ``Headcount 60%: 120 of
    300; …`` from the allocation's structured terms. An explanation stored before the
    terms were recorded keeps its recorded wording."""
    e = explanation or {}
    terms = e.get("terms")
    if terms is None:
        return "; ".join(f"{m} {w}: {e.get('inputs', {}).get(m, '')}" for m, w in (e.get("weights") or {}).items())
    return "; ".join(
        gettext("%(method)s %(percent)s: %(input)s of %(total)s",
                method=gettext(METHODS[m]) if m in METHODS else m, percent=percent(t["percent"]),
                input=quantity(t["input"]), total=quantity(t["total"]))
        for m, t in terms.items())


def share_of_pool(explanation: dict | None) -> str:
    """The agency's share of the pool as a percentage in the reader's format."""
    e = explanation or {}
    if e.get("share_percent") is not None:
        return percent(e["share_percent"])
    return e.get("share_of_pool") or ""


def job_outcome(job) -> str:
    """What a billing job did (or is doing), in the reader's language, from its kind, its
    status and its structured result; the stored ``message`` stays the record (the API's
    English text) and, for a failure, the reason."""
    result, month = job.result or {}, (job.params or {}).get("period", "")
    if job.status == "queued":
        return gettext("Waiting for a worker.")
    if job.status == "running":
        return gettext("Running: %(done)s of %(total)s.", done=job.done, total=job.total)
    if job.status == "done" and job.kind == "close_period" and "invoices" in result:
        n = int(result["invoices"])
        return ngettext("Period %(month)s closed: %(num)d draft invoice, total %(total)s.",
                        "Period %(month)s closed: %(num)d draft invoices, total %(total)s.",
                        n, month=month, total=money(Decimal(str(result.get("total_usd", "0")))))
    if job.status == "done" and job.kind == "render_period" and "invoices" in result:
        n = int(result["invoices"])
        return ngettext("%(num)d invoice PDF of %(month)s rendered.", "%(num)d invoice PDFs of %(month)s rendered.",
                        n, month=month)
    return job.message or ""
