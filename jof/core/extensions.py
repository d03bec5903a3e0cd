"""Flask extension objects, created unbound here and bound in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from jof.core.db import db

migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()

__all__ = ["db", "migrate", "csrf", "babel", "bootstrap"]
