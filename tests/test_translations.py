"""Portuguese (Brazil), the facility's second language (DESIGN §9): the catalogue translates
every string with its placeholders intact, and a pt_BR user reads each line in Portuguese."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from babel.messages.pofile import read_po
from sqlalchemy import select

from jof.core import services
from jof.core.db import db
from jof.core.people import User
from tests.conftest import csrf_from

PO = Path(__file__).resolve().parents[1] / "jof" / "translations" / "pt_BR" / "LC_MESSAGES" / "messages.po"

#: msgids that may stay empty in pt_BR (none today; name each one and say why if ever needed).
UNTRANSLATED_ALLOWED: set[str] = set()

REQUESTER = "requester@undp.jof.example"
HEAD = "head@undp.jof.example"
ICT = "ict@jof.example"
MANAGER = "manager@jof.example"

# Python's %-format placeholders: %(name)s, %d, %% ...
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


def _catalog():
    with PO.open("rb") as src:
        return read_po(src, locale="pt_BR")


@pytest.fixture(scope="module")
def compiled_catalog():
    """``make translations`` compiles the catalogue; do it here too when it is missing or old."""
    from babel.messages.mofile import write_mo

    mo = PO.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_mtime < PO.stat().st_mtime:
        with mo.open("wb") as out:
            write_mo(out, _catalog())


@pytest.fixture
def pt_br(app, web, compiled_catalog):
    """``pt_br(email)``: a logged-in client of a user whose language is Portuguese (Brazil)."""

    def for_user(email: str):
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            services.set_locale(user, "pt_BR", app.config["JOF_LANGUAGES"])
            db.session.commit()
        return web(email)

    return for_user


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


# --- the catalogue -------------------------------------------------------------------------


def test_every_message_of_the_catalogue_is_translated():
    catalog = _catalog()
    missing = []
    for message in catalog:
        if not message.id or message.id in UNTRANSLATED_ALLOWED:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id)
    assert missing == []
    assert len(catalog) > 600  # the whole catalogue was read, not an empty file


def test_translations_keep_the_placeholders_of_the_english_text():
    """A lost or renamed ``%(name)s`` breaks the page (KeyError) only for Portuguese readers."""
    wrong = []
    for message in _catalog():
        if not message.id or not message.python_format:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = {p for i in ids for p in PLACEHOLDER.findall(i) if p != "%%"}
        for s in strings:
            if s and {p for p in PLACEHOLDER.findall(s) if p != "%%"} != expected:
                wrong.append((message.id, s))
    assert wrong == []


# --- each line's main page -----------------------------------------------------------------


def test_a_portuguese_head_reads_the_governance_board_in_portuguese(pt_br):
    html = text(pt_br(HEAD).get("/governance/"))
    assert "Conselho das agências membros" in html and "Registro de resoluções" in html
    assert "Board of member agencies" not in html


def test_a_portuguese_requester_reads_the_requisitions_in_portuguese(pt_br):
    html = text(pt_br(REQUESTER).get("/procurement/"))
    assert "Nova requisição" in html and "Ainda não há requisições — registre uma com Nova requisição." in html
    assert "New requisition" not in html


def test_a_portuguese_requester_reads_the_travel_requests_in_portuguese(pt_br):
    html = text(pt_br(REQUESTER).get("/travel/"))
    assert "Solicitações de viagem" in html and "Nova solicitação de viagem" in html
    assert "Travel requests" not in html


def test_a_portuguese_requester_reads_the_ict_tickets_in_portuguese(pt_br):
    html = text(pt_br(REQUESTER).get("/ict/tickets"))
    assert "Chamados de TIC" in html and "Abrir um chamado" in html
    assert "ICT tickets" not in html


# --- the lines' own states, steps and messages -----------------------------------------------


def _open_ticket(c) -> str:
    token = csrf_from(c.get("/ict/tickets/new").get_data(as_text=True))
    r = c.post("/ict/tickets/new", data={
        "title": "Projector in room 3 does not turn on", "description": "", "kind": "incident",
        "category": "hardware", "service": "", "urgency": "medium", "impact": "low", "csrf_token": token})
    assert r.status_code == 302
    return re.search(r"(ICT-\d{4}-\d{5})", r.headers["Location"]).group(1)


def test_a_ticket_taken_by_a_portuguese_officer_shows_its_state_and_steps_in_portuguese(pt_br):
    ref = _open_ticket(pt_br(REQUESTER))
    officer = pt_br(ICT)
    page = text(officer.get(f"/ict/tickets/{ref}"))
    assert ">Assumir<" in page and ">Take<" not in page  # the line's own step, not its English label
    token = csrf_from(page)
    r = officer.post(f"/ict/tickets/{ref}/transitions", data={"action": "take", "comment": "",
                                                               "version": re.search(r'name="version" value="(\d+)"', page).group(1),
                                                               "csrf_token": token}, follow_redirects=True)
    html = text(r)
    assert r.status_code == 200
    assert f"{ref} agora está: atribuída." in html
    assert 'data-status="assigned">Atribuída<' in html


def test_a_portuguese_officer_reads_the_long_term_agreement_form_in_portuguese(pt_br):
    html = text(pt_br("procurement@jof.example").get("/procurement/ltas/new"))
    assert "Novo acordo de longo prazo" in html and "Agências participantes" in html and "Teto (USD)" in html
    assert "New long-term agreement" not in html and "Participating agencies" not in html


def test_a_portuguese_reader_sees_the_attachments_of_a_decision_in_portuguese(pt_br):
    board = text(pt_br(HEAD).get("/governance/resolutions"))
    decision = re.search(r'href="(/governance/decisions/\d+)"', board).group(1)
    html = text(pt_br(HEAD).get(decision))
    assert ">Anexos<" in html and ">Attachments<" not in html


def test_a_portuguese_manager_follows_a_billing_job_in_portuguese(pt_br):
    """A render job of a month without invoices fails in-process; its page says so in Portuguese."""
    manager = pt_br(MANAGER)
    period = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    token = csrf_from(manager.get(f"/billing/periods?period={period}").get_data(as_text=True))
    r = manager.post("/billing/periods", data={"period": period, "action": "render", "csrf_token": token})
    assert r.status_code == 302  # the job ran (and failed) here: no Redis in tests
    page = text(manager.get(f"/billing/periods?period={period}"))
    job = re.search(r'href="(/billing/jobs/\d+)"', page).group(1)
    html = text(manager.get(job))
    assert "Tarefa #" in html and "A tarefa falhou; o período permanece como estava." in html
    assert "Voltar ao período" in html and "Back to the period" not in html


def test_a_portuguese_manager_follows_a_report_job_in_portuguese(pt_br):
    """The monitoring page's report button starts a job (in-process in tests); its page,
    status and download are in Portuguese, and so is the closing confirmation's refusal."""
    manager = pt_br(MANAGER)
    month = (date.today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = text(manager.get("/monitoring/"))
    assert "Preparar o relatório mensal (PDF)" in page and "Preparar o dossiê do conselho (PDF)" in page
    r = manager.post("/monitoring/reports/monthly_report", data={"month": month, "csrf_token": csrf_from(page)})
    assert r.status_code == 302
    html = text(manager.get(r.headers["Location"]))
    assert "Tarefa #" in html and "o relatório mensal" in html and "Concluída" in html
    assert "Baixar o PDF" in html and "Voltar ao monitoramento" in html and "Download the PDF" not in html
    assert "Relatórios preparados recentemente" in text(manager.get("/monitoring/"))
    token = csrf_from(manager.get(f"/billing/periods?period={month}").get_data(as_text=True))
    refused = manager.post("/billing/periods", data={"period": month, "action": "close", "csrf_token": token})
    assert refused.status_code == 422 and "Não fechado: o fechamento de um período" in text(refused)


def _travel_form(token: str) -> dict:
    d0 = date.today() + timedelta(days=30)
    d1 = d0 + timedelta(days=3)

    def at(d: date, hhmm: str) -> str:
        return datetime(d.year, d.month, d.day, *(int(x) for x in hhmm.split(":"))).isoformat()[:16]

    data = {"title": "Field visit", "purpose": "Monitoring", "travel_class": "economy", "needs_ticket": "on",
            "needs_dsa": "on", "advance_requested": "on", "op": "submit", "csrf_token": token}
    legs = [("Brasília", "BR", "São Paulo", "BR", at(d0, "08:00"), at(d0, "09:40")),
            ("São Paulo", "BR", "Brasília", "BR", at(d1, "18:00"), at(d1, "19:40"))]
    names = ("origin_city", "origin_country", "destination_city", "destination_country", "depart_at", "arrive_at")
    for i, row in enumerate(legs):
        data.update({f"legs.{i}.{name}": value for name, value in zip(names, row, strict=True)})
    return data


def test_portuguese_readers_can_open_every_page_they_are_shown(pt_br, make):
    """Follow every link of every line as Portuguese readers: no translation breaks a page
    (a placeholder the English text does not have is a 500 only in Portuguese)."""
    requester, manager, officer = pt_br(REQUESTER), pt_br(MANAGER), pt_br(ICT)
    make.request(REQUESTER, status="submitted")
    ticket = _open_ticket(requester)
    token = csrf_from(requester.get("/travel/requests/new").get_data(as_text=True))
    assert requester.post("/travel/requests/new", data=_travel_form(token)).status_code == 302

    starts = ["/", "/governance/", "/governance/costs", "/governance/resolutions", "/procurement/",
              "/procurement/suppliers", "/procurement/tenders", "/procurement/ltas", "/procurement/ltas/new",
              "/travel/", "/travel/dsa-rates", "/ict/tickets", "/ict/services", "/ict/subscriptions",
              f"/ict/tickets/{ticket}", "/billing/", "/billing/periods", "/billing/price-list",
              "/billing/statements/UNDP"]
    for client in (requester, manager, officer):
        seen: set[str] = set()
        todo = list(starts)
        while todo and len(seen) < 60:
            url = todo.pop(0)
            if url in seen:
                continue
            seen.add(url)
            r = client.get(url)
            if r.status_code == 302:
                todo.append(r.headers["Location"])
                continue
            if r.status_code == 403 or (r.status_code == 404 and url in starts):
                continue  # a page this role may not see
            assert r.status_code == 200, (url, r.status_code)
            if not r.content_type.startswith("text/html"):
                continue  # a PDF or a ZIP
            html = r.get_data(as_text=True)
            assert "%(" not in html, url
            for href in re.findall(r'href="(/[^"]*)"', html):
                path = unescape(href)
                if (urlsplit(path).path.endswith((".pdf", ".zip", ".csv", ".xlsx")) or path.startswith(("/static", "/api", "/logout"))
                        or "page=" in path):
                    continue
                todo.append(path)
        assert len(seen) > 10


def test_every_string_the_code_marks_for_translation_is_in_the_portuguese_catalogue():
    """Extract the marked strings from the code and templates as ``pybabel extract`` would
    (``babel.cfg``): a string added without its Portuguese would show in English to a
    Portuguese reader, and the catalogue check above cannot see a string it does not hold."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    root = PO.parents[4]
    with (root / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = _catalog()
    by_id: dict[str, list] = {}
    for entry in catalog:
        by_id.setdefault(entry.id if isinstance(entry.id, str) else entry.id[0], []).append(entry)
    missing = set()
    for filename, _lineno, message, _comments, context in extract_from_dir(
            str(root), method_map, options_map, keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                             "lazy_gettext": None, "_l": None,
                                                             "pgettext": ((1, "c"), 2),
                                                             "lazy_pgettext": ((1, "c"), 2)}):
        msgid = message if isinstance(message, str) else message[0]
        if not msgid or msgid in UNTRANSLATED_ALLOWED:
            continue
        # a context held in a constant (``lazy_pgettext(CONTEXT, ...)``) is not extracted:
        # any context of the catalogue then matches
        entries = [e for e in by_id.get(msgid, []) if context is None or e.context == context]
        if not any(all(e.string if isinstance(e.string, tuple) else (e.string,)) for e in entries):
            missing.add(f"{filename}: {msgid}")
    assert sorted(missing) == [], "\n".join(sorted(missing))
