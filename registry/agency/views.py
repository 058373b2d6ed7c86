"""A public body's own administration: its bookers and their API tokens."""

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles
from ..database import discard
from ..domain import agencies, clock
from ..domain.errors import Conflict, DomainError, NotFound
from ..extensions import db
from . import forms

bp = Blueprint("agency", __name__, url_prefix="/agency")


def me():
    """The logged-in user as a model object (not Flask-Login's proxy), for the domain."""
    return current_user._get_current_object()


def invitation_link(token: str) -> str:
    return url_for("auth.accept_invitation", token=token, _external=True)


def invitation_valid_for() -> timedelta:
    return timedelta(days=current_app.config["INVITATION_VALID_DAYS"])


def send_invitation(agency, role: str, form) -> tuple[object, int]:
    """Invite the person in a validated InviteForm; (user, 200) or (None, 409/422) with the error on the form."""
    try:
        user = agencies.invite_user(
            db.session, me(), agency, role, form.name.data, form.email.data, clock.now(), invitation_link,
            valid_for=invitation_valid_for(), ip=request.remote_addr)
    except NotFound:
        raise
    except DomainError as error:
        discard(db.session())
        forms.show_error(form, error)
        return None, 409 if isinstance(error, Conflict) else 422
    db.session.commit()
    flash(_("An invitation has been sent to %(email)s.", email=user.email), "success")
    return user, 200


def _page(invite_form=None, status: int = 200):
    agency = current_user.agency
    return render_template(
        "agency/home.html", agency=agency, users=agencies.agency_users(db.session, agency),
        tokens=agencies.agency_tokens(db.session, agency),
        invite_form=invite_form or forms.InviteForm(prefix="invite", formdata=None),
    ), status


@bp.get("/")
@roles("agency_admin")
def home():
    return _page()


@bp.post("/invite")
@roles("agency_admin")
def invite():
    form = forms.InviteForm(prefix="invite")
    if not form.validate_on_submit():
        return _page(form, 422)
    user, status = send_invitation(current_user.agency, "booker", form)
    if user is None:
        return _page(form, status)
    return redirect(url_for("agency.home"), 303)


def _set_active(user_id: int, active: bool):
    user = agencies.find_user(db.session, me(), user_id)
    agencies.set_user_active(db.session, me(), user, active, clock.now(), ip=request.remote_addr)
    db.session.commit()
    if active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and has been logged out.", name=user.name), "success")
    return redirect(url_for("agency.home"), 303)


@bp.post("/users/<int:user_id>/deactivate")
@roles("agency_admin")
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/activate")
@roles("agency_admin")
def activate_user(user_id: int):
    return _set_active(user_id, True)


def invite_again(user) -> None:
    agencies.invite_again(db.session, me(), user, clock.now(), invitation_link, valid_for=invitation_valid_for(),
                          ip=request.remote_addr)
    db.session.commit()
    flash(_("A new invitation has been sent to %(email)s.", email=user.email), "success")


@bp.post("/users/<int:user_id>/invite-again")
@roles("agency_admin")
def invite_user_again(user_id: int):
    invite_again(agencies.find_user(db.session, me(), user_id))
    return redirect(url_for("agency.home"), 303)


@bp.post("/tokens/<int:token_id>/revoke")
@roles("agency_admin")
def revoke_token(token_id: int):
    token = agencies.find_token(db.session, me(), token_id)
    agencies.revoke_token(db.session, me(), token, clock.now(), ip=request.remote_addr)
    db.session.commit()
    flash(_("The API token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("agency.home"), 303)


from . import statistics  # noqa: E402,F401  (its routes join this blueprint)
