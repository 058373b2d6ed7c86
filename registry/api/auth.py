"""Bearer tokens for the API: `Authorization: Bearer TOKEN`, nothing else (no cookies, no sessions).

`@token("booker", "agency_admin")` marks a view with the roles that may use it, under the same
`access_rule` attribute as registry.access, so the access-matrix test reads API routes like any other.
No token or a bad one is 401 with WWW-Authenticate; a role not listed is 403 (and audited).
"""

import re
from collections.abc import Callable
from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from ..access import ACCESS_ATTRIBUTE
from ..database import SAFE_METHODS, commit_read, discard, read_apart, writing
from ..domain import accounts, audit, clock
from ..extensions import db
from ..labels import ROLE
from ..models import User
from ..models.account import ROLES
from .problems import ApiProblem

BEARER = re.compile(r"Bearer[ \t]+([A-Za-z0-9._~+/=-]+)[ \t]*", re.IGNORECASE)
CHALLENGE = 'Bearer realm="api"'


def token_value() -> str | None:
    match = BEARER.fullmatch(request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def rate_limit_key() -> str:
    """Requests count per token; without one, per address."""
    value = token_value()
    if value:
        return "api-token:" + accounts.digest(value)[:32]
    return "api-address:" + (request.remote_addr or "unknown")


def _lookup(value: str) -> User | None:
    """The token's user. A changed `last_used_at` is saved apart, so a GET stays a read transaction.

    A request that writes reads its token apart on SQLite (database.read_apart): under the bench's booking
    load the bookings had been written one at a time with 1.26 of 2 cores busy, and this took them from 170 to 203
    a second."""
    now = clock.now()
    writes = request.method not in SAFE_METHODS
    with read_apart(db.session) as apart:
        user = accounts.user_for_api_token(db.session, value, now)
        if user is None or not db.session.dirty:
            if apart:
                commit_read(db.session())
            return user
        if writes and not apart:
            db.session.commit()
            return user
        db.session.expire_all()  # the new last_used_at is written apart, below; nothing else was changed
        discard(db.session())
    with writing():
        user = accounts.user_for_api_token(db.session, value, now)
        db.session.commit()
    return user


def authenticate() -> User:
    value = token_value()
    if value is None:
        raise ApiProblem("unauthorized", _l("Send an API token in the header Authorization: Bearer TOKEN."),
                         headers={"WWW-Authenticate": CHALLENGE})
    user = _lookup(value)
    if user is None:
        raise ApiProblem("unauthorized", _l("The API token is not valid: it is wrong, revoked, or its user is "
                                            "no longer active."),
                         headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'})
    return user


def _refuse(user: User) -> None:
    """Audit the refusal in a short write transaction of its own, then answer 403."""
    role = user.role
    discard(db.session())
    with writing():
        audit.record(db.session, "access.refused", actor=db.session.get(User, user.id), object_type="route",
                     object_id=request.path[:64], ip=request.remote_addr,
                     after={"method": request.method, "endpoint": request.endpoint, "via": "api"})
        db.session.commit()
    raise ApiProblem("forbidden", _l("Your role (%(role)s) may not use this operation.", role=ROLE[role]))


def token(*allowed: str) -> Callable:
    """Only callers with a valid token whose user has one of these roles; `current()` is that user."""
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = authenticate()
            if user.role not in allowed:
                _refuse(user)
            g.api_user = user
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, frozenset(allowed))
        return wrapper

    return decorate


def current() -> User:
    """The user whose token authenticated this request."""
    return g.api_user
