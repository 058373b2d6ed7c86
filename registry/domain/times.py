"""Local times in Europe/Oslo and the instants they name, with daylight-saving changes handled.

A wall-clock time in the spring-forward gap (02:00-03:00 on the last Sunday of March) does not exist
and is refused. One in the fall-back hour (02:00-03:00 on the last Sunday of October) happens twice
and is ambiguous: the caller must say which (`fold` 0 = the first, summer time; 1 = the second).
"""

from datetime import UTC, date, datetime, time, timedelta

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from .clock import OSLO
from .errors import InvalidInput


class AmbiguousTime(InvalidInput):
    """The local time happens twice; ask which one."""


def wall_clock(naive: datetime) -> str:
    """A wall-clock time in Norway as the reader writes it (Babel's short form), also one that names no moment:
    shown as it reads, never converted (Babel takes a naive time as UTC and, given no zone, leaves it so)."""
    return format_datetime(naive.replace(tzinfo=None), "short", locale=get_locale() or "nb")


def is_ambiguous(local: datetime) -> bool:
    naive = local.replace(tzinfo=None)
    first = naive.replace(tzinfo=OSLO, fold=0).utcoffset()
    second = naive.replace(tzinfo=OSLO, fold=1).utcoffset()
    return first != second and _exists(naive)


def _exists(naive: datetime) -> bool:
    aware = naive.replace(tzinfo=OSLO)
    return aware.astimezone(UTC).astimezone(OSLO).replace(tzinfo=None) == naive


def to_utc(naive: datetime, field: str, fold: int | None = None) -> datetime:
    """The UTC instant of a wall-clock time in Norway; refuses times that do not exist or are unclear."""
    naive = naive.replace(tzinfo=None, fold=0)
    if not _exists(naive):
        raise InvalidInput(_l("%(time)s does not exist in Norway: the clocks go forward an hour that night. "
                              "Choose a time after 03:00.", time=wall_clock(naive)), field)
    if is_ambiguous(naive):
        if fold not in (0, 1):
            raise AmbiguousTime(_l("%(time)s happens twice in Norway: the clocks go back an hour that night. "
                                   "Say whether you mean summer time (the first) or winter time (the second).",
                                   time=wall_clock(naive)), field)
        return naive.replace(tzinfo=OSLO, fold=fold).astimezone(UTC)
    return naive.replace(tzinfo=OSLO).astimezone(UTC)


def parse_local(value: str, field: str, fold: int | None = None) -> datetime:
    """'YYYY-MM-DDTHH:MM' (an HTML datetime-local value) or 'YYYY-MM-DD HH:MM' in Norway, to UTC."""
    text = (value or "").strip().replace(" ", "T")
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_l("Enter a date and time like 2027-03-01 09:30."), field) from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    return to_utc(naive, field, fold)


def parse_with_offset(value, field: str) -> datetime:
    """An RFC 3339 time with an offset (the API); a time without one is refused."""
    try:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except (TypeError, ValueError):
        raise InvalidInput(_l("Give the time as RFC 3339 with an offset, like 2027-03-01T09:00:00+01:00."),
                           field) from None
    if moment.tzinfo is None:
        raise InvalidInput(_l("The time needs an offset, like 2027-03-01T09:00:00+01:00."), field)
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(OSLO)


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which a calendar day in Norway begins and ends (23, 24 or 25 hours)."""
    start = datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=OSLO).astimezone(UTC)
    return start, end
