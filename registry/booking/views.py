"""The booker's pages: find a free qualified interpreter, book, follow and manage the agency's bookings.

Every page is for bookers and agency administrators, and shows only their own agency's bookings: a
booking of another agency answers 404 (registry.domain.booking.for_agency). Views parse, call the
domain, commit, and render; a refusal answers the domain error's status with its message, and the
request's changes are rolled back.
"""

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import current_user

from .. import paging
from ..access import roles
from ..database import commit_read, discard, read_apart, reading
from ..domain import audit, booker, booking, clock, places, register
from ..domain.availability import find_available
from ..domain.errors import Conflict, DomainError, InvalidInput, NotFound
from ..domain.languages import LANGUAGE_CODES, language_choices
from ..domain.places import county_choices, municipality_groups
from ..domain.times import is_ambiguous, local, local_day_bounds
from ..extensions import db
from ..i18n import current_language
from ..labels import GENDER, MODALITY, SECTOR
from ..models import Interpreter
from ..models.account import SECTORS
from ..models.booking import STATUSES
from ..models.interpreter import CATEGORIES, MODALITIES
from . import forms, labels

bp = Blueprint("booking", __name__, url_prefix="/bookings")
BOOKERS = ("booker", "agency_admin")
SEARCH_LIMIT = 50


@bp.context_processor
def booking_labels() -> dict:
    return {"BOOKING_STATUS_LABELS": labels.STATUS, "BOOKING_WARNING_LABELS": labels.WARNING,
            "BOOKING_WARNING_SHORT": labels.WARNING_SHORT, "BOOKING_ACTION_LABELS": labels.ACTION,
            "REPORT_STATE_LABELS": labels.REPORT_STATE, "NO_SHOW_LABELS": labels.NO_SHOW,
            "FOLD_LABELS": labels.FOLD, "clock_time": clock_time}


def clock_time(moment: datetime) -> str:
    """HH:MM in Norway; in the hour that happens twice, also which of the two."""
    text = format_time(moment, "HH:mm")
    here = local(moment)
    if is_ambiguous(here.replace(tzinfo=None)):
        text += " " + (_("(summer time)") if here.fold == 0 else _("(winter time)"))
    return text


def me():
    """The logged-in user as a model object (not Flask-Login's proxy), for the domain."""
    return current_user._get_current_object()


def rules() -> booking.Rules:
    return booking.Rules.from_config(current_app.config)


def choices() -> dict:
    """Select lists, named in the reader's language."""
    return {
        "languages": language_choices(LANGUAGE_CODES, current_language()),
        "counties": county_choices(),
        "municipality_groups": municipality_groups(),
        "category_options": [(c, _("At least %(category)s", category=c)) for c in CATEGORIES],
        "modality_options": [(m, MODALITY[m]) for m in MODALITIES],
        "gender_options": [(g, GENDER[g]) for g in ("female", "male")],
        "sector_options": [(s, SECTOR[s]) for s in SECTORS],
    }


# Search -------------------------------------------------------------------------------------------

@bp.get("/search")
@roles(*BOOKERS)
def search():
    form = forms.SearchForm(request.args)
    if "language" not in request.args:
        form.sector.data = form.sector.data or current_user.agency.sector
        return _search_page(form, None)
    try:
        starts_at, ends_at = forms.slot_times(form)
        slot = booker.search_slot(
            db.session, language=form.language.data, min_category=form.min_category.data,
            modality=form.modality.data, starts_at=starts_at, ends_at=ends_at, county=form.county.data,
            municipality=form.municipality.data or None, gender=form.gender_preference.data or None,
            sector=form.sector.data or None, now=clock.now(), rules=rules())
    except InvalidInput as error:
        forms.show_errors(form, error)
        return _search_page(form, None, 422)
    return _search_page(form, find_available(db.session, slot, limit=SEARCH_LIMIT), slot=slot)


def _search_page(form, results, status: int = 200, slot=None):
    county_names = dict(county_choices())
    return render_template("booking/search.html", form=form, results=results, slot=slot, county_names=county_names,
                           ambiguous=forms.ambiguous_fields(form), limit=SEARCH_LIMIT, **choices()), status


# Booking form, direct and open requests, series ------------------------------------------------------

def _interpreter(number: int | None) -> Interpreter | None:
    if number is None:
        return None
    found = register.by_number(db.session, number)
    if found is None:
        raise NotFound(_("No interpreter has register number %(number)s.", number=number))
    return found


def _chosen(form) -> Interpreter | None:
    try:
        return _interpreter(forms.register_number(form))
    except InvalidInput as error:
        raise NotFound(error.message) from None


def _form_page(form, interpreter, status: int = 200, error=None):
    return render_template("booking/form.html", form=form, interpreter=interpreter, error=error,
                           ambiguous=forms.ambiguous_fields(form), max_series=rules().max_series,
                           **choices()), status


@bp.route("/new", methods=["GET", "POST"])
@roles(*BOOKERS)
def new():
    if request.method == "GET":
        defaults = {"sector": current_user.agency.sector, "contact_name": current_user.name}
        form = forms.BookingForm(formdata=None, data={**defaults, **request.args.to_dict()})
        return _form_page(form, _chosen(form))
    form = forms.BookingForm()
    now, user = clock.now(), me()
    # What the request reads before it books (the interpreter, whether they may take the slot) is read apart on
    # SQLite (database.read_apart), as the API does, so the one write lock is held for the free-slot check and the
    # writes only; a series' preview, which writes nothing, never takes it.
    with read_apart(db.session) as apart:
        interpreter = _chosen(form)
        if request.form.get("step") == "edit":  # back from the series preview to change something
            return _form_page(form, interpreter)
        try:
            d = forms.details(form, *forms.slot_times(form))
            repeat = forms.series(form) if interpreter else None
        except InvalidInput as error:
            forms.show_errors(form, error)
            return _form_page(form, interpreter, 422)
        if repeat:
            return _series_preview(form, interpreter, user, d, repeat, now)
        chosen = None
        try:
            if interpreter:
                chosen = booking.choose(db.session, user, interpreter.register_number, d, now, rules())
        except NotFound:
            raise
        except DomainError as error:
            return _refused_form(form, interpreter, error)
        if apart:
            commit_read(db.session())
    try:
        if interpreter:
            made = booking.request_direct(db.session, user, interpreter.register_number, d, now, rules(),
                                          chosen=chosen)
        else:
            made = booking.create_open(db.session, user, d, now, rules())
    except NotFound:
        raise
    except DomainError as error:
        return _refused_form(form, interpreter, error)
    if interpreter:
        message = _("The request is sent to %(name)s, who holds the time for you until they answer.",
                    name=interpreter.name)
    else:
        message = _("The open request is sent to every qualified, free interpreter. The first to accept gets it.")
    made_id = made.id
    # The message and the address are read before the commit, which expires what the session holds: read after
    # it, the booking and the interpreter would be loaded again, in a write transaction of its own (this is a POST).
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("booking.view", booking_id=made_id), 303)


def _refused_form(form, interpreter, error: DomainError):
    discard(db.session())
    if isinstance(error, Conflict):
        return _form_page(form, interpreter, 409, error=error)
    forms.show_errors(form, error)
    return _form_page(form, interpreter, 422)


def _series_preview(form, interpreter, user, d, repeat: tuple[int, int], now, status: int = 200, error=None):
    """The dates of a series, each with whether it can be booked: asked for, or shown again when a series was
    refused. A preview writes nothing: on SQLite it, and its page, do not take the write lock."""
    with reading():
        try:
            occurrences = booking.preview_series(db.session, user, interpreter.register_number, d, *repeat, now,
                                                 rules())
        except NotFound:
            raise
        except DomainError as invalid:
            return _refused_form(form, interpreter, invalid)
        discard(db.session())  # a preview changes nothing
        return render_template("booking/series_preview.html", form=form, interpreter=interpreter,
                               occurrences=occurrences, all_free=all(o.free for o in occurrences), error=error,
                               confirm=forms.ConfirmForm()), status


@bp.post("/series")
@roles(*BOOKERS)
def create_series():
    form = forms.BookingForm()
    now, user = clock.now(), me()
    # Every date's checks are read apart on SQLite (booking.choose_series), as a single request's are (see `new`):
    # the write lock is held for the free-slot checks and the writes only.
    with read_apart(db.session):
        interpreter = _chosen(form)
        if interpreter is None:
            raise InvalidInput(_("A series needs a chosen interpreter."), "interpreter")
        try:
            d = forms.details(form, *forms.slot_times(form))
            repeat = forms.series(form) or (7, 1)
        except InvalidInput as error:
            forms.show_errors(form, error)
            return _form_page(form, interpreter, 422)
    try:
        with read_apart(db.session) as apart:  # the same read transaction as above
            chosen = booking.choose_series(db.session, user, interpreter.register_number, d, *repeat, now, rules())
            if apart:
                commit_read(db.session())
        made = booking.create_series(db.session, user, interpreter.register_number, d, *repeat, now, rules(),
                                     chosen=chosen)
    except NotFound:
        raise
    except Conflict as error:
        discard(db.session())  # all or nothing: not one date is kept
        return _series_preview(form, interpreter, user, d, repeat, now, 409, error)
    except InvalidInput as error:
        return _refused_form(form, interpreter, error)
    message = _("%(count)s requests are sent to %(name)s, one for each date.", count=len(made), name=interpreter.name)
    first_id = made[0].id
    db.session.commit()  # after what the message and the address need (see `new`)
    flash(message, "success")
    return redirect(url_for("booking.view", booking_id=first_id), 303)


# The agency's bookings ---------------------------------------------------------------------------

def _list_filters(form) -> dict:
    """since/until as UTC bounds of whole days in Norway; InvalidInput for what cannot be read."""
    errors, found = [], {"status": (form.status.data or "").strip() or None}
    if found["status"] and found["status"] not in STATUSES:
        errors.append(InvalidInput(_("Choose a status from the list."), "status"))
    for name, edge in (("date_from", 0), ("date_to", 1)):
        text = (form[name].data or "").strip()
        found[name] = None
        if text:
            try:
                found[name] = local_day_bounds(forms.parse_date(text))[edge]
            except ValueError:
                errors.append(InvalidInput(_("Enter the date as YYYY-MM-DD, like 2027-03-01."), name))
    if not errors and found["date_from"] and found["date_to"] and found["date_to"] <= found["date_from"]:
        errors.append(InvalidInput(_("The to date must be the same as or after the from date."), "date_to"))
    if errors:
        raise forms.FormErrors(errors)
    return found


@bp.get("/")
@roles(*BOOKERS)
def index():
    args = {name: request.args.get(name, "") for name in ("status", "date_from", "date_to")}
    if "date_from" not in request.args:  # unless asked otherwise, what is coming, from today
        args["date_from"] = clock.oslo_date().isoformat()
    form = forms.ListForm(formdata=None, data=args)
    page = {"form": form, "rows": [], "next_cursor": None,
            "status_options": [(s, labels.STATUS[s]) for s in STATUSES]}
    try:
        found = _list_filters(form)
        after = paging.decode_timed("bookings", request.args.get("cursor"))
    except InvalidInput as error:
        forms.show_errors(form, error)
        return render_template("booking/list.html", **page), 422
    rows, next_key = booking.agency_bookings(
        db.session, current_user.agency_id, status=found["status"], since=found["date_from"],
        until=found["date_to"], after=after, limit=current_app.config["PAGE_SIZE"])
    page.update(rows=rows, next_cursor=paging.encode_timed("bookings", next_key))
    return render_template("booking/list.html", **page)


# One booking, and what the booker can do with it ----------------------------------------------------

def _booking_page(b, status: int = 200, error=None, **action_forms):
    now = clock.now()
    history = list(reversed(audit.search(db.session, object_type="booking", object_id=str(b.id), limit=500)))
    action_forms = {"cancel_form": forms.CancelForm(formdata=None), "dispute_form": forms.DisputeForm(formdata=None),
                    "no_show_form": forms.NoShowForm(formdata=None), "approve_form": forms.ConfirmForm(formdata=None),
                    **action_forms}
    return render_template(
        "booking/view.html", b=b, error=error, history=history, actors=booker.actors(db.session, history),
        can_cancel=booker.can_cancel(b, now), late=booker.cancel_would_be_late(b, now, rules()),
        review=booker.time_to_review(b), can_no_show=booker.can_record_no_show(b, now),
        awaiting_report=booker.awaiting_report(b, now), late_hours=rules().late_cancel_hours,
        offered=booker.offered_count(db.session, b.id) if b.status == "open" else None,
        series=booker.series_of(db.session, b), **action_forms,
        municipality_name=places.municipality_name(b.municipality_number)), status


@bp.get("/<int:booking_id>")
@roles(*BOOKERS)
def view(booking_id: int):
    return _booking_page(booking.for_agency(db.session, me(), booking_id))


def _act(booking_id: int, change, done, form_name: str, form):
    """Run a change; on success commit and go back to the booking with `done(booking)` as the message."""
    try:
        changed = change(me(), clock.now())
    except NotFound:
        raise
    except DomainError as error:
        discard(db.session())
        b = booking.for_agency(db.session, me(), booking_id)
        if isinstance(error, InvalidInput) and error.field in form._fields:
            form[error.field].errors = [error.message]
            return _booking_page(b, 422, **{form_name: form})
        return _booking_page(b, error.status, error=error, **{form_name: form})
    message = done(changed)
    db.session.commit()  # after what the message needs (see `new`)
    flash(message, "success")
    return redirect(url_for("booking.view", booking_id=booking_id), 303)


@bp.post("/<int:booking_id>/cancel")
@roles(*BOOKERS)
def cancel(booking_id: int):
    form = forms.CancelForm()

    def done(b):
        if b.late_cancellation:
            return _("The booking is cancelled. The cancellation was late, so the assignment will be billed.")
        return _("The booking is cancelled.")

    return _act(booking_id, lambda user, now: booking.cancel(db.session, user, booking_id, form.reason.data, now,
                                                             rules()), done, "cancel_form", form)


@bp.post("/<int:booking_id>/approve-time")
@roles(*BOOKERS)
def approve_time(booking_id: int):
    return _act(booking_id, lambda user, now: booking.approve_time(db.session, user, booking_id, now),
                lambda b: _("The reported time is approved. The assignment is completed."),
                "approve_form", forms.ConfirmForm())


@bp.post("/<int:booking_id>/dispute-time")
@roles(*BOOKERS)
def dispute_time(booking_id: int):
    form = forms.DisputeForm()
    return _act(booking_id, lambda user, now: booking.dispute_time(db.session, user, booking_id,
                                                                   form.reason.data or "", now),
                lambda b: _("The reported time is disputed. The interpreter has been told why."),
                "dispute_form", form)


@bp.post("/<int:booking_id>/no-show")
@roles(*BOOKERS)
def no_show(booking_id: int):
    form = forms.NoShowForm()
    return _act(booking_id, lambda user, now: booking.record_no_show(db.session, user, booking_id,
                                                                     (form.party.data or "").strip(), now),
                lambda b: _("The no-show is recorded."), "no_show_form", form)
