"""The shape of the code: the import contracts hold and catch a violation, files stay
small, nothing is wired by probing, and every status column is a declared enum."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jof.core.db import db
from jof.core.statetable import StatusType

ROOT = Path(__file__).resolve().parent.parent
JOF = ROOT / "jof"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
MAX_LINES = 600


def _python_files() -> list[Path]:
    return sorted(JOF.rglob("*.py"))


def _lint_imports(cwd: Path, env_path: Path | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin"}
    if env_path is not None:
        env["PYTHONPATH"] = str(env_path)
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_no_file_in_jof_is_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _python_files()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_architecture_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout or "broken" not in result.stdout.split("Contracts:")[-1]


def test_a_deliberate_cycle_from_core_into_a_line_is_caught(tmp_path):
    """Copy the package, make core import a line's API (a cycle, and core above a
    line): the same contracts must fail, naming both rules."""
    shutil.copytree(JOF, tmp_path / "jof", ignore=shutil.ignore_patterns("__pycache__", "translations", "static"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    money = tmp_path / "jof" / "core" / "money.py"
    money.write_text(money.read_text(encoding="utf-8") + "\n\ndef _violation():\n"
                     "    from jof.ict import api  # noqa: F401\n", encoding="utf-8")
    result = _lint_imports(tmp_path, env_path=tmp_path)
    assert result.returncode != 0, result.stdout[-4000:]
    summary = result.stdout.split("Broken contracts")[0]
    assert "Core imports no service line and nothing above it BROKEN" in summary
    assert "No import cycles anywhere in jof BROKEN" in summary
    assert "jof.core.money -> jof.ict.api" in result.stdout


def test_a_transition_table_importing_its_services_is_caught(tmp_path):
    shutil.copytree(JOF, tmp_path / "jof", ignore=shutil.ignore_patterns("__pycache__", "translations", "static"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    states = tmp_path / "jof" / "travel" / "states.py"
    states.write_text(states.read_text(encoding="utf-8") + "\n\ndef _violation():\n"
                      "    from jof.travel import api  # noqa: F401\n", encoding="utf-8")
    result = _lint_imports(tmp_path, env_path=tmp_path)
    assert result.returncode != 0
    assert "A transition table imports no service, API or view module BROKEN" in result.stdout


def test_nothing_is_wired_by_probing_modules():
    """Lines are installed by create_app's explicit list, never found through
    importlib or sys.modules."""
    probing = [f"{p.relative_to(ROOT)}:{i}" for p in _python_files()
               for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
               if re.search(r"\bimportlib\b|\bsys\.modules\b", line)]
    assert probing == []


def test_no_data_is_parked_on_a_row_for_a_hook():
    parked = [f"{p.relative_to(ROOT)}:{i}" for p in _python_files()
              for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
              if re.search(r"\b\w+\._pending\b", line)]
    assert parked == []


#: Columns that hold a status but are not one object's own state: the request spine's
#: status belongs to many request types (each type's table declares its states) and the
#: timeline records past moves.
NOT_OWN_STATE = {("service_request", "status"), ("timeline_entry", "from_status"),
                 ("timeline_entry", "to_status")}


@pytest.mark.usefixtures("app")
def test_every_status_column_is_a_declared_enum():
    loose = [f"{t.name}.{c.name}" for t in db.Model.metadata.sorted_tables for c in t.columns
             if (c.name in ("status", "stage") or c.name.endswith("_status"))
             and (t.name, c.name) not in NOT_OWN_STATE and not isinstance(c.type, StatusType)]
    assert loose == []


#: What a transition table may read besides core: its line's models and model-level
#: queries, and the pure calculators named here (line.module).
STATES_MAY_READ = {"models", "queries", "states", "__init__"}
PURE_CALCULATORS = {"travel.dsa", "ict.sla", "governance.allocation", "hr.scoring", "hr.screening"}


def test_the_states_contract_names_every_other_module_of_every_line():
    """A new service module must not slip past the "states know no services" contract."""
    import configparser

    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    forbidden = set(config["importlinter:contract:states-know-no-services"]["forbidden_modules"].split())
    lines = [p for p in JOF.iterdir() if (p / "states.py").exists()]
    assert lines, "no line has a transition table"
    modules = {f"jof.{line.name}.{m.stem}" for line in JOF.iterdir() if line.is_dir()
               and (line / "__init__.py").exists() and line.name != "core"
               for m in line.glob("*.py") if m.stem not in STATES_MAY_READ
               and f"{line.name}.{m.stem}" not in PURE_CALCULATORS}
    assert modules - forbidden == set()
