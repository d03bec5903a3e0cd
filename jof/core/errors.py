"""Domain errors and the one error shape of the API (DESIGN §9).

Services raise these; the web layer turns them into JSON
``{"status", "title", "detail", "errors"}`` or a page. Nothing here ever shows a stack
trace to a user.
"""

from __future__ import annotations

from http import HTTPStatus


class DomainError(Exception):
    status = 400

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None, **extra):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}
        self.extra = extra

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer must carry."""
        return {}


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class PreconditionRequired(DomainError):
    """428 (RFC 6585): a change that does not say which state of the object it was made
    against, and so could silently overwrite someone else's change."""

    status = 428


class ValidationFailed(DomainError):
    status = 422

    def __init__(self, errors: dict[str, list[str]] | str, detail: str | None = None, **extra):
        if isinstance(errors, str):
            errors = {"_schema": [errors]}
        super().__init__(detail or "The data sent has errors; see the field messages.", errors, **extra)


class TooManyRequests(DomainError):
    """429; says when to come back (``Retry-After``, in seconds) on every answer."""

    status = 429

    def __init__(self, detail: str, errors: dict[str, list[str]] | None = None, *,
                 retry_after: int = 60, **extra):
        super().__init__(detail, errors, **extra)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Unauthorized(DomainError):
    status = 401


def problem(status: int, detail: str, errors: dict | None = None, **extra) -> dict:
    body = {
        "status": status,
        "title": HTTPStatus(status).phrase,
        "detail": detail,
        "errors": errors or {},
    }
    body.update(extra)
    return body


def flatten_field_errors(messages) -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into ``{"field.sub": [..]}``."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list | tuple):
            if all(isinstance(v, str) for v in value):
                out.setdefault(prefix or "_schema", []).extend(value)
            else:
                for v in value:
                    walk(prefix, v)
        else:
            out.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return out
