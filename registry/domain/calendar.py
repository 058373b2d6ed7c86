"""Private calendar feeds (RFC 5545, with the icalendar package) and .ics downloads of single bookings.

A feed's address carries a token: [user id, calendar_version] signed with the app's SECRET_KEY
(itsdangerous, salt "calendar-feed"). Nothing secret is stored. Rotating bumps calendar_version, so
every earlier address stops working; a deactivated user's address stops working too.

What a feed holds:
- an interpreter: the bookings assigned to them that are requested, confirmed, completed or cancelled
  (a declined or lapsed request simply leaves their calendar);
- a booker: the bookings they made themselves, in every status; their calendar is their own work;
- an agency admin: every booking of their agency, since they answer for all of it.
Times carry TZID=Europe/Oslo with a VTIMEZONE built from the tz database. The text is the booking's
practical details and its short description only: never anything about the client beyond that.
"""

from collections.abc import Callable
from datetime import datetime, timedelta

import icalendar
import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer

from ..labels import MODALITY
from ..models import AuditEntry, Booking, User
from . import audit
from .assignments import BOOKING_STATUS, WARNING
from .errors import NotFound
from .languages import language_name
from .times import local

SALT = "calendar-feed"
FEED_PAST = timedelta(days=30)
FEED_AHEAD = timedelta(days=365)
# A feed is for a person's calendar app, not an export: the soonest events, up to this many.
FEED_MAX_EVENTS = 3000
FEED_ROLES = ("interpreter", "booker", "agency_admin")
INTERPRETER_STATUSES = ("requested", "confirmed", "completed", "cancelled")
PRODID = "-//IMDi//Tolkeregisteret//NO"
ICS_STATUS = {"requested": "TENTATIVE", "open": "TENTATIVE", "confirmed": "CONFIRMED", "completed": "CONFIRMED",
              "cancelled": "CANCELLED", "declined": "CANCELLED", "lapsed": "CANCELLED"}
NO_FEED = _l("There is no calendar at this address. It may have been replaced by a new address.")

Link = Callable[[Booking], str | None]


def uid(booking: Booking) -> str:
    """The same for a booking in every feed and download, so calendar apps update rather than duplicate."""
    return f"booking-{booking.id}@tolkeregister"


# The feed's address ---------------------------------------------------------------------------------

def has_feed(user: User) -> bool:
    return user.role in FEED_ROLES


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def feed_token(user: User, secret_key: str) -> str:
    if not has_feed(user):
        raise NotFound(_l("Registry administrators have no calendar feed."))
    return _serializer(secret_key).dumps([user.id, user.calendar_version])


def feed_owner(session, token: str, secret_key: str) -> User:
    """The user whose current feed address this is; a forged, replaced or deactivated one is NotFound."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        raise NotFound(NO_FEED) from None
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int for v in value)):
        raise NotFound(NO_FEED)
    user = session.get(User, value[0])
    if user is None or not user.is_active or not has_feed(user) or user.calendar_version != value[1]:
        raise NotFound(NO_FEED)
    return user


def rotate(session, user: User, ip: str | None = None) -> int:
    """A new feed address; every earlier one stops working. Returns the new version."""
    if not has_feed(user):
        raise NotFound(_l("Registry administrators have no calendar feed."))
    before = user.calendar_version
    session.execute(sa.update(User).where(User.id == user.id)
                    .values(calendar_version=User.calendar_version + 1).execution_options(synchronize_session=False))
    session.refresh(user, ["calendar_version"])
    audit.record(session, "calendar.rotated", actor=user, object_type="user", object_id=user.id, ip=ip,
                 before={"calendar_version": before}, after={"calendar_version": user.calendar_version})
    return user.calendar_version


# Which bookings -------------------------------------------------------------------------------------

def feed_bookings(session, user: User, now: datetime) -> list[Booking]:
    stmt = sa.select(Booking).where(Booking.starts_at >= now - FEED_PAST, Booking.starts_at < now + FEED_AHEAD)
    if user.role == "interpreter":
        stmt = stmt.where(Booking.interpreter_id == user.interpreter_id, Booking.status.in_(INTERPRETER_STATUSES))
    elif user.role == "agency_admin":
        stmt = stmt.where(Booking.agency_id == user.agency_id)
    elif user.role == "booker":
        stmt = stmt.where(Booking.agency_id == user.agency_id, Booking.booker_id == user.id)
    else:
        return []
    stmt = stmt.options(so.selectinload(Booking.agency), so.selectinload(Booking.interpreter))
    return session.scalars(stmt.order_by(Booking.starts_at, Booking.id).limit(FEED_MAX_EVENTS)).all()


def booking_for(session, user: User, booking_id: int) -> Booking:
    """A booking of the user's agency (bookers, agency admins) or assigned to them (interpreters)."""
    booking = session.get(Booking, booking_id)
    staff = user.role in ("booker", "agency_admin") and user.agency_id is not None
    interpreter = user.role == "interpreter" and user.interpreter_id is not None
    if booking is None or not (
            (staff and booking.agency_id == user.agency_id)
            or (interpreter and booking.interpreter_id == user.interpreter_id)):
        raise NotFound(_l("There is no booking %(id)s.", id=booking_id))
    return booking


def _sequences(session, ids: list[int]) -> dict[int, int]:
    """How often each booking has changed: the audit log is append-only, so this only ever grows."""
    if not ids:
        return {}
    rows = session.execute(sa.select(AuditEntry.object_id, sa.func.count()).where(
        AuditEntry.object_type == "booking", AuditEntry.object_id.in_([str(i) for i in ids]))
        .group_by(AuditEntry.object_id)).all()
    return {int(object_id): max(count - 1, 0) for object_id, count in rows}


# The iCalendar text ---------------------------------------------------------------------------------

def feed(session, user: User, now: datetime, link: Link = lambda b: None) -> bytes:
    """The user's private feed. Call inside the user's locale (flask_babel.force_locale)."""
    if user.role == "interpreter":
        name = _l("Interpreting assignments")
    elif user.role == "agency_admin":
        name = _l("Interpreter bookings: %(agency)s", agency=user.agency.name)
    else:
        name = _l("My interpreter bookings")
    rows = feed_bookings(session, user, now)
    return _calendar(str(name), rows, _sequences(session, [b.id for b in rows]), user, now, link, subscribed=True)


def booking_ics(session, user: User, booking: Booking, now: datetime, link: Link = lambda b: None) -> bytes:
    """One booking as a calendar file to import."""
    return _calendar(str(_l("Interpreter booking")), [booking], _sequences(session, [booking.id]), user, now,
                     link, subscribed=False)


def _calendar(name: str, rows, sequences: dict, viewer: User, now: datetime, link: Link,
              subscribed: bool) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("name", name)
    cal.add("x-wr-calname", name)
    if subscribed:
        cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", "PT1H")
    for booking in rows:
        cal.add_component(_event(booking, sequences.get(booking.id, 0), viewer, now, link(booking)))
    if rows:
        first = min(local(b.starts_at) for b in rows).date() - timedelta(days=366)
        last = max(local(b.ends_at) for b in rows).date() + timedelta(days=366)
        cal.add_missing_timezones(first_date=first, last_date=last)
    return cal.to_ical()


def _event(booking: Booking, sequence: int, viewer: User, now: datetime, url: str | None) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid(booking))
    event.add("dtstamp", now)
    event.add("created", booking.created_at)
    event.add("last-modified", booking.updated_at)
    event.add("sequence", sequence)
    # Local Norwegian times with their zone, so the calendar app shows them right across DST changes.
    event.add("dtstart", local(booking.starts_at))
    event.add("dtend", local(booking.ends_at))
    language = language_name(booking.language_code, _locale())
    event.add("summary", str(_l("Interpreting in %(language)s (%(status)s)", language=language,
                                status=BOOKING_STATUS[booking.status])))
    event.add("status", ICS_STATUS[booking.status])
    event.add("transp", "OPAQUE" if ICS_STATUS[booking.status] != "CANCELLED" else "TRANSPARENT")
    event.add("class", "PRIVATE")
    location = _location(booking)
    if location:
        event.add("location", location)
    event.add("description", _description(booking, viewer))
    if url:
        event.add("url", url)
    return event


def _location(booking: Booking) -> str | None:
    if booking.modality == "onsite":
        return booking.address
    if booking.modality == "video":
        return booking.meeting_url or str(_l("Video (the link follows from the public body)"))
    return str(_l("By phone"))


def _description(booking: Booking, viewer: User) -> str:
    lines = [
        str(_l("Public body: %(name)s", name=booking.agency.name if booking.agency else "")),
        str(_l("Way of working: %(modality)s", modality=MODALITY[booking.modality])),
        str(_l("Category: %(category)s or higher", category=booking.min_category)),
    ]
    if viewer.role != "interpreter" and booking.interpreter is not None:
        lines.append(str(_l("Interpreter: %(name)s (register number %(number)s)", name=booking.interpreter.name,
                            number=booking.interpreter.register_number)))
    if booking.contact_name or booking.contact_phone:
        contact = ", ".join(v for v in (booking.contact_name, booking.contact_phone) if v)
        lines.append(str(_l("Contact at the public body: %(contact)s", contact=contact)))
    if booking.modality == "video" and booking.meeting_url:
        lines.append(str(_l("Meeting link: %(url)s", url=booking.meeting_url)))
    lines += [str(WARNING[w]) for w in booking.warnings]
    if booking.description:
        lines += ["", booking.description]
    return "\n".join(lines)


def _locale() -> str:
    return str(get_locale() or "nb")
