"""The API's lean dump (:class:`jof.core.apikit.LeanSchema`) answers exactly what
marshmallow's own dump answers: same keys, same values, for lists and details."""

from __future__ import annotations

import marshmallow as ma

from jof.core import apikit

MANAGER = "manager@jof.example"


def _both(monkeypatch, client, path):
    lean = client.get(path)
    with monkeypatch.context() as m:
        m.setattr(apikit.LeanSchema, "_serialize", ma.Schema._serialize)
        plain = client.get(path)
    assert lean.status_code == plain.status_code == 200
    return lean.get_json(), plain.get_json()


def test_a_page_of_requests_is_the_same_as_marshmallows_dump(monkeypatch, api, make):
    make.request(status="completed", amount_usd=None)
    make.request(status="certified", amount_usd="250000.00")
    lean, plain = _both(monkeypatch, api(MANAGER), "/api/v1/requests?per_page=100")
    assert lean == plain
    assert len(lean["items"]) >= 2
    assert any(item["amount_usd"] is None for item in lean["items"])


def test_a_request_with_its_timeline_is_the_same_as_marshmallows_dump(monkeypatch, api, make):
    ref = make.request(status="completed", amount_usd="1200.50")
    lean, plain = _both(monkeypatch, api(MANAGER), f"/api/v1/requests/{ref}")
    assert lean == plain
    assert [t["action"] for t in lean["timeline"]][-1] == "complete"
    assert lean["allowed_actions"] == plain["allowed_actions"]


def test_a_field_missing_from_the_object_is_left_out_as_marshmallow_does():
    class Out(apikit.LeanSchema):
        a = ma.fields.String()
        b = ma.fields.Integer(dump_default=7)
        c = ma.fields.String(data_key="see")
        d = ma.fields.Function(lambda o: o.a.upper())

    class Obj:
        a = "x"
        c = "z"

    assert Out().dump(Obj()) == ma.Schema._serialize(Out(), Obj()) == {"a": "x", "b": 7, "see": "z", "d": "X"}
    assert Out(exclude=("d",)).dump({"a": "y", "c": "w"}) == {"a": "y", "b": 7, "see": "w"}


def test_a_request_in_the_list_says_what_its_own_page_says(api, make):
    """The list reads plain rows (agency code, limit and requester e-mail joined in), the
    page a loaded request: both give the same fields, computed ones included."""
    refs = [make.request(status="completed", amount_usd=None),
            make.request(status="certified", amount_usd="250000.00"),
            make.request(status="submitted", amount_usd="10.00")]
    client = api(MANAGER)
    items = {item["reference"]: item for item in client.get("/api/v1/requests?per_page=200").get_json()["items"]}
    for ref in refs:
        detail = client.get(f"/api/v1/requests/{ref}").get_json()
        assert items[ref] == {k: v for k, v in detail.items() if k not in ("timeline", "allowed_actions")}
    assert items[refs[1]]["needs_certification"] is True
    assert items[refs[2]]["needs_certification"] is False
