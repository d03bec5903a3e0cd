"""The board is wired by ``jof.governance.install(app)``: importing its modules registers
nothing, and installing it for a second app changes nothing."""

from __future__ import annotations

import subprocess
import sys

from jof import create_app
from jof.governance import effects

OWN_KINDS = ("cost_sharing_key", "membership")


def test_importing_the_boards_modules_registers_no_effect():
    probe = ("import jof.governance.cost_sharing, jof.governance.membership, jof.governance.decisions, "
             "jof.governance.votes, jof.governance.api, jof.governance.views, jof.governance.cli\n"
             "from jof.governance import effects\n"
             f"print(sorted(k for k in effects._APPLIERS if k in {OWN_KINDS!r}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_installing_the_board_for_a_second_app_is_harmless(app, database_url):
    before = {kind: effects._APPLIERS[kind] for kind in OWN_KINDS}
    create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "a second app"})
    assert {kind: effects._APPLIERS[kind] for kind in OWN_KINDS} == before
    assert "membership" in effects._ON_EFFECTIVE_DATE  # applied on its day, still
    assert "cost_sharing_key" not in effects._ON_EFFECTIVE_DATE
