"""JSON bodies read strictly: what Python's parser accepts but nothing downstream can hold.

``json.loads`` accepts three things that later turn into 500s (issue 11):

* a lone surrogate (``"\\ud800"``): valid JSON, but not Unicode; it fails only when
  encoded to UTF-8, i.e. deep inside the database driver, the logger or a template;
* a number of more than 4,300 digits: Python refuses to turn it into an ``int``
  (``sys.get_int_max_str_digits``), with a ``ValueError`` that is not a JSON error;
* nesting deep enough to exhaust the recursion limit.

:func:`loads` refuses each with :class:`UnsafeJSON` (a ``ValueError``, so Flask's
``get_json`` treats it as undecodable), naming where in the body the problem is. The
limits are far beyond any body JOF expects: no amount, id or count needs more than a
few dozen digits, and no schema nests more than a handful of levels.
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider

#: Characters of one JSON number; longer ones are refused before Python converts them.
MAX_NUMBER_CHARS = 1000
#: Levels of arrays and objects inside one another.
MAX_DEPTH = 32


class UnsafeJSON(ValueError):
    """A body that is JSON by the grammar but that JOF refuses to process."""

    def __init__(self, message: str, where: str = "_body"):
        super().__init__(message)
        self.message = message
        self.where = where


def _number(text: str, convert):
    if len(text) > MAX_NUMBER_CHARS:
        raise UnsafeJSON(f"A number in the body has more than {MAX_NUMBER_CHARS} characters.")
    return convert(text)


def _check(value: Any, path: str, depth: int) -> None:
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise UnsafeJSON(f"The JSON body is nested too deeply (more than {MAX_DEPTH} levels).")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, sub in items:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                _check_text(key, name)
            _check(sub, name, depth + 1)


def _check_text(text: str, where: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeJSON("The body contains a lone surrogate (\\ud800-\\udfff): not valid Unicode text.",
                         where.encode("utf-8", "backslashreplace").decode() or "_body") from None


def loads(data: str | bytes | bytearray, **kwargs) -> Any:
    """``json.loads`` that refuses lone surrogates, over-long numbers and deep nesting."""
    kwargs.setdefault("parse_int", lambda t: _number(t, int))
    kwargs.setdefault("parse_float", lambda t: _number(t, float))
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise UnsafeJSON(f"The JSON body is nested too deeply (more than {MAX_DEPTH} levels).") from None
    _check(value, "", 0)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: ``request.get_json()`` parses with :func:`loads`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads(s, **kwargs)
