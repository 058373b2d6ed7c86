"""Flask-Login backed by server-side session records, so logout and timeouts really end a login."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ..database import SAFE_METHODS, commit_read, discard, read_apart, writing
from ..domain import accounts, audit, clock
from ..extensions import db, login_manager
from ..models import User, UserSession

SEEN_EVERY = timedelta(seconds=60)
# Pages a registry admin may open before two-factor login is set up.
BEFORE_TWO_FACTOR = {"auth.two_factor_setup", "auth.logout", "static", "register.healthz"}


def _timeouts():
    config = current_app.config
    return timedelta(minutes=config["SESSION_IDLE_MINUTES"]), timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])


def load_user(user_id: str):
    """The logged-in user of this request's session record, or None when it has ended, timed out or is not theirs.
    A request that writes reads it apart on SQLite (database.read_apart), as the API reads its token."""
    with read_apart(db.session) as apart:
        user, bookkeeping = _logged_in(user_id)
        if apart and bookkeeping is None:
            commit_read(db.session())
    if bookkeeping is not None:
        _write_apart(bookkeeping, apart)
    return user


def _logged_in(user_id: str):
    """The user (or None), and the session record's bookkeeping to write, if any (it ended, or was seen)."""
    now = clock.now()
    idle, absolute = _timeouts()
    sid = session.get("sid")
    record = db.session.get(UserSession, sid) if sid else None
    if record is None or str(record.user_id) != user_id:
        return None, None
    if accounts.session_expired(record, now, idle, absolute):
        session.pop("sid", None)
        if record.ended_at is None:
            return None, sa.update(UserSession).where(UserSession.id == sid).values(ended_at=now)
        return None, None
    user = db.session.get(User, record.user_id)
    if user is None or not user.is_active:
        return None, None
    if now - record.last_seen_at > SEEN_EVERY:
        return user, sa.update(UserSession).where(UserSession.id == sid).values(last_seen_at=now)
    return user, None


def _write_apart(statement, login_read_apart: bool = False) -> None:
    """Session bookkeeping in a short write transaction of its own, even during a GET.

    On SQLite a read transaction that later writes can fail at once if another connection wrote in
    between; a separate transaction begun IMMEDIATE waits its turn instead. A write request that read its
    login apart (load_user) writes it apart too; otherwise in the request's own write transaction."""
    if request.method not in SAFE_METHODS and not login_read_apart:
        db.session.execute(statement)  # the request's own write transaction, begun IMMEDIATE
        return
    discard(db.session())  # nothing was written yet (a GET, or the login read apart): no ROLLBACK, see discard
    with writing():
        db.session.execute(statement)
        db.session.commit()


def finish_login(user: User) -> None:
    """Start a fresh session for `user`: nothing of the anonymous session is carried over."""
    lang = session.get("lang")
    session.clear()
    record = accounts.start_session(db.session, user, clock.now(), request.remote_addr)
    login_user(user)
    session["sid"] = record.id
    session.permanent = True
    if user.locale or lang:
        session["lang"] = user.locale or lang
    audit.record(db.session, "login.succeeded", actor=user, object_type="user", object_id=user.id,
                 ip=request.remote_addr)


def end_login() -> None:
    user = current_user if current_user.is_authenticated else None  # load it before writing
    accounts.end_session(db.session, session.get("sid"), clock.now())
    if user is not None:
        audit.record(db.session, "logout", actor=user, object_type="user", object_id=user.id,
                     ip=request.remote_addr)
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def reauthenticated_recently() -> bool:
    record = db.session.get(UserSession, session.get("sid") or "")
    limit = timedelta(minutes=current_app.config["REAUTH_MINUTES"])
    return record is not None and clock.now() - record.authenticated_at <= limit


def mark_reauthenticated() -> None:
    record = db.session.get(UserSession, session.get("sid") or "")
    if record is not None:
        record.authenticated_at = clock.now()


def require_two_factor_for_admins():
    # The cheap checks first: the API has no login session (it takes tokens), and loading the session's user
    # cost 0.15 ms of CPU on every API request and every /healthz.
    if request.blueprint == "api" or request.endpoint in BEFORE_TWO_FACTOR:
        return None
    if (current_user.is_authenticated and current_user.role == "registry_admin"
            and not current_user.totp_enabled):
        return redirect(url_for("auth.two_factor_setup"))
    return None


def home_for(user: User) -> str:
    return {
        "registry_admin": "admin.work_queue",
        "agency_admin": "agency.home",
        "booker": "booking.index",
        "interpreter": "interpreter.home",
    }[user.role]


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session record does this job
    login_manager.user_loader(load_user)
    app.before_request(require_two_factor_for_admins)
    app.jinja_env.globals["home_endpoint"] = home_for
