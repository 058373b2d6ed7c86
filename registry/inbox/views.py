"""The interpreter's assignments: requests and open offers to answer, confirmed work, the calendar view,
time reports and each assignment's page with its history.

Every page is the logged-in interpreter's own: a booking neither assigned nor offered to them answers
404 (registry.domain.booking.for_interpreter). Views parse, call registry/domain, and render; a refused
change (a lost race, a lapsed request) is a 409 page with the domain's message and a way back.
"""

from functools import wraps

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..access import roles
from ..database import discard
from ..domain import assignments, booking, clock, times
from ..domain.errors import Conflict, InvalidInput
from ..domain.profile import errors_of
from ..errors import TITLES
from ..extensions import db
from . import forms

bp = Blueprint("inbox", __name__, url_prefix="/me/assignments")


@bp.context_processor
def words() -> dict:
    return {"BOOKING_STATUS": assignments.BOOKING_STATUS, "REPORT_STATE": assignments.REPORT_STATE,
            "WARNING_LABELS": assignments.WARNING, "HISTORY": forms.HISTORY, "WHO": forms.WHO,
            "FOLD_CHOICES": forms.FOLD_CHOICES}


def me():
    """The logged-in user as a model object (not Flask-Login's proxy), for the domain."""
    return current_user._get_current_object()


def rules() -> booking.Rules:
    return booking.Rules.from_config(current_app.config)


def answers_conflicts(view):
    """A change the booking's state does not allow (taken, lapsed, not ended): 409 with a way back."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except Conflict as error:
            discard(db.session())
            return render_template("inbox/refused.html", title=TITLES[409], message=error.message,
                                   booking_id=kwargs.get("booking_id")), 409
    return wrapper


# The inbox ------------------------------------------------------------------------------------------

@bp.get("")
@roles("interpreter")
def index():
    return render_template("inbox/index.html", inbox=assignments.inbox(db.session, me().interpreter_id, clock.now()),
                           action=forms.ActionForm())


@bp.post("/<int:booking_id>/accept")
@roles("interpreter")
@answers_conflicts
def accept(booking_id: int):
    booking.accept(db.session, me(), booking_id, clock.now(), rules())
    db.session.commit()
    flash(_("You have accepted the assignment. The public body has been told."), "success")
    return redirect(url_for("inbox.show", booking_id=booking_id), 303)


@bp.post("/<int:booking_id>/decline")
@roles("interpreter")
@answers_conflicts
def decline(booking_id: int):
    declined = booking.decline(db.session, me(), booking_id, clock.now())
    message = _("You have said no to the offer.") if declined.status == "open" else _(
        "You have declined the request. The public body has been told.")
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("inbox.index"), 303)


@bp.get("/<int:booking_id>/withdraw")
@roles("interpreter")
def confirm_withdraw(booking_id: int):
    found = booking.for_interpreter(db.session, me(), booking_id)
    if found.status != "confirmed" or found.interpreter_id != me().interpreter_id:
        return redirect(url_for("inbox.show", booking_id=booking_id), 303)
    return render_template("inbox/withdraw.html", booking=found, action=forms.ActionForm())


@bp.post("/<int:booking_id>/withdraw")
@roles("interpreter")
@answers_conflicts
def withdraw(booking_id: int):
    booking.withdraw(db.session, me(), booking_id, clock.now(), rules())
    db.session.commit()
    flash(_("You have withdrawn from the assignment. The public body has been told, and it is offered to other "
            "interpreters."), "success")
    return redirect(url_for("inbox.index"), 303)


# The calendar view ----------------------------------------------------------------------------------

@bp.get("/calendar")
@roles("interpreter")
def calendar_view():
    text = request.args.get("week", "0").strip()
    try:
        offset = int(text)
    except ValueError:
        raise InvalidInput(_l("The week must be a whole number, such as 4 or -4."), "week") from None
    today = clock.oslo_date()
    first = assignments.first_monday(today, offset)
    weeks = assignments.agenda(db.session, me().interpreter_id, first)
    return render_template("inbox/calendar.html", weeks=weeks, today=today, offset=offset,
                           step=assignments.WEEKS_SHOWN)


# An assignment's page -------------------------------------------------------------------------------

@bp.get("/<int:booking_id>")
@roles("interpreter")
def show(booking_id: int):
    user = me()
    found = booking.for_interpreter(db.session, user, booking_id)
    mine = found.interpreter_id == user.interpreter_id
    return render_template(
        "inbox/show.html", booking=found, mine=mine, taken=booking.offer_gone(found, user.interpreter_id),
        gone_reason=booking.gone_reason(found),
        events=assignments.history(db.session, found, user) if mine else [], action=forms.ActionForm(),
        now=clock.now())


# Time reports ---------------------------------------------------------------------------------------

def _time_data(found) -> dict:
    """The form filled with what was reported before, or else with the planned times."""
    start, end = found.actual_start or found.starts_at, found.actual_end or found.ends_at
    data = {"actual_start": assignments.local_input(start), "actual_end": assignments.local_input(end),
            "travel_minutes": "" if found.travel_minutes is None else str(found.travel_minutes)}
    for name, moment in (("start_fold", start), ("end_fold", end)):
        if times.is_ambiguous(times.local(moment)):
            data[name] = str(times.local(moment).fold)
    return data


def _time_page(form, found, folds: dict, status: int):
    return render_template("inbox/time.html", form=form, booking=found, folds=folds), status


@bp.route("/<int:booking_id>/time", methods=["GET", "POST"])
@roles("interpreter")
@answers_conflicts
def report_time(booking_id: int):
    user, now = me(), clock.now()
    found = booking.for_interpreter(db.session, user, booking_id)
    booking.check_reportable(found, user.interpreter_id, now)
    form = forms.TimeForm(data=_time_data(found) if request.method == "GET" else None)
    # Ask which of the two times is meant only for a time in the hour the clocks go back.
    folds = {"actual_start": bool(form.start_fold.data), "actual_end": bool(form.end_fold.data)}
    if request.method == "GET":
        return _time_page(form, found, folds, 200)
    if not form.validate_on_submit():
        return _time_page(form, found, folds, 422)
    parsed, faults = {}, []
    for name, fold_field in (("actual_start", form.start_fold), ("actual_end", form.end_fold)):
        try:
            parsed[name] = times.parse_local(form[name].data, name, form.fold(fold_field))
        except times.AmbiguousTime as error:
            folds[name] = True
            faults.append(error)
        except InvalidInput as error:
            faults.append(error)
    try:
        if not faults:
            booking.report_time(db.session, user, booking_id, parsed["actual_start"], parsed["actual_end"],
                                form.travel(), now)
    except InvalidInput as error:
        discard(db.session())
        faults.append(error)
    if faults:
        for fault in faults:
            _show(form, fault)
        return _time_page(form, found, folds, 422)
    db.session.commit()
    flash(_("Your time is reported. The public body is asked to approve it."), "success")
    return redirect(url_for("inbox.show", booking_id=booking_id), 303)


def _show(form, error: InvalidInput) -> None:
    for fault in errors_of(error):
        field = form._fields.get(fault.field or "") or form.actual_start
        field.errors = [*field.errors, fault.message]
