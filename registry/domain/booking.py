"""Booking an interpreter: every state change, with its rules, in one place (DESIGN.md, "Booking").

The web pages, the JSON API and the jobs all call these functions. Each one checks who may do it,
checks the rules, changes the booking, writes the audit log and queues the notifications, in the
caller's transaction. A rule broken raises a DomainError (4xx); a lost race raises Conflict (409).
"""

import hashlib
import json
import secrets
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import format_date
from flask_babel import lazy_gettext as _l

from ..database import among, batches, expire_loaded, json_object, keyset_page, no_index
from ..models import Agency, Booking, BookingOffer, Interpreter, User
from ..models.account import SECTORS
from ..models.booking import HOLDING
from ..models.interpreter import CATEGORIES, MODALITIES
from . import audit, notifications
from .availability import Slot, availability_of, find_available, qualifies_on, takeable
from .clock import oslo_date
from .errors import Conflict, DomainError, InvalidInput, NotFound
from .languages import is_language
from .places import is_county, is_municipality
from .qualification import (
    at_least,
    derive_categories,
    needs_police_certificate,
    police_certified_on,
    verified_credentials,
)
from .register import by_number, by_number_with_contact
from .times import local

AUDITED = ("status", "interpreter_id", "starts_at", "ends_at", "late_cancellation", "billable", "report_state",
           "actual_start", "actual_end", "travel_minutes", "no_show", "warn_credential_expires",
           "warn_not_qualified", "cancel_reason", "dispute_reason")


@dataclass(frozen=True)
class Rules:
    """Configurable limits (REGISTRY_BOOKING_* settings)."""

    min_minutes: int = 15
    max_hours: int = 12
    respond_hours: int = 24
    late_cancel_hours: int = 24
    max_offers: int = 200
    max_series: int = 26

    @classmethod
    def from_config(cls, config) -> "Rules":
        return cls(
            min_minutes=config.get("BOOKING_MIN_MINUTES", 15), max_hours=config.get("BOOKING_MAX_HOURS", 12),
            respond_hours=config.get("BOOKING_RESPOND_HOURS", 24),
            late_cancel_hours=config.get("BOOKING_LATE_CANCEL_HOURS", 24),
            max_offers=config.get("BOOKING_MAX_OFFERS", 200), max_series=config.get("BOOKING_MAX_SERIES", 26),
        )


@dataclass(frozen=True)
class Details:
    """What a booker asks for. Times are aware UTC datetimes."""

    language: str
    min_category: str
    modality: str
    starts_at: datetime
    ends_at: datetime
    sector: str = ""
    address: str | None = None
    municipality: str | None = None
    meeting_url: str | None = None
    description: str | None = None
    gender_preference: str | None = None
    reference: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    county: str | None = field(default=None, compare=False)

    def slot(self) -> Slot:
        county = self.county or (self.municipality[:2] if self.municipality else None)
        return Slot(self.language, self.min_category, self.modality, self.starts_at, self.ends_at,
                    county=county if self.modality == "onsite" else self.county,
                    municipality=self.municipality, gender=self.gender_preference,
                    police_certificate=needs_police_certificate(self.sector))

    def fingerprint(self) -> str:
        # The fields as they are (all texts, times or None), not asdict's deep copies of them.
        values = {f.name: (v.isoformat() if isinstance(v := getattr(self, f.name), datetime) else v)
                  for f in fields(self)}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


def _text(value, limit: int, field: str, message):
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise InvalidInput(message, field)
    return value


def check_slot(session, d: Details, now: datetime, rules: Rules) -> Details:
    """What a search for a slot needs: language, category, way of working, time, place, preference, and the
    sector if one is given (a search may leave it out; a booking may not: check_details)."""
    if not is_language(d.language):
        raise InvalidInput(_l("Unknown language code: %(code)s", code=(d.language or "")[:12]), "language")
    if d.min_category not in CATEGORIES:
        raise InvalidInput(_l("The category must be one of A, B, C, D and E."), "min_category")
    if d.modality not in MODALITIES:
        raise InvalidInput(_l("The way of working must be on site, video or phone."), "modality")
    if d.gender_preference not in (None, "", "female", "male"):
        raise InvalidInput(_l("The gender preference must be female, male or none."), "gender_preference")
    if d.sector and d.sector not in SECTORS:
        raise InvalidInput(_l("Unknown sector."), "sector")
    check_times(d.starts_at, d.ends_at, now, rules)
    municipality = _text(d.municipality, 4, "municipality", _l("Unknown municipality number."))
    if municipality and not is_municipality(municipality):
        raise InvalidInput(_l("Unknown municipality number."), "municipality")
    county = _text(d.county, 2, "county", _l("Unknown county number."))
    if county and not is_county(county):
        raise InvalidInput(_l("Unknown county number."), "county")
    return replace(d, municipality=municipality, county=county, gender_preference=d.gender_preference or None)


def check_details(session, d: Details, now: datetime, rules: Rules) -> Details:
    """Every rule about what is asked, before anyone is looked for. Returns the cleaned details."""
    d = check_slot(session, d, now, rules)
    if d.sector not in SECTORS:
        raise InvalidInput(_l("Unknown sector."), "sector")
    address = _text(d.address, 300, "address", _l("The address can be at most 300 characters."))
    if d.modality == "onsite" and not address:
        raise InvalidInput(_l("Give the address where the interpreter is to meet."), "address")
    if d.modality == "onsite" and not d.municipality:
        # Nearness, and the county of an on-site open request, come from the municipality.
        raise InvalidInput(_l("Choose the municipality where the interpreter is to meet."), "municipality")
    meeting_url = _text(d.meeting_url, 500, "meeting_url", _l("The meeting link can be at most 500 characters."))
    if meeting_url and not meeting_url.startswith("https://"):
        raise InvalidInput(_l("The meeting link must start with https://."), "meeting_url")
    return replace(
        d, address=address, meeting_url=meeting_url,
        description=_text(d.description, 500, "description",
                          _l("The description can be at most 500 characters. Never write the client's name or "
                             "health information.")),
        reference=_text(d.reference, 100, "reference", _l("The reference can be at most 100 characters.")),
        contact_name=_text(d.contact_name, 200, "contact_name", _l("The name can be at most 200 characters.")),
        contact_phone=_text(d.contact_phone, 32, "contact_phone", _l("The phone number is too long.")),
    )


def check_times(starts_at: datetime, ends_at: datetime, now: datetime, rules: Rules) -> None:
    if ends_at <= starts_at:
        raise InvalidInput(_l("The end must be after the start."), "end")
    if starts_at <= now:
        raise InvalidInput(_l("The start must be in the future."), "start")
    length = ends_at - starts_at  # real elapsed time, across daylight-saving changes too
    if length < timedelta(minutes=rules.min_minutes):
        raise InvalidInput(_l("An assignment lasts at least %(n)s minutes.", n=rules.min_minutes), "end")
    if length > timedelta(hours=rules.max_hours):
        raise InvalidInput(_l("An assignment lasts at most %(n)s hours.", n=rules.max_hours), "end")


# Who may see and change what ------------------------------------------------------------------------

def for_agency(session, user: User, booking_id: int, lock: bool = False) -> Booking:
    """A booking of the user's own agency; another agency's is NotFound, as if it did not exist."""
    booking = _get(session, booking_id, lock)
    if booking is None or user.agency_id is None or booking.agency_id != user.agency_id:
        raise NotFound(_l("There is no booking %(id)s.", id=booking_id))
    return booking


def for_interpreter(session, user: User, booking_id: int, lock: bool = False) -> Booking:
    """A booking assigned or ever offered to the interpreter; anything else is NotFound.

    One offered an open request may still open it after someone else took it, to be told so.
    """
    booking = _get(session, booking_id, lock)
    mine = booking is not None and user.interpreter_id is not None and (
        booking.interpreter_id == user.interpreter_id or _offered(session, booking.id, user.interpreter_id))
    if not mine:
        raise NotFound(_l("There is no booking %(id)s.", id=booking_id))
    return booking


def offer_gone(booking: Booking, interpreter_id: int | None) -> bool:
    """An open request offered to the interpreter that another took, or that was cancelled or lapsed: they may
    know it is gone, and what they were offered, but nothing that happened after (who took it, its time report,
    the reasons given)."""
    return booking.interpreter_id != interpreter_id and booking.status != "open"


def gone_reason(booking: Booking):
    """Why an offered request is no longer there for the interpreter (offer_gone), in their words."""
    return TAKEN if booking.interpreter_id is not None else NO_LONGER_OPEN


def _get(session, booking_id: int, lock: bool) -> Booking | None:
    stmt = sa.select(Booking).where(Booking.id == booking_id)
    if lock:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def _offered(session, booking_id: int, interpreter_id: int) -> bool:
    return session.scalar(sa.select(BookingOffer.booking_id).where(
        BookingOffer.booking_id == booking_id, BookingOffer.interpreter_id == interpreter_id)) is not None


def _require_booker(user: User) -> None:
    if user.role not in ("booker", "agency_admin") or user.agency_id is None:
        raise NotFound(_l("Only staff of a public body can book."))


# Creating bookings ----------------------------------------------------------------------------------

def _new_booking(booker: User, d: Details, status: str, now: datetime, **extra) -> Booking:
    return Booking(
        agency_id=booker.agency_id, booker_id=booker.id, status=status, language_code=d.language,
        min_category=d.min_category, modality=d.modality, starts_at=d.starts_at, ends_at=d.ends_at,
        sector=d.sector, address=d.address, municipality_number=d.municipality, meeting_url=d.meeting_url,
        description=d.description, gender_preference=d.gender_preference, reference=d.reference,
        contact_name=d.contact_name or booker.name, contact_phone=d.contact_phone, created_at=now,
        updated_at=now, **extra)


def respond_by(starts_at: datetime, now: datetime, rules: Rules) -> datetime:
    """When an unanswered direct request lapses: the configured time, or half the time left if sooner."""
    return min(now + timedelta(hours=rules.respond_hours), now + (starts_at - now) / 2)


@dataclass(frozen=True)
class Chosen:
    """A direct request's details, checked, and its interpreter, who may take such work (choose)."""

    details: Details
    interpreter: Interpreter
    contact: notifications.Contact | None


def choose(session, booker: User, register_number: int, d: Details, now: datetime, rules: Rules) -> Chosen:
    """The first half of request_direct: the details checked, and the interpreter found, active, qualified and
    working this way; otherwise the first reason why not. It writes nothing, so a caller may run it in a read
    transaction of its own before the booking's (on SQLite the write lock is then held for the second half only;
    that half asks again, in one query, whether the interpreter is active, qualified, working this way and free)."""
    _require_booker(booker)
    d = check_details(session, d, now, rules)
    interpreter, contact = by_number_with_contact(session, register_number)
    if interpreter is None:
        raise InvalidInput(_l("No interpreter has register number %(number)s.", number=register_number), "interpreter")
    _check_may_take(session, interpreter, d.slot(), now)
    return Chosen(d, interpreter, contact)


def request_direct(session, booker: User, register_number: int, d: Details, now: datetime, rules: Rules,
                   series_id: str | None = None, chosen: Chosen | None = None) -> Booking:
    """Book a chosen interpreter: `requested`, holding the slot at once, until they answer. `chosen` is what
    `choose` answered for these arguments, when the caller ran it apart."""
    chosen = chosen or choose(session, booker, register_number, d, now, rules)
    d, interpreter = chosen.details, chosen.interpreter
    candidate = _check_free(session, interpreter, d.slot())
    # The interpreter object itself, not only the id: the answer names them, and with only the id the session may
    # have let the object go by then (it holds objects weakly) and would read the row again.
    booking = _new_booking(booker, d, "requested", now, interpreter_id=interpreter.id, interpreter=interpreter,
                           series_id=series_id,
                           respond_by=respond_by(d.starts_at, now, rules),
                           warn_credential_expires=candidate.credential_expires_before_start)
    _insert_holding(session, booking)
    _log(session, booker, booking, "booking.requested", None)
    _tell_interpreter(session, booking, "booking_requested", contact=chosen.contact)
    return booking


def _check_can_take(session, interpreter: Interpreter, slot: Slot, now: datetime, exclude_booking_id=None):
    """The interpreter may and can take the slot; otherwise the first reason why not."""
    _check_may_take(session, interpreter, slot, now)
    return _check_free(session, interpreter, slot, exclude_booking_id)


def _check_may_take(session, interpreter: Interpreter, slot: Slot, now: datetime) -> None:
    """Active, qualified on the day, with a police certificate if the sector needs one, and working this way;
    otherwise the first reason why not."""
    if interpreter.status != "active":
        raise Conflict(_l("%(name)s cannot take assignments now.", name=interpreter.name), "interpreter")
    if not qualifies_on(session, interpreter.id, slot.language, slot.min_category, oslo_date(now)):
        raise Conflict(_l("%(name)s is not qualified at category %(category)s or higher in this language.",
                          name=interpreter.name, category=slot.min_category), "interpreter")
    if not _certified_if_needed(session, interpreter.id, slot):
        raise Conflict(_l("Assignments in this sector need a police certificate valid on the day, and %(name)s does "
                          "not hold one.", name=interpreter.name), "interpreter")
    if not getattr(interpreter, f"offers_{slot.modality}"):
        raise Conflict(_l("%(name)s does not work this way.", name=interpreter.name), "modality")


def _certified_if_needed(session, interpreter_id: int, slot: Slot) -> bool:
    """The slot needs no police certificate, or the interpreter holds one valid on its day."""
    return not slot.police_certificate or bool(police_certified_on(session, [interpreter_id],
                                                                   local(slot.starts_at).date()))


def _check_free(session, interpreter: Interpreter, slot: Slot, exclude_booking_id=None):
    """The interpreter as a candidate for the slot (availability_of: active, qualified, working this way, at work
    then, not absent, not booked); otherwise Conflict."""
    candidate = availability_of(session, interpreter.id, slot, exclude_booking_id=exclude_booking_id)
    if candidate is None:
        raise Conflict(_l("%(name)s is not free at that time: outside working hours, absent or already booked.",
                          name=interpreter.name), "start")
    return candidate


TAKEN = _l("Thank you, but another interpreter took this assignment first.")
NO_LONGER_OPEN = _l("This assignment is no longer open.")
BUSY_NOW = _l("You took or were booked for another assignment at this time a moment ago, so you cannot take this "
              "one.")
STARTED = _l("This assignment has already started, so it can no longer be taken.")
SLOT_TAKEN = _l("The interpreter was booked by someone else a moment ago. Choose another time or interpreter.")


# PostgreSQL's codes for a transaction it chose to stop: two requests inserting overlapping bookings each wait
# for the other while checking the exclusion constraint, and one is stopped as a deadlock.
LOST_RACE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def _insert_holding(session, booking: Booking) -> None:
    """Insert a slot-holding booking; the database refuses an overlap (a lost race: 409).

    No savepoint: every caller ends the whole transaction on a Conflict (database.discard; a series is all or
    nothing), so rolling back to one only to roll back everything cost two round trips (SAVEPOINT and RELEASE)
    on every booking that went through."""
    try:
        session.add(booking)
        session.flush()
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as error:
        if _lost_race(error):
            raise Conflict(SLOT_TAKEN, "start") from None
        raise


def _lost_race(error: sa.exc.DBAPIError) -> bool:
    """The database refused an overlapping slot, or stopped one of two transactions racing for overlapping slots."""
    return isinstance(error, sa.exc.IntegrityError) or getattr(error.orig, "sqlstate", None) in LOST_RACE_SQLSTATES


def create_open(session, booker: User, d: Details, now: datetime, rules: Rules) -> Booking:
    """An open request, offered to every qualified, free interpreter (best ranked first, up to a cap)."""
    _require_booker(booker)
    d = check_details(session, d, now, rules)
    booking = _new_booking(booker, d, "open", now)
    session.add(booking)
    session.flush()
    _log(session, booker, booking, "booking.opened", None)
    _offer(session, booking, now, rules)
    return booking


def _offer(session, booking: Booking, now: datetime, rules: Rules, excluding: int | None = None) -> int:
    slot = _slot_of(booking)
    candidates = [c for c in find_available(session, slot, limit=rules.max_offers) if c.interpreter_id != excluding]
    already = set(session.scalars(sa.select(BookingOffer.interpreter_id).where(BookingOffer.booking_id == booking.id)))
    for c in candidates:
        if c.interpreter_id not in already:
            session.add(BookingOffer(booking_id=booking.id, interpreter_id=c.interpreter_id, offered_at=now))
            _tell_interpreter(session, booking, "booking_offered", interpreter_id=c.interpreter_id,
                              key=f"offered:{booking.id}:{c.interpreter_id}:{int(now.timestamp())}")
    session.flush()
    return len(candidates)


def _slot_of(booking: Booking) -> Slot:
    county = booking.municipality_number[:2] if booking.municipality_number else None
    return Slot(booking.language_code, booking.min_category, booking.modality, booking.starts_at, booking.ends_at,
                county=county if booking.modality == "onsite" else None,
                municipality=booking.municipality_number, gender=booking.gender_preference,
                police_certificate=needs_police_certificate(booking.sector))


@dataclass(frozen=True)
class Occurrence:
    starts_at: datetime
    ends_at: datetime
    free: bool
    reason: str | None = None


def series_times(d: Details, every_days: int, count: int, rules: Rules) -> list[tuple[datetime, datetime]]:
    """The occurrences: the same wall-clock time every N days (so 09:00 stays 09:00 across DST)."""
    if not 1 <= count <= rules.max_series:
        raise InvalidInput(_l("A series has from 1 to %(n)s occurrences.", n=rules.max_series), "count")
    if not 1 <= every_days <= 366:
        raise InvalidInput(_l("The interval must be from 1 to 366 days."), "every_days")
    from .times import to_utc

    start_local, end_local = local(d.starts_at), local(d.ends_at)
    times = []
    for n in range(count):
        shift = timedelta(days=every_days * n)
        start = to_utc((start_local + shift).replace(tzinfo=None), "start", fold=0)
        end = to_utc((end_local + shift).replace(tzinfo=None), "end", fold=0)
        times.append((start, end))
    return times


def preview_series(session, booker: User, register_number: int, d: Details, every_days: int, count: int,
                   now: datetime, rules: Rules) -> list[Occurrence]:
    """Which dates of a series the interpreter can take, before anything is sent."""
    _require_booker(booker)
    d = check_details(session, d, now, rules)
    interpreter = by_number(session, register_number)
    if interpreter is None:
        raise InvalidInput(_l("No interpreter has register number %(number)s.", number=register_number), "interpreter")
    result = []
    for start, end in series_times(d, every_days, count, rules):
        try:
            _check_can_take(session, interpreter, replace(d, starts_at=start, ends_at=end).slot(), now)
            result.append(Occurrence(start, end, True))
        except (Conflict, InvalidInput) as error:
            result.append(Occurrence(start, end, False, str(error.message)))
    return result


def choose_series(session, booker: User, register_number: int, d: Details, every_days: int, count: int,
                  now: datetime, rules: Rules) -> list[Chosen]:
    """The first half of create_series: `choose` for every date, refused at the first that cannot be booked. It
    writes nothing, so a caller may run it in a read transaction of its own before the bookings' (see choose)."""
    chosen = []
    for start, end in series_times(d, every_days, count, rules):
        try:
            chosen.append(choose(session, booker, register_number, replace(d, starts_at=start, ends_at=end), now,
                                 rules))
        except (Conflict, InvalidInput) as error:
            raise _series_refused(start, error) from None
    return chosen


def create_series(session, booker: User, register_number: int, d: Details, every_days: int, count: int,
                  now: datetime, rules: Rules, chosen: list[Chosen] | None = None) -> list[Booking]:
    """Every occurrence as its own direct request, all or nothing. `chosen` is what choose_series answered for
    these arguments, when the caller ran it apart."""
    series_id = secrets.token_hex(8)
    bookings = []
    for each in chosen or choose_series(session, booker, register_number, d, every_days, count, now, rules):
        try:
            bookings.append(request_direct(session, booker, register_number, each.details, now, rules, series_id,
                                           chosen=each))
        except (Conflict, InvalidInput) as error:
            raise _series_refused(each.details.starts_at, error) from None
    return bookings


def _series_refused(start: datetime, error: DomainError) -> Conflict:
    return Conflict(_l("The series was not booked: %(date)s cannot be booked (%(reason)s). Nothing was booked.",
                       date=format_date(local(start).date(), "medium"), reason=error.message), error.field)


# Answering and changing -----------------------------------------------------------------------------

def accept(session, user: User, booking_id: int, now: datetime, rules: Rules) -> Booking:
    """The interpreter says yes: a direct request becomes confirmed; an open one goes to the first."""
    booking = for_interpreter(session, user, booking_id, lock=True)
    interpreter = session.get(Interpreter, user.interpreter_id)
    if booking.status == "requested":
        if booking.respond_by is not None and booking.respond_by <= now:
            raise Conflict(_l("The request has lapsed: it was not answered in time."))
        if interpreter.status != "active" or not qualifies_on(
                session, interpreter.id, booking.language_code, booking.min_category, oslo_date(now)):
            raise Conflict(_l("You can no longer take this assignment: you do not hold the category it needs."))
        if not _certified_if_needed(session, interpreter.id, _slot_of(booking)):
            raise Conflict(_l("You can no longer take this assignment: it needs a police certificate valid on its "
                              "day, and you do not hold one."))
        before = audit.snapshot(booking, AUDITED)
        booking.status = "confirmed"
        booking.updated_at = now
        interpreter.last_booked_at = now
        session.flush()
        _log(session, user, booking, "booking.accepted", before)
        _tell_booker(session, booking, "booking_confirmed")
        return booking
    if booking.status != "open":
        if booking.interpreter_id is not None and booking.interpreter_id != interpreter.id:
            raise Conflict(TAKEN)
        raise Conflict(_l("This request can no longer be accepted: it has been cancelled or has lapsed."))
    if booking.starts_at <= now:
        raise Conflict(STARTED)
    candidate = _check_can_take(session, interpreter, _slot_of(booking), now)
    before = audit.snapshot(booking, AUDITED)
    try:
        with session.begin_nested():
            won = session.execute(
                sa.update(Booking).where(Booking.id == booking.id, Booking.status == "open")
                .values(status="confirmed", interpreter_id=interpreter.id, updated_at=now,
                        warn_credential_expires=candidate.credential_expires_before_start)
                .execution_options(synchronize_session=False))
    except (sa.exc.IntegrityError, sa.exc.OperationalError) as error:
        if _lost_race(error):
            raise Conflict(BUSY_NOW) from None
        raise
    if won.rowcount != 1:
        raise Conflict(TAKEN)
    session.refresh(booking)
    interpreter.last_booked_at = now
    _log(session, user, booking, "booking.accepted", before)
    _tell_booker(session, booking, "booking_confirmed")
    others = session.scalars(sa.select(BookingOffer.interpreter_id).where(
        BookingOffer.booking_id == booking.id, BookingOffer.interpreter_id != interpreter.id,
        BookingOffer.declined_at.is_(None)))
    for other in others:
        _tell_interpreter(session, booking, "booking_taken", interpreter_id=other, key=f"taken:{booking.id}:{other}")
    return booking


def decline(session, user: User, booking_id: int, now: datetime) -> Booking:
    booking = for_interpreter(session, user, booking_id, lock=True)
    if booking.status == "open":
        session.execute(sa.update(BookingOffer).where(
            BookingOffer.booking_id == booking.id, BookingOffer.interpreter_id == user.interpreter_id)
            .values(declined_at=now))
        _log(session, user, booking, "booking.offer_declined", None)
        return booking
    if booking.status != "requested":
        raise Conflict(_l("Only an unanswered request can be declined."))
    before = audit.snapshot(booking, AUDITED)
    booking.status = "declined"
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.declined", before)
    _tell_booker(session, booking, "booking_declined")
    return booking


def cancel(session, user: User, booking_id: int, reason: str | None, now: datetime, rules: Rules) -> Booking:
    """The booker cancels; late (and billable) when an interpreter was booked and notice was short."""
    booking = for_agency(session, user, booking_id, lock=True)
    if booking.status not in ("requested", "open", "confirmed"):
        raise Conflict(_l("This booking can no longer be cancelled: it is already declined, lapsed, cancelled or "
                          "completed."))
    if booking.ends_at <= now:
        raise Conflict(_l("The assignment is over; it can no longer be cancelled."))
    reason = _text(reason, 500, "reason", _l("The reason can be at most 500 characters."))
    before = audit.snapshot(booking, AUDITED)
    late = booking.status == "confirmed" and booking.starts_at - now < timedelta(hours=rules.late_cancel_hours)
    booking.status = "cancelled"
    booking.cancel_reason = reason
    booking.late_cancellation = late
    booking.billable = late
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.cancelled", before)
    if booking.interpreter_id is not None:
        _tell_interpreter(session, booking, "booking_cancelled")
    return booking


def withdraw(session, user: User, booking_id: int, now: datetime, rules: Rules) -> Booking:
    """The interpreter withdraws from a confirmed booking: it becomes open again and the booker is told."""
    booking = for_interpreter(session, user, booking_id, lock=True)
    if booking.status != "confirmed":
        raise Conflict(_l("Only a confirmed assignment can be withdrawn from."))
    if booking.starts_at <= now:
        raise Conflict(_l("The assignment has started; it can no longer be withdrawn from."))
    before = audit.snapshot(booking, AUDITED)
    leaving = booking.interpreter_id
    booking.status = "open"
    booking.interpreter_id = None
    booking.warn_credential_expires = False
    booking.warn_not_qualified = False
    booking.updated_at = now
    session.flush()
    session.execute(sa.delete(BookingOffer).where(BookingOffer.booking_id == booking.id,
                                                  BookingOffer.interpreter_id == leaving))
    _log(session, user, booking, "booking.withdrawn", before)
    _tell_booker(session, booking, "booking_withdrawn")
    _offer(session, booking, now, rules, excluding=leaving)
    return booking


def report_time(session, user: User, booking_id: int, actual_start: datetime, actual_end: datetime,
                travel_minutes: int | None, now: datetime) -> Booking:
    """After the assignment the interpreter reports actual times (this replaces the signed timesheet)."""
    booking = for_interpreter(session, user, booking_id, lock=True)
    check_reportable(booking, user.interpreter_id, now)
    if actual_end <= actual_start:
        raise InvalidInput(_l("The end must be after the start."), "actual_end")
    if actual_end > now:
        raise InvalidInput(_l("The actual end cannot be in the future."), "actual_end")
    if actual_end - actual_start > timedelta(hours=24) or abs(actual_start - booking.starts_at) > timedelta(hours=24):
        raise InvalidInput(_l("The actual times must be on the day of the assignment."), "actual_start")
    if travel_minutes is not None and not 0 <= travel_minutes <= 24 * 60:
        raise InvalidInput(_l("Travel time is from 0 to 1440 minutes."), "travel_minutes")
    if booking.modality != "onsite" and travel_minutes:
        raise InvalidInput(_l("Travel time applies only to on-site assignments."), "travel_minutes")
    before = audit.snapshot(booking, AUDITED)
    booking.actual_start, booking.actual_end = actual_start, actual_end
    booking.travel_minutes = travel_minutes
    booking.report_state = "reported"
    booking.dispute_reason = None
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.time_reported", before)
    _tell_booker(session, booking, "time_reported", key=f"time_reported:{booking.id}:{int(now.timestamp())}")
    return booking


def check_reportable(booking: Booking, interpreter_id: int, now: datetime) -> None:
    """Whether time can be reported for the booking now (pages ask this before showing the form)."""
    if booking.status != "confirmed" or booking.interpreter_id != interpreter_id:
        raise Conflict(_l("Time can only be reported for your own confirmed assignment."))
    if booking.ends_at > now:
        raise Conflict(_l("Time can be reported when the assignment has ended."))
    if booking.report_state == "approved":
        raise Conflict(_l("The time is already approved."))


def approve_time(session, user: User, booking_id: int, now: datetime) -> Booking:
    booking = for_agency(session, user, booking_id, lock=True)
    if booking.report_state != "reported" or booking.status != "confirmed":
        raise Conflict(_l("There is no reported time to approve."))
    before = audit.snapshot(booking, AUDITED)
    booking.report_state = "approved"
    booking.status = "completed"
    booking.billable = True
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.time_approved", before)
    return booking


def dispute_time(session, user: User, booking_id: int, reason: str, now: datetime) -> Booking:
    booking = for_agency(session, user, booking_id, lock=True)
    if booking.report_state != "reported" or booking.status != "confirmed":
        raise Conflict(_l("There is no reported time to dispute."))
    reason = _text(reason, 500, "reason", _l("The reason can be at most 500 characters."))
    if not reason:
        raise InvalidInput(_l("Say what is wrong with the reported time."), "reason")
    before = audit.snapshot(booking, AUDITED)
    booking.report_state = "disputed"
    booking.dispute_reason = reason
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.time_disputed", before)
    _tell_interpreter(session, booking, "time_disputed", key=f"time_disputed:{booking.id}:{int(now.timestamp())}")
    return booking


def record_no_show(session, user: User, booking_id: int, party: str, now: datetime) -> Booking:
    """The client or the interpreter did not come. A client's no-show is billable; the interpreter's is not."""
    booking = for_agency(session, user, booking_id, lock=True)
    if party not in ("client", "interpreter"):
        raise InvalidInput(_l("Say who did not come: the client or the interpreter."), "party")
    if booking.status != "confirmed":
        raise Conflict(_l("A no-show can be recorded only for a confirmed assignment."))
    if booking.starts_at > now:
        raise Conflict(_l("A no-show can be recorded once the assignment has started."))
    before = audit.snapshot(booking, AUDITED)
    booking.no_show = party
    booking.status = "completed"
    booking.billable = party == "client"
    booking.updated_at = now
    session.flush()
    _log(session, user, booking, "booking.no_show", before)
    if party == "interpreter":
        _tell_interpreter(session, booking, "no_show_recorded")
    return booking


# For the jobs and for admin actions ----------------------------------------------------------------

def lapse_due(session, now: datetime) -> int:
    """Unanswered direct requests past their deadline lapse, freeing the slot, and so do open requests no one took
    before they started; the booker is told which."""
    due = session.scalars(sa.select(Booking).where(sa.or_(
        sa.and_(Booking.status == "requested", Booking.respond_by <= now),
        sa.and_(Booking.status == "open", Booking.starts_at <= now)))
        .order_by(Booking.id).with_for_update(skip_locked=True)).all()
    for booking in due:
        kind = "booking_lapsed" if booking.status == "requested" else "booking_unfilled"
        before = audit.snapshot(booking, AUDITED)
        booking.status = "lapsed"
        booking.updated_at = now
        _log(session, None, booking, "booking.lapsed", before)
        _tell_booker(session, booking, kind)
    session.flush()
    return len(due)


def flag_unqualified(session, interpreter_ids, now: datetime, reason: str, *, tell_interpreters: bool = True,
                     categories: dict[int, dict[str, str]] | None = None) -> dict[int, list[dict]]:
    """Future slot-holding bookings whose interpreter no longer qualifies, or is no longer active, get the
    warning and an audit entry each. Each booker is told once, in one message listing their bookings; so is each
    interpreter, unless the caller tells them itself (the expiry job puts the list in its notice).

    Set-based for many interpreters at once: the candidates are read as plain rows, each interpreter's categories
    derived once (or taken from `categories`, when the caller has just derived them for now's date), the bookings
    flagged get one UPDATE and their audit entries one INSERT ... SELECT (on SQLite a thousand at a time:
    database.batches), and the messages one executemany INSERT. Returns the flagged bookings per interpreter, as the
    messages list them.
    """
    return _set_warning(session, interpreter_ids, now, reason, on=True, tell_interpreters=tell_interpreters,
                        categories=categories)


def clear_requalified(session, interpreter_ids, now: datetime, reason: str) -> dict[int, list[dict]]:
    """The way back from flag_unqualified: future slot-holding bookings with the warning whose interpreter is active
    and holds the category they ask for again (a credential verified, recorded, imported or renewed; a suspension
    lifted; the status made active) lose it, each with an audit entry, and each booker and interpreter is told once,
    in one message listing them. Without this a booker would keep being told to find another interpreter for a
    booking whose interpreter qualifies. Returns the cleared bookings per interpreter."""
    return _set_warning(session, interpreter_ids, now, reason, on=False, tell_interpreters=True, categories=None)


def _set_warning(session, interpreter_ids, now: datetime, reason: str, *, on: bool, tell_interpreters: bool,
                 categories: dict | None) -> dict[int, list[dict]]:
    wrong = []
    for batch in batches(session, sorted(set(interpreter_ids))):
        wrong += _wrongly_marked(session, batch, now, categories, on)
    changed = []
    for batch in batches(session, wrong):
        changed += _mark(session, batch, now, reason, on)
    if not changed:
        return {}
    kind = "booking_flagged" if on else "booking_requalified"
    agencies = {}
    for batch in batches(session, sorted({r.agency_id for r in changed})):
        agencies.update(session.execute(sa.select(Agency.id, Agency.name)
                                        .where(among(session, Agency.id, batch))).all())
    by_booker, by_interpreter = defaultdict(list), defaultdict(list)
    for row in sorted(changed, key=lambda r: (r.starts_at, r.id)):
        params = message_params(row, agencies.get(row.agency_id, ""))
        by_interpreter[row.interpreter_id].append(params)
        if row.booker_id is not None:
            by_booker[row.booker_id].append(params)
    messages = _booker_digests(session, kind, by_booker, now)
    if tell_interpreters:
        messages += _interpreter_digests(session, kind, by_interpreter, now)
    notifications.enqueue_many(session, messages)
    return dict(by_interpreter)


def _wrongly_marked(session, interpreter_ids: list[int], now: datetime, categories: dict | None,
                    on: bool) -> list[int]:
    """The ids of the interpreters' coming slot-holding bookings whose warning should be `on` and is not: for on,
    those not yet flagged that the interpreter cannot take now; for off, the flagged ones they can take again.
    Like the category, a police certificate the sector needs is judged on today's date: the expiry job runs every
    day, so one that ends before the assignment flags it on the day it ends."""
    rows = session.execute(sa.select(Booking.id, Booking.interpreter_id, Booking.language_code, Booking.min_category,
                                     Booking.sector)
                           .where(among(session, Booking.interpreter_id, interpreter_ids),
                                  no_index(Booking.status).in_(HOLDING),
                                  Booking.starts_at > now, Booking.warn_not_qualified.is_(not on))).all()
    if not rows:
        return []
    involved = sorted({r.interpreter_id for r in rows})
    active = set(session.scalars(sa.select(Interpreter.id).where(among(session, Interpreter.id, involved),
                                                                 Interpreter.status == "active")))
    if categories is None:
        held = verified_credentials(session, involved)
        categories = {i: derive_categories(held[i], oslo_date(now)) for i in involved}
    certified = police_certified_on(session, {r.interpreter_id for r in rows if needs_police_certificate(r.sector)},
                                    oslo_date(now))
    # Asked once per interpreter, language, category asked for and sector, not once per booking, and the rows read
    # as tuples: on the bench data, 50,164 bookings, this part of the expiry job went from 0.39 to 0.17 s (profiled).
    qualifies, wrong = {}, []
    for booking_id, *key in rows:
        key = tuple(key)
        if key not in qualifies:
            who, language, minimum, sector = key
            qualifies[key] = (who in active and at_least(categories[who].get(language), minimum)
                              and (who in certified or not needs_police_certificate(sector)))
        if qualifies[key] != on:
            wrong.append(booking_id)
    return sorted(wrong)


_BOOKINGS = Booking.__table__
_MARK_RETURNS = tuple(_BOOKINGS.c[f] for f in ("id", "interpreter_id", "agency_id", "booker_id", "language_code",
                                               "modality", "starts_at", "ends_at"))


def _mark(session, booking_ids: list[int], now: datetime, reason: str, on: bool) -> list:
    """One UPDATE sets (or clears) the warning and returns what the messages need, and one INSERT ... SELECT writes
    an audit entry for each booking (audit.record_each). It changes only the warning and updated_at, and only where
    the warning was the other way, so the entry holds just that change (with the interpreter and the reason):
    nothing else about the booking changed, and its entries from before hold the rest. The conditions are asked
    again, so a booking changed meanwhile (PostgreSQL, read committed) is left alone."""
    b = _BOOKINGS.c
    rows = session.execute(
        _BOOKINGS.update().where(among(session, b.id, booking_ids), b.warn_not_qualified.is_(not on),
                                 no_index(b.status).in_(HOLDING), b.starts_at > now)
        .values(warn_not_qualified=on, updated_at=now).returning(*_MARK_RETURNS)).all()
    rows.sort(key=lambda r: r.id)
    ids = [r.id for r in rows]
    expire_loaded(session, Booking, ids, ["warn_not_qualified", "updated_at"])
    if ids:
        audit.record_each(
            session, "booking.flagged_not_qualified" if on else "booking.qualified_again",
            sa.select(b.id, json_object({"warn_not_qualified": not on}),
                      json_object({"warn_not_qualified": on, "interpreter_id": b.interpreter_id,
                                   "note": sa.literal(reason, sa.String)}))
            .where(among(session, b.id, ids)).order_by(b.id),
            actor_label="system", object_type="booking")
    return rows


def _booker_digests(session, kind: str, by_booker: dict[int, list[dict]], now: datetime) -> list[dict]:
    messages = []
    for batch in batches(session, sorted(by_booker)):
        for booker in session.execute(sa.select(User.id, User.email, User.locale, User.name)
                                      .where(among(session, User.id, batch), User.active.is_(True))):
            bookings = by_booker[booker.id]
            messages.append(dict(kind=kind, recipient=booker.email, locale=booker.locale,
                                 user_id=booker.id, event_key=_digest_key(kind, "booker", booker.id, bookings, now),
                                 name=booker.name, bookings=bookings))
    return messages


def _interpreter_digests(session, kind: str, by_interpreter: dict[int, list[dict]], now: datetime) -> list[dict]:
    contacts = notifications.interpreter_contacts(session, by_interpreter)
    return [dict(kind=kind, recipient=c.email, locale=c.locale, user_id=c.user_id, name=c.name,
                 event_key=_digest_key(kind, "interpreter", i, by_interpreter[i], now), bookings=by_interpreter[i],
                 to_interpreter=True)
            for i, c in sorted(contacts.items())]


def _digest_key(kind: str, to: str, who: int, bookings: list[dict], now: datetime) -> str:
    """A booking's warning changes once at a moment, so what changed, who, the first booking and the moment name
    the event."""
    return f"{kind}:{to}:{who}:{min(b['booking_id'] for b in bookings)}:{now.isoformat()}"


# Lists ----------------------------------------------------------------------------------------------

# The order of the paged lists of bookings, and the key of their pages.
BY_START = (Booking.starts_at, Booking.id)


def agency_bookings(session, agency_id: int, *, status: str | None = None, since: datetime | None = None,
                    until: datetime | None = None, after: tuple | None = None, limit: int = 50):
    """The agency's bookings by start time, keyset-paged on (starts_at, id), with their interpreters (in one more
    query, not one for each booking: a page of the API's list was 27 statements)."""
    stmt = sa.select(Booking).where(Booking.agency_id == agency_id).options(so.selectinload(Booking.interpreter))
    if status:
        # The agency's own bookings, in start order, looked through for the status: without statistics SQLite took
        # every booking in the country with that status instead (ix_bookings_status_starts), 17-32 ms a page on the
        # bench data for an agency's cancelled or open ones.
        stmt = stmt.where(no_index(Booking.status) == status)
    if since:
        stmt = stmt.where(Booking.starts_at >= since)
    if until:
        stmt = stmt.where(Booking.starts_at < until)
    return keyset_page(session, stmt, BY_START, after, limit)


def _interpreters_bookings(interpreter_id: int, since: datetime, until: datetime | None):
    """The interpreter's bookings ending after `since` (and starting before `until`), with the public bodies they are
    for (in one more query, not one for each body)."""
    stmt = (sa.select(Booking).where(Booking.interpreter_id == interpreter_id, Booking.ends_at > since)
            .options(so.selectinload(Booking.agency)))
    return stmt.where(Booking.starts_at < until) if until else stmt


def interpreter_bookings(session, interpreter_id: int, since: datetime, until: datetime | None = None):
    """All of them, by start time (the calendar's weeks)."""
    return session.scalars(_interpreters_bookings(interpreter_id, since, until).order_by(Booking.starts_at)).all()


def held_during(session, interpreter_id: int, starts_at: datetime, ends_at: datetime) -> list[Booking]:
    """The interpreter's bookings holding time (requested or confirmed) that overlap the period, soonest first.

    An absence added over them leaves them standing (the interpreter declines or withdraws, and the booker is
    told), so the interpreter is told they are there."""
    return session.scalars(sa.select(Booking).where(
        Booking.interpreter_id == interpreter_id, Booking.status.in_(HOLDING), Booking.starts_at < ends_at,
        Booking.ends_at > starts_at).order_by(Booking.starts_at)).all()


def interpreter_bookings_page(session, interpreter_id: int, since: datetime, until: datetime | None = None, *,
                              after: tuple | None = None, limit: int = 50):
    """A page of them, keyset-paged on (starts_at, id), as agency_bookings: the API's list had read every booking
    from `since` on and paged them in Python, 22 ms a page for 957 bookings since 2021 on the bench data."""
    return keyset_page(session, _interpreters_bookings(interpreter_id, since, until), BY_START, after, limit)


def open_offers(session, interpreter_id: int, now: datetime) -> list[Booking]:
    """Open requests offered to the interpreter that they have not declined and can still take (availability's
    `takeable`: one statement for all of them, not one each)."""
    offered = session.scalars(
        sa.select(Booking).join(BookingOffer, BookingOffer.booking_id == Booking.id)
        .where(BookingOffer.interpreter_id == interpreter_id, BookingOffer.declined_at.is_(None),
               Booking.status == "open", Booking.starts_at > now)
        .options(so.selectinload(Booking.agency)).order_by(Booking.starts_at)).all()
    can = takeable(session, interpreter_id, {b.id: _slot_of(b) for b in offered})
    return [b for b in offered if b.id in can]


# Audit and notifications ----------------------------------------------------------------------------

def _log(session, actor: User | None, booking: Booking, action: str, before: dict | None):
    after = audit.snapshot(booking, AUDITED)
    audit.record(session, action, actor=actor, actor_label=None if actor else "system", object_type="booking",
                 object_id=booking.id, before=before, after=after)


def message_params(booking, agency: str | None = None) -> dict:
    """What templates/email/_booking.txt shows. `booking` is a Booking, or a row of its columns with the
    agency's name given."""
    if agency is None:
        agency = booking.agency.name if booking.agency else ""
    return {"booking_id": booking.id, "language": booking.language_code, "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(), "modality": booking.modality, "agency": agency}


def _booker_message(session, booking: Booking, kind: str, key: str | None = None) -> dict | None:
    booker = session.get(User, booking.booker_id) if booking.booker_id else None
    if booker is None or not booker.active:
        return None
    return dict(kind=kind, recipient=booker.email, event_key=key or f"{kind}:{booking.id}:{booking.updated_at}",
                locale=booker.locale, user_id=booker.id, name=booker.name, **message_params(booking))


# `contact` when the caller has it already (register.by_number_with_contact); None there means no address.
_LOOK_UP = object()


def _interpreter_message(session, booking: Booking, kind: str, interpreter_id: int | None = None,
                         key: str | None = None, contact=_LOOK_UP) -> dict | None:
    interpreter_id = interpreter_id or booking.interpreter_id
    if contact is _LOOK_UP:
        contact = notifications.interpreter_contact(session, interpreter_id)
    if contact is None:
        return None
    return dict(kind=kind, recipient=contact.email, event_key=key or f"{kind}:{booking.id}:{interpreter_id}:"
                f"{booking.updated_at}", locale=contact.locale, user_id=contact.user_id, name=contact.name,
                **message_params(booking))


def _tell_booker(session, booking: Booking, kind: str, key: str | None = None) -> None:
    message = _booker_message(session, booking, kind, key)
    if message:
        notifications.enqueue(session, **message)


def _tell_interpreter(session, booking: Booking, kind: str, interpreter_id: int | None = None,
                      key: str | None = None, contact=_LOOK_UP) -> None:
    message = _interpreter_message(session, booking, kind, interpreter_id, key, contact)
    if message:
        notifications.enqueue(session, **message)
