"""Suspending or debarring a supplier is confirmed on a page that names what it stops;
only that page's form changes the status."""

from __future__ import annotations

import re

from tests.procurement.conftest import OFFICER


def _status(web, sid) -> str:
    html = web(OFFICER).get(f"/procurement/suppliers/{sid}").get_data(as_text=True)
    return re.search(r'data-testid="supplier-status">([^<]+)<', html).group(1).split(" — ")[0].split(" (")[0]


def test_the_status_form_leads_to_a_confirmation(web, flow):
    sid = flow.supplier("Acme Ltda", "11.111.111/0001-11")
    html = web(OFFICER).get(f"/procurement/suppliers/{sid}").get_data(as_text=True)
    form = re.search(r'<form method="(\w+)" action="([^"]+)"[^>]*data-testid="status-form"', html)
    assert form.groups() == ("get", f"/procurement/suppliers/{sid}/confirm-status")


def test_debarring_names_the_consequence_and_only_the_confirmation_debars(web, flow):
    sid = flow.supplier("Acme Ltda", "11.111.111/0001-11")
    c = web(OFFICER)
    html = c.get(f"/procurement/suppliers/{sid}/confirm-status?status=debarred&reason=Fraud").get_data(as_text=True)
    consequence = re.search(r'data-testid="consequence">(.*?)</div>', html, re.S).group(1)
    assert "Debar Acme Ltda" in consequence and "cannot bid" in consequence
    assert _status(web, sid) == "Active"
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', html, re.S)
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert c.post(form.group(1), data=data).status_code == 302
    assert _status(web, sid) == "Debarred"


def test_suspending_names_the_way_back(web, flow):
    sid = flow.supplier("Acme Ltda", "11.111.111/0001-11")
    html = web(OFFICER).get(f"/procurement/suppliers/{sid}/confirm-status?status=suspended").get_data(as_text=True)
    assert "until reinstated" in html


def test_an_unknown_status_is_refused_on_the_supplier_page_with_the_input_kept(web, flow):
    sid = flow.supplier("Acme Ltda", "11.111.111/0001-11")
    r = web(OFFICER).get(f"/procurement/suppliers/{sid}/confirm-status?status=banished&reason=Keep+me")
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and 'data-testid="consequence"' not in html and 'value="Keep me"' in html


def test_a_requester_cannot_reach_the_status_confirmation(web, flow):
    sid = flow.supplier("Acme Ltda", "11.111.111/0001-11")
    assert web("requester@undp.jof.example").get(
        f"/procurement/suppliers/{sid}/confirm-status?status=debarred").status_code == 403
