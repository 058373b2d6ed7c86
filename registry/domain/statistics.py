"""Statistics on interpreting in the public sector, as IMDi publishes them; every number is one SQL count.

Definitions (the statistics page says them too):
- A booking counts in the period when it starts in the period (Norwegian dates, from the first day through
  the last). "Bookings" are all requests made, whatever became of them.
- Its county is the county of the municipality where it takes place, or, for video and phone bookings
  (no place), the county of the public body that booked.
- Served: the booking was confirmed or completed, so an interpreter took it. Its category is the category the
  interpreter holds today in the booking's language ("none" when they hold none now).
- Unmet demand: requests no one took: an open request cancelled before anyone accepted it, an open request
  still open when it started, and a direct request that lapsed unanswered.
- Interpreters: those listed in the public register today (active or paused, with a category), once per
  language they hold a category in, by the county they live in.
- Expiring: verified credentials whose last valid day is today or in the next 90 days.
- A public body's own statistics (its administrators' page) count only the bookings it made; the register's
  tables (interpreters, expiring credentials) are the registry's, not a body's.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..models import Agency, Booking, Credential, Interpreter, Municipality, Qualification
from ..models.interpreter import LISTED_STATUSES
from .clock import OSLO
from .errors import InvalidInput
from .places import is_county
from .profile import gather, parse_date

SERVED = ("confirmed", "completed")
EXPIRING_DAYS = 90
MAX_MONTHS = 120


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    county: str | None = None
    agency_id: int | None = None  # one public body's bookings only

    @property
    def since(self) -> datetime:
        return oslo_midnight(self.start)

    @property
    def until(self) -> datetime:
        return oslo_midnight(self.end + timedelta(days=1))


def oslo_midnight(day: date) -> datetime:
    """The start of a Norwegian day in UTC (midnight always exists: the clocks change at 02:00 and 03:00)."""
    return datetime.combine(day, time(0), tzinfo=OSLO).astimezone(UTC)


def default_period(today: date) -> tuple[date, date]:
    """The last twelve months: from the first of the month eleven months back through today."""
    month = today.year * 12 + today.month - 1 - 11
    return date(month // 12, month % 12 + 1, 1), today


def _months(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def parse_filters(session, start, end, county, today: date, agency_id: int | None = None) -> Filters:
    """Check the period and county; InvalidInput naming `start`, `end` or `county`. With `agency_id`, the bookings
    counted are that public body's only."""
    first, last = default_period(today)
    values = gather(start=lambda: parse_date(start, "start"), end=lambda: parse_date(end, "end"),
                    county=lambda: _check_county(county))
    start, end = values["start"] or first, values["end"] or last
    if end < start:
        raise InvalidInput(_l("The last day is before the first."), "end")
    if _months(start, end) > MAX_MONTHS:
        raise InvalidInput(_l("Choose a period of at most %(n)s years.", n=MAX_MONTHS // 12), "start")
    return Filters(start, end, values["county"], agency_id)


def _check_county(value) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if not is_county(value):
        raise InvalidInput(_l("Unknown county number: %(number)s", number=value[:10]), "county")
    return value


# Bookings -----------------------------------------------------------------------------------------

BOOKING_COUNTY = sa.func.coalesce(Municipality.county_number, Agency.county_number)


def _bookings(filters: Filters, *columns, by_county: bool = False):
    """SELECT columns FROM bookings starting in the period (and in the county, and made by the public body). The
    municipality and the public body are joined only for a county: to filter by it, or when the columns use
    BOOKING_COUNTY (`by_county`). One body's bookings in a period are read by ix_bookings_agency_starts."""
    stmt = (sa.select(*columns).select_from(Booking)
            .where(Booking.starts_at >= filters.since, Booking.starts_at < filters.until))
    if filters.agency_id is not None:
        stmt = stmt.where(Booking.agency_id == filters.agency_id)
    if filters.county or by_county:
        stmt = (stmt.outerjoin(Municipality, Municipality.number == Booking.municipality_number)
                .join(Agency, Agency.id == Booking.agency_id))
    if filters.county:
        stmt = stmt.where(BOOKING_COUNTY == filters.county)
    return stmt


@dataclass(frozen=True)
class BookingCounts:
    """The period's bookings counted three ways, most first (by month: every month of the period, in order)."""
    by_language: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]
    by_month: list[tuple[date, int]]


def booking_counts(session, filters: Filters) -> BookingCounts:
    """By language, by sector and by month from one pass over the period's bookings, grouped by all three at once
    (at most languages x sectors x months groups) and summed here. Three passes, one for each, took 0.76 s of the
    page's 1.05 on the PostgreSQL bench data (830,000 bookings in twelve months) and 1.9 s of 2.7 on SQLite."""
    months = month_starts(filters)
    ends = [oslo_midnight(m) for m in months[1:]]
    month = sa.case(*[(Booking.starts_at < end, n) for n, end in enumerate(ends)], else_=len(months) - 1) \
        if ends else sa.literal(0)
    language, sector, by_month = {}, {}, {}
    for code, kind, index, n in session.execute(
            _bookings(filters, Booking.language_code, Booking.sector, month, sa.func.count(Booking.id))
            .group_by(Booking.language_code, Booking.sector, month)):
        language[code] = language.get(code, 0) + n
        sector[kind] = sector.get(kind, 0) + n
        by_month[index] = by_month.get(index, 0) + n
    most_first = lambda counts: sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # noqa: E731
    return BookingCounts(most_first(language), most_first(sector),
                         [(m, by_month.get(n, 0)) for n, m in enumerate(months)])


def month_starts(filters: Filters) -> list[date]:
    first = date(filters.start.year, filters.start.month, 1)
    months = []
    for n in range(_months(filters.start, filters.end)):
        index = first.year * 12 + first.month - 1 + n
        months.append(date(index // 12, index % 12 + 1, 1))
    return months


def served_by_category(session, filters: Filters) -> list[tuple[str | None, int, float]]:
    """Served bookings by the category their interpreter holds in the language: (category, count, share)."""
    held = so.aliased(Qualification)
    stmt = _bookings(filters, held.category, sa.func.count(Booking.id)).outerjoin(
        held, sa.and_(held.interpreter_id == Booking.interpreter_id, held.language_code == Booking.language_code)
    ).where(Booking.status.in_(SERVED)).group_by(held.category)
    counts = dict(session.execute(stmt).all())
    total = sum(counts.values())
    order = ["A", "B", "C", "D", "E", None]
    return [(c, counts.get(c, 0), counts.get(c, 0) / total if total else 0.0) for c in order]


def unmet_condition(now: datetime):
    return sa.or_(
        Booking.status == "lapsed",
        sa.and_(Booking.status == "cancelled", Booking.interpreter_id.is_(None)),
        sa.and_(Booking.status == "open", Booking.starts_at <= now),
    )


def unmet_by_language_county(session, filters: Filters, now: datetime) -> list[tuple[str, str | None, int]]:
    """Requests no one took, by language and county: (language, county number, count), most first."""
    count = sa.func.count(Booking.id)
    county = BOOKING_COUNTY.label("county")
    stmt = (_bookings(filters, Booking.language_code, county, count, by_county=True).where(unmet_condition(now))
            .group_by(Booking.language_code, county).order_by(count.desc(), Booking.language_code, county))
    return [tuple(r) for r in session.execute(stmt).all()]


# The register -------------------------------------------------------------------------------------

def interpreters_by_language_county(session, filters: Filters) -> list[tuple[str, str, int]]:
    """Listed interpreters per language they hold a category in, by county: (language, county, count)."""
    count = sa.func.count(Interpreter.id)
    stmt = (sa.select(Qualification.language_code, Interpreter.county_number, count)
            .join(Interpreter, Interpreter.id == Qualification.interpreter_id)
            .where(Interpreter.status.in_(LISTED_STATUSES))
            .group_by(Qualification.language_code, Interpreter.county_number)
            .order_by(count.desc(), Qualification.language_code, Interpreter.county_number))
    if filters.county:
        stmt = stmt.where(Interpreter.county_number == filters.county)
    return [tuple(r) for r in session.execute(stmt).all()]


def expiring_credentials(session, filters: Filters, today: date) -> list[tuple[str, str | None, int]]:
    """Verified credentials running out today or in the next 90 days: (type, language, count)."""
    count = sa.func.count(Credential.id)
    stmt = (sa.select(Credential.type, Credential.language_code, count)
            .join(Interpreter, Interpreter.id == Credential.interpreter_id)
            .where(Credential.state == "verified", Credential.valid_until >= today,
                   Credential.valid_until <= today + timedelta(days=EXPIRING_DAYS))
            .group_by(Credential.type, Credential.language_code)
            .order_by(count.desc(), Credential.type, Credential.language_code))
    if filters.county:
        stmt = stmt.where(Interpreter.county_number == filters.county)
    return [tuple(r) for r in session.execute(stmt).all()]


def totals(rows, index: int = 0, value: int = -1) -> list[tuple]:
    """Sum rows by one of their columns: (key, total), most first (for a chart of a two-way table)."""
    summed: dict = {}
    for row in rows:
        summed[row[index]] = summed.get(row[index], 0) + row[value]
    return sorted(summed.items(), key=lambda item: (-item[1], str(item[0])))
