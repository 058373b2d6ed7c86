"""Calendar feeds: a private iCal address per interpreter and booker, and an .ics file per booking.

The feed at /calendar/<token>.ics is public on purpose: calendar apps fetch it without logging in, and
the signed token in the address is the secret (see registry/domain/calendar.py). Everything else needs a
login. Views parse, call registry/domain, and render.
"""

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..access import public, roles
from ..domain import calendar, clock
from ..extensions import db
from .forms import RotateForm

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
FEED_USERS = ("interpreter", "booker", "agency_admin")


def me():
    """The logged-in user as a model object (not Flask-Login's proxy), for the domain."""
    return current_user._get_current_object()


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _link(user):
    """The booking's page in the web app, for the calendar event: the interpreter's or the booker's."""
    endpoint = "inbox.show" if user.role == "interpreter" else "booking.view"
    return lambda booking: url_for(endpoint, booking_id=booking.id, _external=True)


def _ics(body: bytes, filename: str, attachment: bool) -> Response:
    response = Response(body, content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Private to the person: no shared cache may keep it, and a replaced address must stop at once.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("")
@roles(*FEED_USERS)
def index():
    user = me()
    address = url_for("calendar.feed", token=calendar.feed_token(user, _secret()), _external=True)
    webcal = "webcal://" + address.split("://", 1)[1]
    return render_template("calendar/index.html", address=address, webcal=webcal, form=RotateForm(),
                           covers=dict(past=calendar.FEED_PAST.days, ahead=calendar.FEED_AHEAD.days))


@bp.post("/rotate")
@roles(*FEED_USERS)
def rotate():
    # CSRFProtect has checked the form's token before this runs.
    calendar.rotate(db.session, me(), ip=request.remote_addr)
    db.session.commit()
    flash(_("Your calendar has a new address. The old address no longer works: add the new one to your calendar "
            "app."), "success")
    return redirect(url_for("calendar.index"), 303)


@bp.get("/<token>.ics")
@public
def feed(token: str):
    user = calendar.feed_owner(db.session, token, _secret())
    # The calendar app sends no session: the feed is in the owner's chosen language.
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        body = calendar.feed(db.session, user, clock.now(), _link(user))
    return _ics(body, "tolkeregister.ics", attachment=False)


@bp.get("/booking/<int:booking_id>.ics")
@roles(*FEED_USERS)
def booking_ics(booking_id: int):
    user = me()
    found = calendar.booking_for(db.session, user, booking_id)
    return _ics(calendar.booking_ics(db.session, user, found, clock.now(), _link(user)),
                f"booking-{found.id}.ics", attachment=True)
