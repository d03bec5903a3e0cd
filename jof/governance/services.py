"""TEMPORARY: the names other lines still import from ``jof.governance.services``.

The board's services are split by concept (``decisions``, ``votes``, ``attachments``,
``cost_sharing``, ``membership``); governance's public surface is ``effects``,
``cost_sharing`` and ``models``. This module only re-exports what billing's code and
the billing and procurement tests use today, and is deleted once they import
``jof.governance.cost_sharing`` (and the decisions and votes modules) instead.
"""

from __future__ import annotations

from jof.governance.cost_sharing import (  # noqa: F401
    add_cost_pool,
    adopt_initial_key,
    key_in_force,
    parse_period,
    pools_of,
    preview,
    record_allocation,
    recorded_shares,
)
from jof.governance.decisions import close, open_decision, propose  # noqa: F401
from jof.governance.votes import cast_vote  # noqa: F401

