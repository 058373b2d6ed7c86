"""The interpreter's side of bookings: what waits for an answer, what is coming, a booking's history.

The state changes themselves (accept, decline, withdraw, report time) are in booking.py; this module
only gathers what the interpreter's pages show, from the interpreter's point of view.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..models import Absence, Booking, User
from . import audit
from . import booking as bookings
from .errors import InvalidInput
from .times import local, local_day_bounds

# Words for the booking codes, until they move to registry/labels.py.
BOOKING_STATUS = {
    "requested": _l("Requested"), "open": _l("Open"), "confirmed": _l("Confirmed"), "declined": _l("Declined"),
    "lapsed": _l("Lapsed"), "cancelled": _l("Cancelled"), "completed": _l("Completed"),
}
REPORT_STATE = {
    None: _l("Not reported"), "awaiting": _l("Not reported"), "reported": _l("Reported, waiting for approval"),
    "approved": _l("Approved"), "disputed": _l("Disputed by the public body"),
}
WARNING = {
    "credential_expires_before_start": _l("The credential behind the category ends before the assignment starts."),
    "interpreter_not_qualified": _l("The interpreter no longer holds the category or police certificate this "
                                    "assignment needs, or may not take assignments now."),
}
# Bookings that belong in the interpreter's calendar view: work they hold or have done.
ON_CALENDAR = ("requested", "confirmed", "completed")
WEEKS_SHOWN = 4
MAX_WEEK_OFFSET = 104


@dataclass(frozen=True)
class Inbox:
    requests: list[Booking]   # direct requests waiting for the interpreter's answer
    offers: list[Booking]     # open requests they may take
    coming: list[Booking]     # confirmed assignments not yet ended
    to_report: list[Booking]  # ended assignments whose time is not yet approved


def inbox(session, interpreter_id: int, now: datetime) -> Inbox:
    mine = sa.select(Booking).where(Booking.interpreter_id == interpreter_id).options(
        so.selectinload(Booking.agency))
    requests = session.scalars(mine.where(
        Booking.status == "requested", Booking.starts_at > now,
        sa.or_(Booking.respond_by.is_(None), Booking.respond_by > now)).order_by(Booking.starts_at)).all()
    coming = session.scalars(mine.where(Booking.status == "confirmed", Booking.ends_at > now)
                             .order_by(Booking.starts_at)).all()
    to_report = session.scalars(mine.where(
        Booking.status == "confirmed", Booking.ends_at <= now,
        sa.or_(Booking.report_state.is_(None), Booking.report_state != "approved"))
        .order_by(Booking.starts_at)).all()
    return Inbox(requests, bookings.open_offers(session, interpreter_id, now), coming, to_report)


# The calendar view ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """A booking or an absence on one local day; it may begin before the day or end after it."""

    starts_at: datetime
    ends_at: datetime
    booking: Booking | None = None
    absence: Absence | None = None
    from_earlier: bool = False
    until_later: bool = False
    whole_day: bool = False


@dataclass
class Day:
    day: date
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Week:
    number: int  # the ISO week number, as Norwegians name weeks
    days: list[Day]


def first_monday(today: date, offset_weeks: int) -> date:
    if not -MAX_WEEK_OFFSET <= offset_weeks <= MAX_WEEK_OFFSET:
        raise InvalidInput(_l("Choose a week at most two years away."), "week")
    return today - timedelta(days=today.weekday()) + timedelta(weeks=offset_weeks)


def agenda(session, interpreter_id: int, first_day: date, weeks: int = WEEKS_SHOWN) -> list[Week]:
    """The interpreter's bookings and absences day by day (Norwegian days of 23, 24 or 25 hours)."""
    days = [Day(first_day + timedelta(days=n)) for n in range(7 * weeks)]
    since, until = local_day_bounds(days[0].day)[0], local_day_bounds(days[-1].day)[1]
    items = [(b.starts_at, b.ends_at, b, None)
             for b in bookings.interpreter_bookings(session, interpreter_id, since, until) if b.status in ON_CALENDAR]
    items += [(a.starts_at, a.ends_at, None, a) for a in session.scalars(
        sa.select(Absence).where(Absence.interpreter_id == interpreter_id, Absence.ends_at > since,
                                 Absence.starts_at < until))]
    items.sort(key=lambda item: (item[0], item[1]))
    for day in days:
        begins, ends = local_day_bounds(day.day)
        for starts_at, ends_at, booking, absence in items:
            if starts_at < ends and ends_at > begins:
                day.entries.append(Entry(starts_at, ends_at, booking, absence, from_earlier=starts_at < begins,
                                         until_later=ends_at > ends,
                                         whole_day=starts_at <= begins and ends_at >= ends))
    return [Week(days[n].day.isocalendar().week, days[n:n + 7]) for n in range(0, len(days), 7)]


# A booking's history, as the interpreter may see it ------------------------------------------------

@dataclass(frozen=True)
class Event:
    at: datetime
    action: str
    who: str  # you, agency, interpreter (another one), registry, system, unknown


def history(session, booking: Booking, viewer: User, limit: int = 100) -> list[Event]:
    """The booking's audit entries, newest first, naming people only by their part (no one's e-mail)."""
    entries = audit.search(session, object_type="booking", object_id=str(booking.id), limit=limit)
    roles = dict(session.execute(sa.select(User.id, User.role).where(
        User.id.in_({e.actor_id for e in entries if e.actor_id is not None}))).all())
    events = []
    for entry in entries:
        who = _part(entry.actor_id, viewer, roles)
        if entry.action == "booking.offer_declined" and who != "you":
            continue  # another interpreter saying no is none of this one's business
        events.append(Event(entry.at, entry.action, who))
    return events


def _part(actor_id: int | None, viewer: User, roles: dict) -> str:
    if actor_id is None:
        return "system"
    if actor_id == viewer.id:
        return "you"
    parts = {"booker": "agency", "agency_admin": "agency", "registry_admin": "registry", "interpreter": "interpreter"}
    return parts.get(roles.get(actor_id), "unknown")


def local_input(moment: datetime | None) -> str:
    """A UTC instant as the value of a datetime-local input in Norwegian time."""
    return local(moment).strftime("%Y-%m-%dT%H:%M") if moment else ""
