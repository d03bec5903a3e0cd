"""The DSA rate table sorts by each column both ways, keeps its country filter across export
and paging, exports the page's rows (amounts as numbers) and says what to do when empty."""

from __future__ import annotations

import re

from jof.core.db import db
from jof.travel import lists
from jof.travel.models import DsaRate, fold
from tests.listcheck import (
    AS_NUMBER,
    check_exports_match_the_page,
    check_filter_kept,
    check_sorts,
    csv_rows,
)

REQUESTER = "requester@undp.jof.example"


def _places(html: str) -> list[str]:
    return re.findall(r"<tr><td>([^<]+)</td><td>[A-Z]{2}</td>", html)


def test_the_rate_table_sorts_by_each_column_and_exports_its_rows(web, demo, monkeypatch):
    monkeypatch.setattr("jof.travel.views.PER_PAGE", 100)
    c = web(REQUESTER)
    check_sorts(c, "/travel/dsa-rates", lists.DSA_RATES, ident="city", shown=_places,
                keys={"city": fold, "usd_per_night": AS_NUMBER, "room_pct": AS_NUMBER})
    check_exports_match_the_page(c, "/travel/dsa-rates", ident="city", shown=_places)


def test_the_country_filter_is_kept_and_an_emptied_table_says_so(web, demo, monkeypatch):
    monkeypatch.setattr("jof.travel.views.PER_PAGE", 1)
    c = web(REQUESTER)
    check_filter_kept(c, "/travel/dsa-rates?country=BR", "country=BR")
    assert {r["country"] for r in csv_rows(c, "/travel/dsa-rates?country=BR")} == {"BR"}
    assert "No rate for this country" in c.get("/travel/dsa-rates?country=ZZ").get_data(as_text=True)


def test_an_empty_rate_table_tells_the_travel_officer_how_to_fill_it(app, web, demo):
    with app.app_context():
        db.session.query(DsaRate).delete()
        db.session.commit()
    assert "set one below or import them" in web("travel@jof.example").get("/travel/dsa-rates").get_data(
        as_text=True)
    assert "the travel officer sets them" in web(REQUESTER).get("/travel/dsa-rates").get_data(as_text=True)
