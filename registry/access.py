"""Who may use a view. Every view declares it; the access-matrix test fails on one that does not.

- `@public`: anyone, logged in or not.
- `@roles("booker", "agency_admin")`: logged-in users with one of these roles. Anonymous visitors are
  sent to the login page; a logged-in user with another role gets 403 (and the refusal is audited).
Ownership of objects (a booker sees only their agency's data) is checked by the domain's scoped
look-ups, which answer 404 for someone else's object.
"""

from collections.abc import Callable
from functools import wraps

from flask import abort, request
from flask_login import current_user

from .extensions import db, login_manager
from .models.account import ROLES

ACCESS_ATTRIBUTE = "access_rule"


def public(view: Callable) -> Callable:
    setattr(view, ACCESS_ATTRIBUTE, "public")
    return view


def roles(*allowed: str) -> Callable:
    unknown = set(allowed) - set(ROLES)
    if unknown or not allowed:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                refuse()
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTRIBUTE, frozenset(allowed))
        return wrapper

    return decorate


def logged_in(view: Callable) -> Callable:
    """Any logged-in user, whatever the role."""
    return roles(*ROLES)(view)


def refuse(status: int = 403):
    """Audit a refused access, then answer `status`."""
    from .domain import audit

    audit.record(db.session, "access.refused", actor=current_user if current_user.is_authenticated else None,
                 object_type="route", object_id=request.path[:64], ip=request.remote_addr,
                 after={"method": request.method, "endpoint": request.endpoint})
    db.session.commit()
    abort(status)


def rule_of(view: Callable) -> str | frozenset | None:
    return getattr(view, ACCESS_ATTRIBUTE, None)
