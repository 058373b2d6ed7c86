"""Login, two-factor codes, logout, invitations, password reset and the account page."""

import io
from datetime import timedelta
from urllib.parse import urlsplit

import qrcode
import qrcode.image.svg
import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import PasswordField

from ..access import logged_in, public
from ..database import writing
from ..domain import accounts, audit, clock
from ..extensions import db, limiter
from ..models import ApiToken, User
from . import forms
from .sessions import end_login, finish_login, home_for, mark_reauthenticated, reauthenticated_recently

bp = Blueprint("auth", __name__)
PENDING = "pending_2fa"
PENDING_MINUTES = 5


def _account_key() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site; never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _after_login(user: User):
    return redirect(_safe_next(request.args.get("next")) or url_for(home_for(user)))


def _login_limits():
    config = current_app.config
    return config["LOGIN_RATE_LIMIT_PER_ACCOUNT"], config["LOGIN_RATE_LIMIT_PER_ADDRESS"]


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: _login_limits()[0], key_func=_account_key, methods=["POST"])
@limiter.limit(lambda: _login_limits()[1], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for(home_for(current_user)))
    form = forms.LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.is_submitted() else 200
    email = accounts.normalise_email(form.email.data)
    user = accounts.authenticate(db.session, email, form.password.data,
                                 current_app.config["PASSWORD_HASH_PROFILE"])
    if user is None:
        audit.record(db.session, "login.failed", actor_label=email[:254], object_type="user",
                     ip=request.remote_addr)
        db.session.commit()
        form.password.errors = []
        return render_template("auth/login.html", form=form, failed=True), 401
    if user.totp_enabled:
        session[PENDING] = {"user": user.id, "at": clock.now().timestamp()}
        db.session.commit()
        return redirect(url_for("auth.login_code", next=request.args.get("next")))
    finish_login(user)
    db.session.commit()
    return _after_login(user)


def _pending_user() -> User | None:
    pending = session.get(PENDING)
    if not pending or clock.now().timestamp() - pending["at"] > PENDING_MINUTES * 60:
        return None
    return db.session.get(User, pending["user"])


def _pending_key() -> str:
    """The account at the second step: its codes count together from whatever address they come."""
    return f"code:{(session.get(PENDING) or {}).get('user', 'none')}"


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit(lambda: _login_limits()[0], key_func=_pending_key, methods=["POST"])
@limiter.limit(lambda: _login_limits()[1], methods=["POST"])
def login_code():
    user = _pending_user()
    if user is None:
        flash(_("Log in again: the time for entering the code ran out."), "warning")
        return redirect(url_for("auth.login"))
    form = forms.CodeForm()
    if not form.validate_on_submit():
        return render_template("auth/code.html", form=form), 422 if form.is_submitted() else 200
    now = clock.now()
    if accounts.use_totp(db.session, user, form.code.data, now) or accounts.use_recovery_code(
            db.session, user, form.code.data, now):
        session.pop(PENDING, None)
        finish_login(user)
        db.session.commit()
        return _after_login(user)
    audit.record(db.session, "login.code_failed", actor=user, object_type="user", object_id=user.id,
                 ip=request.remote_addr)
    db.session.commit()
    form.code.errors = [_("The code is not right. Try the newest code from the app, or a recovery code.")]
    return render_template("auth/code.html", form=form), 401


@bp.post("/logout")
@public
def logout():
    end_login()
    db.session.commit()
    flash(_("You are logged out."), "success")
    return redirect(url_for("register.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit(lambda: _login_limits()[1], methods=["POST"])
def forgot_password():
    form = forms.EmailForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form), 422 if form.is_submitted() else 200
    user = db.session.scalar(sa.select(User).where(User.email == accounts.normalise_email(form.email.data)))
    if user is not None and user.is_active:
        minutes = current_app.config["PASSWORD_RESET_VALID_MINUTES"]
        accounts.send_link(db.session, user, "password_reset", clock.now(), timedelta(minutes=minutes),
                           lambda token: url_for("auth.reset_password", token=token, _external=True))
        audit.record(db.session, "password.reset_requested", actor=user, object_type="user", object_id=user.id,
                     ip=request.remote_addr)
        db.session.commit()
    # The same answer whether or not the address is known: no way to probe who has a login.
    flash(_("If the address has a login, we have sent it a link to choose a new password."), "success")
    return redirect(url_for("auth.login"))


def _set_password_page(purpose: str, token: str, template: str):
    now = clock.now()
    record = accounts.peek_link_token(db.session, token, purpose, now)
    form = forms.SetPasswordForm()
    if not form.validate_on_submit():
        user = db.session.get(User, record.user_id)
        return render_template(template, form=form, user=user), 422 if form.is_submitted() else 200
    user = accounts.use_link_token(db.session, token, purpose, now)
    accounts.set_password(user, form.password.data, current_app.config["PASSWORD_HASH_PROFILE"])
    accounts.end_all_sessions(db.session, user, now)
    audit.record(db.session, f"password.set_by_{purpose}", actor=user, object_type="user", object_id=user.id,
                 ip=request.remote_addr)
    return user


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    result = _set_password_page("password_reset", token, "auth/reset.html")
    if not isinstance(result, User):
        return result
    db.session.commit()
    flash(_("Your password is changed. Log in with the new password."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str):
    result = _set_password_page("invitation", token, "auth/invitation.html")
    if not isinstance(result, User):
        return result
    finish_login(result)
    db.session.commit()
    flash(_("Welcome! Your login is ready."), "success")
    return redirect(url_for(home_for(result)))


@bp.get("/account")
@logged_in
def account():
    tokens = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == current_user.id)
                                .order_by(ApiToken.id.desc())).all()
    return render_template("auth/account.html", language_form=forms.LanguageForm(locale=current_user.locale or "nb"),
                           token_form=forms.TokenForm(), tokens=tokens, confirm=forms.ConfirmForm())


@bp.post("/account/language")
@logged_in
def account_language():
    form = forms.LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    before = current_user.locale
    current_user.locale = form.locale.data
    session["lang"] = form.locale.data
    audit.record(db.session, "user.language_changed", actor=current_user, object_type="user",
                 object_id=current_user.id, before={"locale": before}, after={"locale": form.locale.data})
    db.session.commit()
    flash(_("Language saved."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
@logged_in
def change_password():
    form = forms.ChangePasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/password.html", form=form), 422 if form.is_submitted() else 200
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if accounts.authenticate(db.session, current_user.email, form.current.data, profile) is None:
        form.current.errors = [_("The current password is not right.")]
        return render_template("auth/password.html", form=form), 422
    accounts.set_password(current_user, form.password.data, profile)
    accounts.end_all_sessions(db.session, current_user, clock.now(), keep=session.get("sid"))
    mark_reauthenticated()
    audit.record(db.session, "password.changed", actor=current_user, object_type="user", object_id=current_user.id,
                 ip=request.remote_addr)
    db.session.commit()
    flash(_("Your password is changed. Other logins with the old password have been ended."), "success")
    return redirect(url_for("auth.account"))


def _require_recent_password(form) -> bool:
    """Re-authentication before a sensitive change: the current password unless entered just now."""
    if reauthenticated_recently():
        return True
    profile = current_app.config["PASSWORD_HASH_PROFILE"]
    if form.current.data and accounts.authenticate(db.session, current_user.email, form.current.data, profile):
        mark_reauthenticated()
        return True
    form.current.errors = [_("Enter your current password to continue.")]
    return False


class TwoFactorForm(forms.TwoFactorSetupForm):
    current = PasswordField(_l("Current password"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@logged_in
def two_factor_setup():
    if current_user.totp_enabled:
        return render_template("auth/two_factor_on.html", confirm=forms.ConfirmForm(), form=forms.ReauthForm(),
                               recent=reauthenticated_recently())
    secret = session.get("totp_setup") or accounts.new_totp_secret()
    session["totp_setup"] = secret
    form = TwoFactorForm()
    recent = reauthenticated_recently()
    if form.validate_on_submit():
        if _require_recent_password(form):
            with writing():
                codes = accounts.enable_two_factor(db.session, current_user, secret, form.code.data, clock.now(),
                                                   ip=request.remote_addr)
                if codes is not None:
                    db.session.commit()
            if codes is not None:
                session.pop("totp_setup", None)
                return render_template("auth/recovery_codes.html", codes=codes)
            form.code.errors = [_("The code is not right. Check the time on your phone and try the newest code.")]
    status = 422 if form.is_submitted() else 200
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, recent=recent), status


@bp.get("/account/two-factor/qr.svg")
@logged_in
def two_factor_qr():
    secret = session.get("totp_setup")
    if not secret or current_user.totp_enabled:
        abort(404)
    image = qrcode.make(accounts.totp_uri(current_user, secret), image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue(), 200, {"Content-Type": "image/svg+xml", "Cache-Control": "no-store"}


@bp.post("/account/two-factor/disable")
@logged_in
def two_factor_disable():
    if current_user.role == "registry_admin":
        abort(403)
    form = forms.ReauthForm()
    if not form.validate_on_submit() or not _require_recent_password(form):
        flash(_("Enter your current password to turn off two-factor login."), "error")
        return redirect(url_for("auth.two_factor_setup"))
    accounts.disable_two_factor(db.session, current_user, ip=request.remote_addr)
    db.session.commit()
    flash(_("Two-factor login is off."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/recovery-codes")
@logged_in
def recovery_codes():
    form = forms.ReauthForm()
    if not current_user.totp_enabled or not form.validate_on_submit() or not _require_recent_password(form):
        flash(_("Enter your current password to make new recovery codes."), "error")
        return redirect(url_for("auth.two_factor_setup"))
    codes = accounts.new_recovery_codes(db.session, current_user)
    audit.record(db.session, "two_factor.new_recovery_codes", actor=current_user, object_type="user",
                 object_id=current_user.id, ip=request.remote_addr)
    db.session.commit()
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/account/tokens")
@logged_in
def create_token():
    form = forms.TokenForm()
    if not form.validate_on_submit():
        flash(_("Give the token a name of at most 100 characters."), "error")
        return redirect(url_for("auth.account")), 303
    token, value = accounts.create_api_token(db.session, current_user, form.name.data)
    audit.record(db.session, "api_token.created", actor=current_user, object_type="api_token", object_id=token.id,
                 after={"name": token.name, "prefix": token.prefix})
    db.session.commit()
    return render_template("auth/token_created.html", token=token, value=value)


@bp.post("/account/tokens/<int:token_id>/revoke")
@logged_in
def revoke_token(token_id: int):
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(db.session, "api_token.revoked", actor=current_user, object_type="api_token",
                     object_id=token.id, after={"name": token.name, "prefix": token.prefix})
        db.session.commit()
    flash(_("The token is revoked."), "success")
    return redirect(url_for("auth.account"))
