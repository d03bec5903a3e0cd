"""Locust users for ``make loadtest`` (run by ``python -m bench.loadtest``, which writes the plan).

* ``Head``: agency heads vote (and change their votes) on the open decisions at once;
* ``Requester``: files ICT tickets and travel requests (submitted) for their agency;
* ``Officer``: the manager closes decisions early (409 until every member voted) and opens the next one, approves submitted travel requests, several at once on the same
  request (409 on a stale version is the expected answer to the loser), and issues draft
  invoices (the same draft from several users at once: one 200, the others 409).

Tokens come from the plan (one login per demo user, before the run: the login throttle).
The run stops by itself at ``LOAD_MAX_REQUESTS`` requests (and at locust's ``-t``).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
OPEN = len(PLAN["decisions"])
MAX_REQUESTS = int(os.environ.get("LOAD_MAX_REQUESTS", "20000"))
AGENCIES = ["undp", "unfpa", "unesco", "unwomen", "unops", "unep", "unaids"]
#: References of submitted travel requests, shared by the officers of this locust process.
SUBMITTED: list[str] = []
DRAFTS: list[int] = list(PLAN["drafts"])
_trip_days = itertools.count()
_heads = itertools.count()
_requesters = itertools.count()
_seen = itertools.count()


_environment = None


@events.init.add_listener
def _init(environment, **_kwargs):
    global _environment
    _environment = environment


#: (endpoint, status) → answers: how many 409s the races drew, written for the runner at the end.
STATUSES: Counter = Counter()


@events.quitting.add_listener
def _write_statuses(**_kwargs):
    if os.environ.get("LOAD_STATUSES"):
        with open(os.environ["LOAD_STATUSES"], "w") as f:
            json.dump([[name, status, n] for (name, status), n in sorted(STATUSES.items())], f)


@events.request.add_listener
def _bounded(name="", response=None, **_kwargs):
    """Count the answers; stop the whole run after ``LOAD_MAX_REQUESTS`` requests."""
    STATUSES[name, getattr(response, "status_code", 0)] += 1
    if next(_seen) == MAX_REQUESTS and _environment is not None and _environment.runner is not None:
        gevent.spawn(_environment.runner.quit)


def _ok(response, *expected: int) -> None:
    """A response in ``expected`` counts as a success (a 409 under contention is correct)."""
    if response.status_code in expected:
        response.success()
    else:
        response.failure(f"{response.status_code}: {response.text[:200]}")


class _Authed(HttpUser):
    abstract = True
    wait_time = between(0.05, 0.3)
    email = ""

    def on_start(self):
        self.client.headers["Authorization"] = f"Bearer {PLAN['tokens'][self.email]}"


class Head(_Authed):
    weight = 3

    def on_start(self):
        members = AGENCIES  # every member head, and UNAIDS (a partner: 403) tries too
        self.email = f"head@{members[next(_heads) % len(members)]}.jof.example"
        super().on_start()

    @task
    def vote(self):
        decision = random.choice(PLAN["decisions"][-OPEN:])
        with self.client.put(f"/api/v1/governance/decisions/{decision}/vote", name="PUT /decisions/[id]/vote",
                             json={"choice": random.choice(["yes", "no", "abstain"])}, catch_response=True) as r:
            _ok(r, 200, 201, 403, 409)


class Requester(_Authed):
    weight = 4

    def on_start(self):
        self.email = f"requester@{AGENCIES[next(_requesters) % len(AGENCIES)]}.jof.example"
        super().on_start()

    @task(2)
    def ticket(self):
        with self.client.post("/api/v1/ict/tickets", name="POST /ict/tickets", catch_response=True, json={
                "title": "Cannot send e-mail", "description": "Outbox stuck.", "kind": "incident",
                "category": "email", "service": "email_account", "urgency": "medium", "impact": "low"}) as r:
            _ok(r, 201)

    @task(3)
    def trip(self):
        d0 = date.today() + timedelta(days=20 + 3 * next(_trip_days))
        d1 = d0 + timedelta(days=1)
        legs = [{"origin_city": "Brasília", "origin_country": "BR", "destination_city": "São Paulo",
                 "destination_country": "BR", "depart_at": f"{d0}T08:00:00", "arrive_at": f"{d0}T09:40:00"},
                {"origin_city": "São Paulo", "origin_country": "BR", "destination_city": "Brasília",
                 "destination_country": "BR", "depart_at": f"{d1}T18:00:00", "arrive_at": f"{d1}T19:40:00"}]
        with self.client.post("/api/v1/travel/requests", name="POST /travel/requests", catch_response=True,
                              json={"title": "Mission", "purpose": "Programme review", "legs": legs,
                                    "submit": True}) as r:
            _ok(r, 201)
            if r.status_code == 201:
                SUBMITTED.append(r.json()["reference"])


class Officer(_Authed):
    weight = 2
    email = "manager@jof.example"

    def _transition(self, reference: str, action: str) -> None:
        got = self.client.get(f"/api/v1/requests/{reference}", name="GET /requests/[ref]")
        if got.status_code != 200:
            return
        with self.client.post(f"/api/v1/requests/{reference}/transitions", name=f"POST /requests/[ref] {action}",
                              json={"action": action, "version": got.json()["version"]},
                              catch_response=True) as r:
            _ok(r, 200, 409)

    @task(4)
    def approve(self):
        if SUBMITTED:
            # The newest few: several officers race on the same request.
            self._transition(random.choice(SUBMITTED[-3:]), "approve")

    @task(1)
    def issue(self):
        if DRAFTS:
            draft = random.choice(DRAFTS[:3])
            with self.client.post(f"/api/v1/billing/invoices/{draft}/issue", name="POST /invoices/[id]/issue",
                                  catch_response=True) as r:
                _ok(r, 200, 404, 409)
                if r.status_code in (200, 409) and draft in DRAFTS:
                    DRAFTS.remove(draft)

    @task(1)
    def close(self):
        """Close a decision early: 409 until every member voted, then once 200 (a resolution number)."""
        decision = random.choice(PLAN["decisions"][-OPEN:])
        with self.client.post(f"/api/v1/governance/decisions/{decision}/close", name="POST /decisions/[id]/close",
                              catch_response=True) as r:
            _ok(r, 200, 409)
            closed = r.status_code == 200 and r.json().get("resolution_number") and decision in PLAN["decisions"]
        if closed:  # the board moves on: propose and open the next decision
            PLAN["decisions"].remove(decision)
            proposed = self.client.post("/api/v1/governance/decisions", name="POST /decisions",
                                        json={"title": f"Load-test decision after {decision}"})
            if proposed.status_code == 201:
                new = proposed.json()["id"]
                opened = self.client.post(f"/api/v1/governance/decisions/{new}/open", name="POST /decisions/[id]/open",
                                          json={"closes_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
                if opened.status_code == 200:
                    PLAN["decisions"].append(new)

    @task(2)
    def requests_list(self):
        self.client.get("/api/v1/requests?per_page=20", name="GET /requests")
