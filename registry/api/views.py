"""The JSON API v1 (/api/v1): the public bodies' systems search, book and follow bookings through it.

Thin like every view: check the input's shape (schemas.py), call registry/domain, commit, answer JSON.
Token-authenticated (auth.py), never by cookie: no session is read or written under /api/. Exempt from
CSRF (no cookie, nothing for a forged form to ride on). Bodies at most 1 MB; requests rate-limited per
token. Errors are problem+json (problems.py). The routes are in public.py, bookings.py and admin.py.
"""

import json

from flask import Blueprint, Response, current_app, request, url_for
from flask.sessions import SecureCookieSession, SessionInterface
from flask_babel import lazy_gettext as _l

from ..domain.errors import NotFound
from ..domain.register import as_register_number
from ..domain.typed import forbidden_in
from ..extensions import csrf, limiter
from ..i18n import current_language
from . import problems, schemas
from .auth import rate_limit_key
from .problems import ApiProblem

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
problems.register(bp)

MAX_BODY_BYTES = 1024 * 1024
DEFAULT_RATE_LIMIT = "300 per minute"


def _rate_limit() -> str:
    """REGISTRY_API_RATE_LIMIT, e.g. "300 per minute", per token (or per address without one)."""
    return current_app.config.get("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)


limiter.shared_limit(_rate_limit, scope="api-v1", key_func=rate_limit_key)(bp)


class _NoSessionUnderApi(SessionInterface):
    """The app's sessions everywhere but under /api/, where a request gets an empty session that is
    never saved: a session cookie is neither read (so it cannot authenticate) nor set."""

    def __init__(self, inner: SessionInterface):
        self.inner = inner

    def open_session(self, app, request):
        if request.path.startswith(problems.PREFIX):
            return SecureCookieSession()
        return self.inner.open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if request.path.startswith(problems.PREFIX):
            return None
        return self.inner.save_session(app, session, response)

    def make_null_session(self, app):
        return self.inner.make_null_session(app)

    def is_null_session(self, obj) -> bool:
        return self.inner.is_null_session(obj)


def _sessionless(state) -> None:
    if not isinstance(state.app.session_interface, _NoSessionUnderApi):
        state.app.session_interface = _NoSessionUnderApi(state.app.session_interface)


bp.record_once(_sessionless)


@bp.before_request
def _limits() -> None:
    request.max_content_length = MAX_BODY_BYTES
    name = forbidden_in(request.args.items(multi=True))
    if name is not None:
        raise ApiProblem("invalid-parameters", schemas.MESSAGES["characters"],
                         errors=[{"field": name[:50], "message": schemas.MESSAGES["characters"]}])


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Language"] = current_language()
    response.vary.add("Accept-Language")
    if "Authorization" in request.headers:
        response.headers["Cache-Control"] = "no-store"  # a caller's own data: never kept by a cache
    return response


# Helpers for the route modules --------------------------------------------------------------------

def answer(data, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def read_body(body: schemas.Body, optional: bool = False) -> dict:
    """The JSON body checked against its declaration; 413 over 1 MB, 415 not JSON, 400 unparseable."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return schemas.check_body(body, {} if optional else None)
    if not request.is_json:
        raise ApiProblem("unsupported-media-type")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise ApiProblem("invalid-json", _l("The body is not valid JSON (line %(line)s, column %(column)s).",
                                            line=error.lineno, column=error.colno)) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiProblem("invalid-json", _l("The body is not valid JSON in UTF-8.")) from None
    return schemas.check_body(body, data)


def _no_constant(name: str):
    raise ValueError(name)  # NaN and Infinity are not JSON


def parse_number(value: str) -> int:
    """A register number from the path; anything that cannot be one is simply not found."""
    number = as_register_number(value)
    if number is None:
        raise NotFound(_l("No interpreter has register number %(number)s.", number=value[:20]))
    return number


def location(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


from . import admin, bookings, public  # noqa: E402,F401  (the routes, on bp)
