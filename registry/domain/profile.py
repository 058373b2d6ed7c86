"""An interpreter's own details: contact, place, ways of working, weekly hours and absences.

Every rule raises InvalidInput naming the field at fault. `gather` runs several checks and reports every
failure at once (as InvalidFields), so a form can show them all in one go.
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

import phonenumbers
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..models import Absence, Interpreter, WorkingHours
from ..models.interpreter import AVAILABILITY, MODALITIES
from . import audit, places, times
from .accounts import check_email
from .errors import InvalidInput, NotFound


class InvalidFields(InvalidInput):
    """Several fields at fault at once; `errors` holds one InvalidInput per fault, in form order."""

    def __init__(self, errors: list[InvalidInput]):
        super().__init__(errors[0].message, errors[0].field)
        self.errors = list(errors)


def errors_of(error: InvalidInput) -> list[InvalidInput]:
    return getattr(error, "errors", [error])


def gather(**checks: Callable[[], object]) -> dict:
    """Run every check; their values by name, or InvalidFields with every failure."""
    values, errors = {}, []
    for name, check in checks.items():
        try:
            values[name] = check()
        except InvalidInput as error:
            errors.extend(errors_of(error))
    if errors:
        raise InvalidFields(errors)
    return values


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()


# Contact ------------------------------------------------------------------------------------------

def check_contact_email(value, field: str = "email", required: bool = False) -> str | None:
    value = _text(value)
    if not value:
        if required:
            raise InvalidInput(_l("Enter your email address."), field)
        return None
    try:
        return check_email(value)
    except InvalidInput as error:
        raise InvalidInput(error.message, field) from None


def check_phone(value, field: str = "phone", required: bool = False) -> str | None:
    """A valid phone number (Norwegian unless it starts with +), in international format."""
    raw = _text(value)
    if not raw:
        if required:
            raise InvalidInput(_l("Enter your phone number."), field)
        return None
    try:
        number = phonenumbers.parse(raw[:40], "NO")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(_l("Enter a valid phone number, such as 912 34 567, or +46 70 123 45 67 for "
                              "a number outside Norway."), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Place and ways of working -----------------------------------------------------------------------

def check_place(county_number, municipality_number) -> tuple[str, str | None]:
    """A county, and optionally a municipality in that county."""
    county_number = _text(county_number)
    if not county_number:
        raise InvalidInput(_l("Choose a county."), "county")
    county = places.county_name(county_number)
    if county is None:
        raise InvalidInput(_l("Unknown county number: %(number)s", number=county_number[:10]), "county")
    number = _text(municipality_number)
    if not number:
        return county_number, None
    municipality = places.municipality(number)
    if municipality is None:
        raise InvalidInput(_l("Unknown municipality number: %(number)s", number=number[:10]), "municipality")
    name, in_county = municipality
    if in_county != county_number:
        raise InvalidInput(_l("%(municipality)s is not in %(county)s. Choose a municipality in the county you "
                              "chose, or no municipality.", municipality=name, county=county),
                           "municipality")
    return county_number, number


def check_modalities(values: Iterable[str] | None) -> tuple[str, ...]:
    chosen = set(values or ())
    if chosen - set(MODALITIES):
        raise InvalidInput(_l("The ways of working are on site, video and phone."), "modalities")
    if not chosen:
        raise InvalidInput(_l("Choose at least one way of working."), "modalities")
    return tuple(m for m in MODALITIES if m in chosen)


def check_availability(value) -> str:
    if value not in AVAILABILITY:
        raise InvalidInput(_l("Choose how much you can work: full-time, part-time or occasionally."),
                           "availability")
    return value


PROFILE_FIELDS = ("email", "phone", "publish_contact", "county_number", "municipality_number",
                  "offers_onsite", "offers_video", "offers_phone", "availability")


def update_profile(session, interpreter: Interpreter, *, email, phone, publish_contact: bool, county_number,
                   municipality_number, modalities, availability, actor, ip: str | None = None) -> dict:
    """Check and save what an interpreter keeps up to date themselves; audit what changed.

    Returns the changed fields with their new values (empty when nothing changed).
    """
    checked = gather(
        email=lambda: check_contact_email(email),
        phone=lambda: check_phone(phone),
        place=lambda: check_place(county_number, municipality_number),
        modalities=lambda: check_modalities(modalities),
        availability=lambda: check_availability(availability),
    )
    county, municipality = checked["place"]
    new = {
        "email": checked["email"], "phone": checked["phone"], "publish_contact": bool(publish_contact),
        "county_number": county, "municipality_number": municipality, "availability": checked["availability"],
        **{f"offers_{m}": m in checked["modalities"] for m in MODALITIES},
    }
    before = audit.snapshot(interpreter, PROFILE_FIELDS)
    changed = {name: value for name, value in new.items() if before[name] != value}
    if not changed:
        return {}
    for name, value in changed.items():
        setattr(interpreter, name, value)
    audit.record(session, "interpreter.profile_changed", actor=actor, object_type="interpreter",
                 object_id=interpreter.id, before={k: before[k] for k in changed}, after=changed, ip=ip)
    session.flush()
    return changed


# Weekly working hours (Europe/Oslo wall-clock time) ----------------------------------------------

_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)(?::[0-5]\d)?")


@dataclass(frozen=True)
class Period:
    """One working period on a weekday (0 = Monday). `key` is the form's name for the row, so that an
    error points at `<key>_start` or `<key>_end`."""

    weekday: int
    start: str | time | None
    end: str | time | None
    key: str | None = None


def parse_time(value, field: str) -> time | None:
    """HH:MM (or HH.MM, as Norwegians often write it); None when empty."""
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = _text(value)
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match:
        raise InvalidInput(_l("Write the time as hours and minutes, such as 08:30."), field)
    return time(int(match.group(1)), int(match.group(2)))


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def check_hours(periods: Iterable[Period]) -> list[tuple[int, time, time]]:
    """Filled-in periods, each ending after it starts, none overlapping another on the same day.

    A period may end exactly when the next begins (intervals are half-open). Rows with neither start
    nor end are days off.
    """
    errors: list[InvalidInput] = []
    kept: list[tuple[int, time, time, str]] = []
    for period in periods:
        key = period.key or f"d{period.weekday}"
        if period.weekday not in range(7):
            errors.append(InvalidInput(_l("Unknown weekday."), key))
            continue
        try:
            values = gather(start=lambda p=period, k=key: parse_time(p.start, f"{k}_start"),
                            end=lambda p=period, k=key: parse_time(p.end, f"{k}_end"))
        except InvalidFields as error:
            errors.extend(error.errors)
            continue
        start, end = values["start"], values["end"]
        if start is None and end is None:
            continue
        if start is None or end is None:
            missing = f"{key}_start" if start is None else f"{key}_end"
            errors.append(InvalidInput(_l("Fill in both when the period starts and when it ends, or leave "
                                          "both empty."), missing))
        elif end <= start:
            errors.append(InvalidInput(_l("The period must end after it starts (%(start)s–%(end)s).",
                                          start=_hhmm(start), end=_hhmm(end)), f"{key}_end"))
        else:
            kept.append((period.weekday, start, end, key))
    for day in range(7):
        previous = None
        for weekday, start, end, key in sorted(p for p in kept if p[0] == day):
            if previous and start < previous[2]:
                errors.append(InvalidInput(_l("The period overlaps %(start)s–%(end)s on the same day.",
                                              start=_hhmm(previous[1]), end=_hhmm(previous[2])), f"{key}_start"))
            if previous is None or end > previous[2]:
                previous = (weekday, start, end)
    if errors:
        raise InvalidFields(errors)
    return sorted((weekday, start, end) for weekday, start, end, _ in kept)


def current_hours(session, interpreter: Interpreter) -> list[WorkingHours]:
    return session.scalars(sa.select(WorkingHours).where(WorkingHours.interpreter_id == interpreter.id)
                           .order_by(WorkingHours.weekday, WorkingHours.start_time)).all()


def _hours_record(rows) -> list[dict]:
    return [{"weekday": w, "start": _hhmm(s), "end": _hhmm(e)} for w, s, e in rows]


def set_working_hours(session, interpreter: Interpreter, periods: Iterable[Period], *, actor,
                      ip: str | None = None) -> bool:
    """Replace the weekly hours with `periods`; audit and return True if they changed."""
    new = check_hours(periods)
    old = [(h.weekday, h.start_time, h.end_time) for h in current_hours(session, interpreter)]
    if _hours_record(old) == _hours_record(new):
        return False
    session.execute(sa.delete(WorkingHours).where(WorkingHours.interpreter_id == interpreter.id))
    session.add_all(WorkingHours(interpreter_id=interpreter.id, weekday=w, start_time=s, end_time=e)
                    for w, s, e in new)
    audit.record(session, "interpreter.hours_changed", actor=actor, object_type="interpreter",
                 object_id=interpreter.id, before={"hours": _hours_record(old)}, after={"hours": _hours_record(new)},
                 ip=ip)
    session.flush()
    return True


# Absences (entered in Europe/Oslo, stored in UTC) -------------------------------------------------

NOTE_MAX = 200
ABSENCE_YEARS_AHEAD = 2


def parse_local(value, field: str) -> datetime | None:
    """A wall-clock date and time in Norway as an aware UTC datetime; None when empty.

    The daylight-saving rule is times.to_utc's: a time in the hour skipped when the clocks go forward
    does not exist and is refused. A time in the hour repeated when they go back is taken as its first
    occurrence (summer time, fold=0), as the absence form says.
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else times.to_utc(value, field, fold=0)
    text = _text(value)
    return times.parse_local(text, field, fold=0) if text else None


def years_after(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def check_note(value, field: str = "note", limit: int = NOTE_MAX) -> str | None:
    text = _text(value)
    if len(text) > limit:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=limit, count=len(text)), field)
    return text or None


def check_absence(starts, ends, note, now: datetime) -> tuple[datetime, datetime, str | None]:
    """Start and end in UTC and the note, or InvalidInput naming `starts_at`, `ends_at` or `note`."""
    def required(value, field, message):
        moment = parse_local(value, field)
        if moment is None:
            raise InvalidInput(message, field)
        return moment

    values = gather(
        starts=lambda: required(starts, "starts_at", _l("Enter when the absence starts.")),
        ends=lambda: required(ends, "ends_at", _l("Enter when the absence ends.")),
        note=lambda: check_note(note),
    )
    start, end = values["starts"], values["ends"]
    if end <= start:
        raise InvalidInput(_l("The absence must end after it starts."), "ends_at")
    if end <= now:
        raise InvalidInput(_l("That time has passed. Register an absence that ends in the future."), "ends_at")
    if end > years_after(now, ABSENCE_YEARS_AHEAD):
        raise InvalidInput(_l("An absence can be registered at most %(n)s years ahead.", n=ABSENCE_YEARS_AHEAD),
                           "ends_at")
    return start, end, values["note"]


def _absence_record(absence: Absence) -> dict:
    return {"starts_at": absence.starts_at.isoformat(), "ends_at": absence.ends_at.isoformat(),
            "note": absence.note}


def add_absence(session, interpreter: Interpreter, *, starts, ends, note, now: datetime, actor,
                ip: str | None = None) -> Absence:
    start, end, note = check_absence(starts, ends, note, now)
    absence = Absence(interpreter_id=interpreter.id, starts_at=start, ends_at=end, note=note)
    session.add(absence)
    session.flush()
    audit.record(session, "absence.added", actor=actor, object_type="absence", object_id=absence.id,
                 after={"interpreter_id": interpreter.id, **_absence_record(absence)}, ip=ip)
    return absence


def own_absence(session, interpreter: Interpreter, absence_id: int) -> Absence:
    """One of this interpreter's absences; NotFound for anyone else's, as for one that does not exist."""
    absence = session.get(Absence, absence_id)
    if absence is None or absence.interpreter_id != interpreter.id:
        raise NotFound(_l("There is no such absence."))
    return absence


def delete_absence(session, interpreter: Interpreter, absence_id: int, *, actor, ip: str | None = None) -> None:
    absence = own_absence(session, interpreter, absence_id)
    audit.record(session, "absence.deleted", actor=actor, object_type="absence", object_id=absence.id,
                 before={"interpreter_id": interpreter.id, **_absence_record(absence)}, ip=ip)
    session.delete(absence)
    session.flush()


def upcoming_absences(session, interpreter: Interpreter, now: datetime) -> list[Absence]:
    """Absences that have not ended, soonest first."""
    return session.scalars(sa.select(Absence).where(Absence.interpreter_id == interpreter.id, Absence.ends_at > now)
                           .order_by(Absence.starts_at, Absence.id)).all()


# Dates --------------------------------------------------------------------------------------------

_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DATE_NORWEGIAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
EARLIEST_YEAR = 1900


def parse_date(value, field: str) -> date | None:
    """YYYY-MM-DD (what a date field sends) or DD.MM.YYYY (how Norwegians write it); None when empty."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        parsed = value
    else:
        text = _text(value)
        if not text:
            return None
        parsed = None
        if match := _DATE_ISO.fullmatch(text):
            year, month, day = match.groups()
        elif match := _DATE_NORWEGIAN.fullmatch(text):
            day, month, year = match.groups()
        if match:
            try:
                parsed = date(int(year), int(month), int(day))
            except ValueError:
                parsed = None
        if parsed is None:
            raise InvalidInput(_l("Write the date as YYYY-MM-DD, such as 2024-06-30."), field)
    if parsed.year < EARLIEST_YEAR:
        raise InvalidInput(_l("Check the year."), field)
    return parsed

