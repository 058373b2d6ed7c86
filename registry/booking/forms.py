"""Forms of the booker's pages. They only parse what was typed; every rule is in registry/domain."""

import datetime as dt

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from ..domain.booking import Details
from ..domain.errors import InvalidInput
from ..domain.register import NOT_A_NUMBER, as_register_number
from ..domain.times import AmbiguousTime, is_ambiguous, to_utc
from ..domain.typed import whole_number

# Domain field names that differ from the form's.
FIELD_OF = {"start": "start_time", "end": "end_time", "gender": "gender_preference"}
TIME_FIELDS = (("start_time", "start_fold"), ("end_time", "end_fold"))


class FormErrors(InvalidInput):
    """Several fields at fault at once."""

    def __init__(self, errors: list[InvalidInput]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = errors


class Form(FlaskForm):
    """A form with room for errors that belong to no visible field (shown above the form)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.general_errors: list = []


class SlotForm(Form):
    """When, in which language, at which category, and how: shared by the search and the booking form."""

    language = StringField(_l("Language"))
    min_category = StringField(_l("Lowest category"))
    modality = StringField(_l("Way of working"))
    date = StringField(_l("Date"))
    start_time = StringField(_l("Start time"))
    end_time = StringField(_l("End time"))
    start_fold = StringField(_l("Which start time do you mean?"))
    end_fold = StringField(_l("Which end time do you mean?"))
    municipality = StringField(_l("Municipality"))
    gender_preference = StringField(_l("Gender of the interpreter"))
    sector = StringField(_l("Sector"))

    # The slot fields, in the order a search carries them to the booking form.
    SLOT_FIELDS = ("language", "min_category", "modality", "date", "start_time", "end_time", "start_fold",
                   "end_fold", "municipality", "gender_preference", "sector")

    def slot_args(self) -> dict:
        """The slot as query arguments (empty ones left out), to carry it to the next page."""
        return {name: self[name].data for name in self.SLOT_FIELDS if self[name].data}


class SearchForm(SlotForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    county = StringField(_l("County"))


class BookingForm(SlotForm):
    interpreter = StringField(_l("Interpreter"))
    address = StringField(_l("Address"))
    meeting_url = StringField(_l("Meeting link"))
    description = TextAreaField(_l("Short description"))
    reference = StringField(_l("Your reference"))
    contact_name = StringField(_l("Contact person"))
    contact_phone = StringField(_l("Contact phone"))
    every_days = StringField(_l("Repeat every this many days"))
    count = StringField(_l("Number of times"))

    CARRIED = SlotForm.SLOT_FIELDS + ("interpreter", "address", "meeting_url", "description", "reference",
                                      "contact_name", "contact_phone", "every_days", "count")


class ListForm(Form):
    """Filters of the agency's list of bookings (a GET form)."""

    class Meta:
        csrf = False

    status = StringField(_l("Status"))
    date_from = StringField(_l("From date"))
    date_to = StringField(_l("To date"))


# The booking's page shows these side by side: each field keeps its plain name but gets an id of its own.
class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), id="cancel-reason")


class DisputeForm(FlaskForm):
    reason = TextAreaField(_l("What is wrong with the reported time?"), id="dispute-reason")


class NoShowForm(FlaskForm):
    party = StringField(_l("Who did not come?"), id="no-show-party")


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


# Parsing ------------------------------------------------------------------------------------------

def parse_date(text: str | None) -> dt.date:
    """YYYY-MM-DD (what a date input sends) or DD.MM.YYYY (what a Norwegian types)."""
    text = (text or "").strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse_clock(text: str | None) -> dt.time:
    """HH:MM (what a time input sends), also 9:30 and 09.30."""
    text = (text or "").strip().replace(".", ":")
    for pattern in ("%H:%M", "%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).time().replace(second=0)
        except ValueError:
            continue
    raise ValueError(text)


def _naive(form: SlotForm, name: str) -> dt.datetime | None:
    try:
        return dt.datetime.combine(parse_date(form.date.data), parse_clock(form[name].data))
    except ValueError:
        return None


def ambiguous_fields(form: SlotForm) -> set[str]:
    """The time fields whose local time happens twice (the night the clocks go back): ask which."""
    return {name for name, _fold in TIME_FIELDS if (naive := _naive(form, name)) and is_ambiguous(naive)}


def slot_times(form: SlotForm) -> tuple[dt.datetime, dt.datetime]:
    """The start and end as UTC instants, from a date and two wall-clock times in Norway."""
    errors = []
    try:
        day = parse_date(form.date.data)
    except ValueError:
        day = None
        errors.append(InvalidInput(_l("Enter the date as YYYY-MM-DD, like 2027-03-01."), "date"))
    moments = {}
    for name, fold_name in TIME_FIELDS:
        try:
            clock = parse_clock(form[name].data)
        except ValueError:
            errors.append(InvalidInput(_l("Enter the time as HH:MM, like 09:30."), name))
            continue
        if day is not None:
            fold = {"0": 0, "1": 1}.get((form[fold_name].data or "").strip())
            try:
                moments[name] = to_utc(dt.datetime.combine(day, clock), name, fold)
            except AmbiguousTime as error:  # on the question, so the error summary leads to the answers
                errors.append(AmbiguousTime(error.message, fold_name))
            except InvalidInput as error:
                errors.append(error)
    if errors:
        raise FormErrors(errors)
    return moments["start_time"], moments["end_time"]


def details(form: BookingForm, starts_at: dt.datetime, ends_at: dt.datetime) -> Details:
    value = lambda name: (form[name].data or "").strip() or None  # noqa: E731
    return Details(
        language=value("language") or "", min_category=value("min_category") or "",
        modality=value("modality") or "", starts_at=starts_at, ends_at=ends_at, sector=value("sector") or "",
        address=value("address"), municipality=value("municipality"), meeting_url=value("meeting_url"),
        description=form.description.data, gender_preference=value("gender_preference"),
        reference=value("reference"), contact_name=value("contact_name"), contact_phone=value("contact_phone"))


def register_number(form: BookingForm) -> int | None:
    """The chosen interpreter's register number; None for an open request."""
    text = (form.interpreter.data or "").strip()
    if not text:
        return None
    number = as_register_number(text)
    if number is None:
        raise InvalidInput(NOT_A_NUMBER, "interpreter")
    return number


def series(form: BookingForm) -> tuple[int, int] | None:
    """(every N days, M times) when more than one occurrence is asked for; None for a single booking."""
    count_text, every_text = (form.count.data or "").strip(), (form.every_days.data or "").strip()
    if not count_text and not every_text:
        return None
    errors, numbers = [], {}
    for name, text, default in (("every_days", every_text, 7), ("count", count_text, 1)):
        if not text:
            numbers[name] = default
        elif (number := whole_number(text, 5)) is not None:
            numbers[name] = number
        else:
            errors.append(InvalidInput(_l("Enter a whole number."), name))
    if errors:
        raise FormErrors(errors)
    if numbers["count"] == 1:
        return None
    return numbers["every_days"], numbers["count"]


def show_errors(form, error: InvalidInput) -> None:
    """Put a domain error (or several) on the form's fields; one without a visible field goes on top."""
    for fault in getattr(error, "errors", [error]):
        name = FIELD_OF.get(fault.field or "", fault.field or "")
        field = form._fields.get(name)
        if field is None or name in ("interpreter", "csrf_token"):
            form.general_errors.append(fault.message)
        else:
            field.errors = [*field.errors, fault.message]
