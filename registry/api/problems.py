"""Errors as application/problem+json (RFC 9457), in the request's language, for everything under /api/.

The blueprint's own handlers answer every error raised on a matched API route (they take precedence
over the app's HTML error pages). Only a request that matches no route (404) or no method (405) never
reaches the blueprint: for those, `register_app_handlers` installs app-level handlers that answer with a
problem under /api/ and hand anything else to the app's own HTML handler.
"""

import json
import logging
import time

from flask import Response, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException, InternalServerError

from ..database import SAFE_METHODS, discard
from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..domain.profile import errors_of
from ..extensions import db

log = logging.getLogger("registry.api")
MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"
DOCS_PATH = "/api/v1/docs"

# slug: (status, title). The type of a problem is DOCS_PATH#problem-<slug>, where the docs explain it.
TYPES = {
    "bad-request": (400, _l("The request could not be understood")),
    "invalid-json": (400, _l("The body is not valid JSON")),
    "invalid-parameters": (400, _l("A query parameter or header is not valid")),
    "unauthorized": (401, _l("A valid API token is needed")),
    "forbidden": (403, _l("Your role may not do this")),
    "not-found": (404, _l("Not found")),
    "method-not-allowed": (405, _l("This method is not allowed here")),
    "conflict": (409, _l("That cannot be done now")),
    "gone": (410, _l("No longer there for you")),
    "too-large": (413, _l("The request body is too large")),
    "unsupported-media-type": (415, _l("The body must be JSON")),
    "validation-error": (422, _l("The request body is not valid")),
    "idempotency-key-reused": (422, _l("The idempotency key was used for another request")),
    "rate-limited": (429, _l("Too many requests")),
    "server-error": (500, _l("Something went wrong on our side")),
}
BY_STATUS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
             405: "method-not-allowed", 409: "conflict", 410: "gone", 413: "too-large", 415: "unsupported-media-type",
             422: "validation-error", 429: "rate-limited", 500: "server-error"}
DETAILS = {
    "bad-request": _l("Check the request and try again."),
    "not-found": _l("There is nothing at this address. Check it against the API documentation."),
    "method-not-allowed": _l("The Allow header lists the methods this address accepts."),
    "too-large": _l("A request body can be at most 1 MB."),
    "unsupported-media-type": _l("Send the body as JSON with Content-Type: application/json."),
    "rate-limited": _l("Wait as many seconds as the Retry-After header says, then try again."),
    "server-error": _l("The error has been logged. Try again later."),
}
SEVERAL = _l("Correct the fields listed in errors and try again.")


def type_uri(slug: str) -> str:
    return f"{DOCS_PATH}#problem-{slug}"


class ApiProblem(HTTPException):
    """An error the API raises itself, with its problem type, detail, field errors and headers."""

    def __init__(self, slug: str, detail=None, errors: list[dict] | None = None, headers: dict | None = None):
        self.code = TYPES[slug][0]
        super().__init__(str(detail) if detail else None)
        self.slug, self.detail, self.errors, self.extra_headers = slug, detail, errors, headers or {}


def problem(slug: str, detail=None, errors: list[dict] | None = None, headers=None, status: int | None = None,
            title=None) -> Response:
    status = status or TYPES[slug][0]
    body = {"type": type_uri(slug) if slug in TYPES else "about:blank",
            "title": str(title or (TYPES[slug][1] if slug in TYPES else "Error")), "status": status,
            "detail": str(detail or DETAILS.get(slug) or title or TYPES.get(slug, (0, ""))[1])}
    if errors is not None:
        body["errors"] = [{"field": e["field"], "message": str(e["message"])} for e in errors]
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(error: InvalidInput) -> list[dict]:
    return [{"field": fault.field, "message": fault.message} for fault in errors_of(error)]


def from_domain_error(error: DomainError) -> Response:
    """InvalidInput is 422 for a body (unsafe methods) and 400 for query parameters (GET); the rest keep
    their status: NotFound 404, Conflict 409."""
    discard(db.session())  # nothing of a refused change is kept
    if isinstance(error, InvalidInput):
        errors = field_errors(error)
        detail = errors[0]["message"] if len(errors) == 1 else SEVERAL
        if request.method in SAFE_METHODS:
            return problem("invalid-parameters", detail, errors)
        return problem("validation-error", detail, errors)
    if isinstance(error, NotFound):
        return problem("not-found", error.message)
    if isinstance(error, Conflict):
        return problem("conflict", error.message)
    return problem(BY_STATUS.get(error.status, "bad-request"), error.message, status=error.status)


def from_http_error(error: HTTPException) -> Response:
    discard(db.session())
    if isinstance(error, ApiProblem):
        return problem(error.slug, error.detail, error.errors, error.extra_headers)
    status = error.code or 500
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    if status == 429:
        headers.setdefault("Retry-After", str(_retry_after()))
    if status in BY_STATUS:
        return problem(BY_STATUS[status], headers=headers)
    return problem("about:blank", detail=error.name, headers=headers, status=status, title=error.name)


def _retry_after() -> int:
    """Seconds until the broken limit resets (Flask-Limiter also sets the header; this is the fallback)."""
    from ..extensions import limiter

    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time()) + 1) if current else 60


def from_server_error(error: InternalServerError) -> Response:
    db.session.rollback()
    log.error("API request failed: %s %s", request.method, request.path, exc_info=error.original_exception)
    return problem("server-error")


def register(bp) -> None:
    """Problem responses for the blueprint's routes, and for unmatched addresses under /api/."""
    bp.register_error_handler(DomainError, from_domain_error)
    bp.register_error_handler(InternalServerError, from_server_error)
    bp.register_error_handler(HTTPException, from_http_error)
    bp.record_once(lambda state: register_app_handlers(state.app))


def register_app_handlers(app) -> None:
    """404 and 405 from routing happen before any blueprint is known; answer those under /api/ here."""

    def routing_error(error: HTTPException):
        if request.path.startswith(PREFIX):
            return from_http_error(error)
        return _app_fallback(app, error)

    for status in (404, 405):
        app.register_error_handler(status, routing_error)


def _app_fallback(app, error: HTTPException):
    """What the app would do without us: its handler for the exception's class, or the default page."""
    handlers = app.error_handler_spec[None][None]
    for cls in type(error).__mro__:
        if cls in handlers:
            return handlers[cls](error)
    return error
