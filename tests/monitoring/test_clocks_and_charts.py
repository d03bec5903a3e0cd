"""Running clocks for the alert job, and the chart helper's SVG in WeasyPrint."""

from __future__ import annotations

import io

from pypdf import PdfReader

from jof.core.db import db
from jof.core.pdf import render_pdf
from jof.monitoring import sla
from jof.monitoring.charts import bar_svg
from tests.monitoring.conftest import KIND, at


def test_clocks_give_open_requests_with_the_share_of_target_used(app, month):
    with app.app_context():
        running = {c.request.reference: c for c in sla.clocks(db.session, at(12, 1, 13))}
        # Completed requests have stopped clocks; the three open ones run.
        assert set(running) == {month["open_new"], month["open_mid"], month["open_old"]}
        new = running[month["open_new"]]
        # Submitted Monday 30 Nov 09:00; Tuesday 1 Dec 13:00 is 9 + 5 = 14 working hours of 50.
        assert new.kind == KIND and new.used.total_seconds() == 14 * 3600
        assert abs(new.fraction - 0.28) < 1e-9 and not new.breached
        assert running[month["open_old"]].breached and running[month["open_old"]].fraction > 1
        assert running[month["open_new"]].step == "submitted"


def test_the_same_chart_svg_renders_in_a_pdf(app):
    svg = bar_svg("Requests per line", ["procurement", "travel"], {"Submitted": [3, 5]}, inline_style=True)
    assert "<style" in svg  # the PDF has no stylesheet of the page: the chart carries its own
    with app.app_context():
        pdf = render_pdf(f"<html><body><h1>Monthly report</h1>{svg}</body></html>")
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Requests per line" in text and "procurement" in text


def test_an_ict_ticket_resolved_through_the_desk_stops_its_priority_clock(app, api):
    from sqlalchemy import select

    from jof.core.workflow import ServiceRequest
    from jof.monitoring.models import RequestClock

    requester, ict = api("requester@undp.jof.example"), api("ict@jof.example")
    ref = requester.post("/api/v1/ict/tickets", json={
        "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident", "category": "email",
        "service": "email_account", "urgency": "high", "impact": "high"}).get_json()["reference"]
    for action, comment in (("take", ""), ("start", ""), ("resolve", "Rebuilt the mail profile.")):
        version = ict.get(f"/api/v1/requests/{ref}").get_json()["version"]
        r = ict.post(f"/api/v1/requests/{ref}/transitions", json={"action": action, "comment": comment,
                                                                   "version": version})
        assert r.status_code == 200, r.get_json()
    with app.app_context():
        clock = db.session.scalar(select(RequestClock).join(ServiceRequest, ServiceRequest.id == RequestClock.request_id)
                                  .where(ServiceRequest.reference == ref))
        assert (clock.kind, clock.line, clock.target_seconds) == ("ict.P1", "ict", 4 * 3600)
        assert clock.working_seconds <= 4 * 3600 and clock.within_target is True


def test_a_page_chart_drawn_again_from_the_same_figures_is_reused_and_a_changed_figure_redraws():
    from jof.monitoring import charts

    charts._page_chart.cache_clear()
    first = bar_svg("Requests per line", ["procurement", "travel"], {"Submitted": [3, 5]})
    again = bar_svg("Requests per line", ["procurement", "travel"], {"Submitted": [3, 5]})
    assert again == first and charts._page_chart.cache_info().hits == 1
    changed = bar_svg("Requests per line", ["procurement", "travel"], {"Submitted": [3, 6]})
    assert changed != first and charts._page_chart.cache_info().misses == 2
    # The page's chart keeps its accessible name and carries no style, script or per-render id.
    assert 'role="img" aria-label="Requests per line"' in first
    assert "<style" not in first and "<script" not in first and 'id="chart-' not in first


def test_a_pdf_chart_is_drawn_every_time_with_its_own_style():
    from jof.monitoring import charts

    charts._page_chart.cache_clear()
    pdf = bar_svg("Requests per line", ["procurement"], {"Submitted": [3]}, inline_style=True)
    assert "<style" in pdf and charts._page_chart.cache_info().currsize == 0
