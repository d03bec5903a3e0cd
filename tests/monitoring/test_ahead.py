"""The dashboard's clock and charge passes, run beside its pass over the requests on
PostgreSQL, give exactly what they give in the reader's own session."""

from __future__ import annotations

import os
from datetime import date

from jof.core.db import db
from jof.monitoring import measures
from jof.monitoring.measures import Filters

NOVEMBER = Filters(date(2026, 11, 1), date(2026, 11, 30))


def test_the_passes_run_ahead_give_the_same_times_and_charges_as_in_the_session(app, month):
    with app.app_context():
        ahead = measures.start_ahead(NOVEMBER)
        postgres = os.environ.get("JOF_TEST_DATABASE", "sqlite") == "postgresql"
        # On SQLite nothing runs ahead: the measures run in the session as before.
        assert (ahead.times is not None, ahead.charges is not None) == (postgres, postgres)
        times = measures.processing_times(NOVEMBER, ahead)
        assert times == measures.processing_times(NOVEMBER)
        assert [(t["kind"], t["count"], t["median_hours"]) for t in times] == [
            ("procurement.micro_purchase", 4, 11)]
        assert measures.charge_totals(NOVEMBER, ahead) == measures.charge_totals(NOVEMBER)
        db.session.rollback()
