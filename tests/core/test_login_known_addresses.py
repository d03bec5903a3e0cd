"""Issue 11: guessers on several addresses cannot keep an account's owner waiting at the
place they usually sign in from, and an IPv6 host cannot multiply its per-address
budget by rotating through its /64."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from jof.core.db import db
from jof.core.people import KnownLoginAddress, LoginAttempt
from jof.core.throttle import address_group
from jof.core.timeutil import utcnow
from tests.conftest import TEST_PASSWORD

ADMIN = "admin@jof.example"
OWNER_ADDRESS = "198.51.100.7"


def _token(app, address: str, email: str = ADMIN, password: str = TEST_PASSWORD):
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address})
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def _account_failures(app, email: str = ADMIN) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(LoginAttempt.id)).where(LoginAttempt.email == email))


def test_101_failed_logins_from_several_addresses_do_not_delay_the_owner_at_a_known_address(app, demo):
    assert _token(app, OWNER_ADDRESS).status_code == 201  # the owner signed in from here before
    codes = [_token(app, f"203.0.113.{i % 21 + 1}", password=f"guess-{i}").status_code for i in range(101)]
    assert set(codes) <= {401, 429} and codes.count(401) >= 10
    # the account-wide delay is running: a new address meets it ...
    r = _token(app, "192.0.2.200")
    assert r.status_code == 429 and "for this account" in r.get_json()["detail"]
    assert int(r.headers["Retry-After"]) >= 1
    # ... but the owner's known address does not
    r = _token(app, OWNER_ADDRESS)
    assert r.status_code == 201, r.get_json()


def test_a_known_address_is_still_exempt_when_the_account_has_many_recent_failures(app, demo):
    assert _token(app, OWNER_ADDRESS).status_code == 201
    with app.app_context():
        now = utcnow()
        db.session.add_all(LoginAttempt(email=ADMIN, at=now - timedelta(seconds=1), remote_addr=f"203.0.113.{i}")
                           for i in range(101))
        db.session.commit()
    assert _token(app, "192.0.2.200").status_code == 429
    assert _token(app, OWNER_ADDRESS).status_code == 201


def test_a_known_address_keeps_its_own_per_address_limit(app, demo):
    assert _token(app, OWNER_ADDRESS).status_code == 201
    for i in range(5):
        assert _token(app, OWNER_ADDRESS, password=f"typo-{i}").status_code == 401
    assert _token(app, OWNER_ADDRESS).status_code == 429


def test_an_address_is_known_only_for_the_account_it_signed_in_to(app, demo):
    assert _token(app, OWNER_ADDRESS, email="requester@undp.jof.example").status_code == 201
    with app.app_context():
        now = utcnow()
        db.session.add_all(LoginAttempt(email=ADMIN, at=now - timedelta(seconds=1), remote_addr=f"203.0.113.{i}")
                           for i in range(20))
        db.session.commit()
    assert _token(app, OWNER_ADDRESS).status_code == 429


def test_a_failed_login_does_not_make_an_address_known(app, demo):
    assert _token(app, OWNER_ADDRESS, password="wrong-password-1").status_code == 401
    with app.app_context():
        assert db.session.scalar(select(func.count(KnownLoginAddress.id))) == 0


def test_two_ipv6_addresses_in_one_64_share_one_per_address_budget(app, demo):
    for i in range(3):
        assert _token(app, "2001:db8:1:2::a", password=f"guess-{i}").status_code == 401
    for i in range(2):
        assert _token(app, "2001:db8:1:2:ffff:ffff:ffff:ffff", password=f"guess-x{i}").status_code == 401
    # the budget of five is spent for the whole /64, right password or not
    r = _token(app, "2001:db8:1:2::1")
    assert r.status_code == 429 and "network address" in r.get_json()["detail"]
    # another /64 is another client
    assert _token(app, "2001:db8:1:3::a").status_code == 201


def test_addresses_are_grouped_ipv6_by_64_and_ipv4_alone():
    assert address_group("2001:db8:1:2::a") == address_group("2001:DB8:1:2:abcd::1") == "2001:db8:1:2::/64"
    assert address_group("2001:db8:1:3::a") != address_group("2001:db8:1:2::a")
    assert address_group("203.0.113.5") == "203.0.113.5" != address_group("203.0.113.6")
    assert address_group("::ffff:203.0.113.5") == "203.0.113.5"
    assert address_group("") == "" and address_group("not an address") == "not an address"
