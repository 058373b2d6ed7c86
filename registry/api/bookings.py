"""Bookings: bookers and agency admins find, book, follow, cancel and approve; interpreters answer and report."""

import hashlib
from contextvars import ContextVar
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, request
from flask_babel import lazy_gettext as _l

from .. import paging
from ..database import commit_read, discard, read_apart
from ..domain import booking as rules
from ..domain import clock
from ..domain.availability import find_available
from ..domain.booker import search_slot
from ..domain.errors import BadPageLink, Conflict
from ..domain.typed import FORBIDDEN
from ..extensions import db
from ..models import Booking
from . import bodies, serialize
from .auth import current, token
from .openapi import operation
from .problems import ApiProblem
from .schemas import Prop, check_query
from .views import answer, bp, location, read_body

BOOKERS = ("booker", "agency_admin")
BOOKING_ID = _l("The booking's id.")
MY_WINDOW_DAYS = 30
IDEMPOTENCY = Prop("string", required=False, min_length=1, max_length=200, example="b5f6c0e2-7d1a-4f3e-9a57")
IDEMPOTENCY_TEXT = _l("Any unique string up to 200 characters. The same key and body again answers the booking "
                      "made the first time (200) and books nothing; the same key with another body is 422.")


def _rules() -> rules.Rules:
    return rules.Rules.from_config(current_app.config)


def _find(booking_id: int) -> Booking:
    """The caller's booking: their agency's for bookers, one assigned or offered to them for interpreters."""
    user = current()
    if user.role == "interpreter":
        return rules.for_interpreter(db.session, user, booking_id)
    return rules.for_agency(db.session, user, booking_id)


def _done(made: Booking, status: int = 200, headers: dict | None = None):
    # Serialised inside the transaction, from what it wrote: after the commit the booking would be read again,
    # in a second write transaction on SQLite (this is a POST), queueing behind other writers for it.
    data = serialize.booking(made)
    db.session.commit()
    return answer(data, status, headers)


# Pages of bookings in memory (offers) ------------------------------------------------------------

def _page_of(found: list[Booking], after: tuple | None, limit: int, purpose: str):
    ordered = sorted(found, key=lambda b: (b.starts_at, b.id))
    if after is not None:
        ordered = [b for b in ordered if (b.starts_at, b.id) > after]
    page = ordered[:limit]
    more = len(ordered) > limit
    return serialize.page([serialize.booking(b) for b in page],
                          paging.encode_timed(purpose, (page[-1].starts_at, page[-1].id)) if more else None)


# Finding an interpreter ---------------------------------------------------------------------------

@bp.get("/availability")
@token(*BOOKERS)
@operation(id="findAvailable", tag="bookings", summary=_l("Find qualified, free interpreters for a time"),
           description=_l("Interpreters who hold the category, offer the way of working, work then, are not "
                          "absent and are not booked, best first: category, then nearness, then who was booked "
                          "least recently. The start must be in the future."),
           query=bodies.AVAILABILITY_SEARCH, result="CandidateList")
def availability():
    q = check_query(bodies.AVAILABILITY_SEARCH, request.args)
    slot = search_slot(db.session, language=q["language"], min_category=q["min_category"], modality=q["modality"],
                       starts_at=q["start"], ends_at=q["end"], county=q["county"], municipality=q["municipality"],
                       gender=q["gender"], sector=q["sector"], now=clock.now(), rules=_rules())
    offset = _offset(q["cursor"])
    found = find_available(db.session, slot, limit=offset + q["limit"] + 1)
    page = found[offset:offset + q["limit"]]
    more = len(found) > offset + q["limit"]
    return answer(serialize.page([serialize.candidate(c) for c in page],
                                 paging.encode("api:availability", (offset + q["limit"],)) if more else None))


def _offset(cursor: str | None) -> int:
    key = paging.decode("api:availability", cursor)
    if key is None:
        return 0
    if len(key) != 1 or not isinstance(key[0], int) or not 0 <= key[0] <= 10_000:
        raise BadPageLink()
    return key[0]


# Booking ------------------------------------------------------------------------------------------

@bp.post("/bookings")
@token(*BOOKERS)
@operation(id="createBooking", tag="bookings", summary=_l("Book an interpreter"),
           description=_l("With `interpreter` (a register number) a direct request: it holds that interpreter's "
                          "time at once, as `requested`, until they accept or decline. Without, an open request "
                          "(`open`) offered to every qualified, free interpreter; the first to accept gets it. "
                          "Send an Idempotency-Key to retry safely."),
           body=bodies.NEW_BOOKING, status=201, result="Booking",
           result_description=_l("Booked; Location is the booking's address."),
           headers={"Location": _l("The booking's address.")},
           also={200: (_l("The booking made earlier with this Idempotency-Key and body; nothing new was booked."),
                       {"Location": _l("The booking's address."),
                        "Idempotent-Replayed": _l("true")})},
           request_headers={"Idempotency-Key": (IDEMPOTENCY, IDEMPOTENCY_TEXT)}, errors=(409,))
def create_booking():
    data = read_body(bodies.NEW_BOOKING)
    key = _idempotency_key()
    d = rules.Details(
        language=data["language"], min_category=data["min_category"], modality=data["modality"],
        starts_at=data["start"], ends_at=data["end"], sector=data["sector"], address=data["address"],
        municipality=data["municipality"], meeting_url=data["meeting_url"], description=data["description"],
        gender_preference=data["gender_preference"], reference=data["reference"],
        contact_name=data["contact_name"], contact_phone=data["contact_phone"])
    fingerprint = None  # only a request with a key is remembered, and compared with one repeating it
    if key is not None:
        fingerprint = hashlib.sha256(f"{d.fingerprint()}|{data['interpreter'] or ''}".encode()).hexdigest()
        _wait_for_same_key(key)
        earlier = _booked_with(key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
    try:
        made = _book(data, d, key, fingerprint)
    except (Conflict, sa.exc.IntegrityError):
        # A request with the same key may have won the race a moment ago: then answer with its booking.
        discard(db.session())
        earlier = _booked_with(key) if key is not None else None
        if earlier is None:
            raise
        return _replay(earlier, fingerprint)
    return _done(made, 201, {"Location": location("api.get_booking", id=made.id)})


def _book(data: dict, d: rules.Details, key: str | None, fingerprint: str | None) -> Booking:
    user, now = current(), clock.now()
    stamp = _KEY_OF_NEW_BOOKING.set((user.agency_id, key, fingerprint) if key is not None else None)
    try:
        if data["interpreter"]:
            number = int(data["interpreter"])
            # The interpreter is found and checked before the booking's write transaction (on SQLite in a read of
            # its own, database.read_apart), so the write lock is held for the free-slot check and the writes only.
            with read_apart(db.session) as apart:
                chosen = rules.choose(db.session, user, number, d, now, _rules())
                if apart:
                    commit_read(db.session())
            return rules.request_direct(db.session, user, number, d, now, _rules(), chosen=chosen)
        return rules.create_open(db.session, user, d, now, _rules())
    finally:
        _KEY_OF_NEW_BOOKING.reset(stamp)


# The booking domain builds and inserts the booking; the key must be in that very INSERT. Set after it (an
# UPDATE), PostgreSQL re-checks the slot's exclusion constraint and two requests for one slot can deadlock.
_KEY_OF_NEW_BOOKING: ContextVar[tuple | None] = ContextVar("api_key_of_new_booking", default=None)


@sa.event.listens_for(Booking, "before_insert")
def _stamp_key(_mapper, _connection, target: Booking) -> None:
    stamp = _KEY_OF_NEW_BOOKING.get()
    if stamp is not None and target.agency_id == stamp[0] and target.idempotency_key is None:
        target.idempotency_key, target.request_fingerprint = stamp[1], stamp[2]


def _idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > 200 or FORBIDDEN.search(key):
        message = _l("The Idempotency-Key must be from 1 to 200 characters.")
        raise ApiProblem("invalid-parameters", message, errors=[{"field": "Idempotency-Key", "message": message}])
    return key


def _wait_for_same_key(key: str) -> None:
    """Requests with one key take turns (PostgreSQL; on SQLite the write lock taken at BEGIN does it), so a
    duplicate finds the first one's booking instead of racing it. The unique key remains the backstop."""
    if db.session.get_bind().dialect.name == "postgresql":
        lock = sa.func.hashtextextended(f"idempotency:{current().agency_id}:{key}", 0)
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(lock)))


def _booked_with(key: str) -> Booking | None:
    return db.session.scalar(sa.select(Booking).where(Booking.agency_id == current().agency_id,
                                                      Booking.idempotency_key == key))


def _replay(earlier: Booking, fingerprint: str):
    if earlier.request_fingerprint != fingerprint:
        message = _l("This Idempotency-Key was used for a booking with other details. Use a new key for a new "
                     "booking.")
        raise ApiProblem("idempotency-key-reused", message,
                         errors=[{"field": "Idempotency-Key", "message": message}])
    return answer(serialize.booking(earlier), 200, {"Location": location("api.get_booking", id=earlier.id),
                                                    "Idempotent-Replayed": "true"})


@bp.get("/bookings")
@token(*BOOKERS)
@operation(id="listBookings", tag="bookings", summary=_l("Your agency's bookings"),
           description=_l("By start time, oldest first."), query=bodies.BOOKING_LIST, result="BookingList")
def list_bookings():
    q = check_query(bodies.BOOKING_LIST, request.args)
    after = paging.decode_timed("api:bookings", q["cursor"])
    found, next_key = rules.agency_bookings(db.session, current().agency_id, status=q["status"], since=q["from"],
                                            until=q["to"], after=after, limit=q["limit"])
    next_cursor = paging.encode_timed("api:bookings", next_key)
    return answer(serialize.page([serialize.booking(b) for b in found], next_cursor))


@bp.get("/bookings/<int:id>")
@token(*BOOKERS, "interpreter")
@operation(id="getBooking", tag="bookings", summary=_l("One booking"),
           description=_l("A booker sees their agency's bookings; an interpreter those assigned to them, and open "
                          "requests offered to them. An offered request that another interpreter took, or that "
                          "was cancelled or lapsed, is 410. Anything else is 404."),
           path={"id": BOOKING_ID}, result="Booking", errors=(410,))
def get_booking(id: int):
    found = _find(id)
    if current().role == "interpreter" and rules.offer_gone(found, current().interpreter_id):
        raise ApiProblem("gone", rules.gone_reason(found))
    return answer(serialize.booking(found))


@bp.post("/bookings/<int:id>/cancel")
@token(*BOOKERS)
@operation(id="cancelBooking", tag="bookings", summary=_l("Cancel a booking"),
           description=_l("Late (and billable) when a confirmed booking is cancelled with less notice than the "
                          "rules require."), path={"id": BOOKING_ID}, body=bodies.CANCEL, body_optional=True,
           result="Booking", errors=(409,))
def cancel_booking(id: int):
    _find(id)  # someone else's booking is 404 whatever the body says
    data = read_body(bodies.CANCEL, optional=True)
    return _done(rules.cancel(db.session, current(), id, data["reason"], clock.now(), _rules()))


@bp.post("/bookings/<int:id>/approve-time")
@token(*BOOKERS)
@operation(id="approveTime", tag="bookings", summary=_l("Approve the time the interpreter reported"),
           description=_l("The booking becomes completed."), path={"id": BOOKING_ID}, result="Booking",
           errors=(409,))
def approve_time(id: int):
    return _done(rules.approve_time(db.session, current(), id, clock.now()))


@bp.post("/bookings/<int:id>/dispute-time")
@token(*BOOKERS)
@operation(id="disputeTime", tag="bookings", summary=_l("Dispute the time the interpreter reported"),
           description=_l("The interpreter is told the reason and can report the time again."),
           path={"id": BOOKING_ID}, body=bodies.TIME_DISPUTE, result="Booking", errors=(409,))
def dispute_time(id: int):
    _find(id)  # someone else's booking is 404 whatever the body says
    data = read_body(bodies.TIME_DISPUTE)
    return _done(rules.dispute_time(db.session, current(), id, data["reason"], clock.now()))


@bp.post("/bookings/<int:id>/no-show")
@token(*BOOKERS)
@operation(id="recordNoShow", tag="bookings", summary=_l("Record a no-show"),
           description=_l("The booking becomes completed, billable when the client did not come; the interpreter is "
                          "told when it was them."),
           path={"id": BOOKING_ID}, body=bodies.NO_SHOW_REPORT, result="Booking", errors=(409,))
def record_no_show(id: int):
    _find(id)
    data = read_body(bodies.NO_SHOW_REPORT)
    return _done(rules.record_no_show(db.session, current(), id, data["party"], clock.now()))


# For interpreters ---------------------------------------------------------------------------------

@bp.get("/me/bookings")
@token("interpreter")
@operation(id="listMyBookings", tag="interpreters", summary=_l("Your assignments"),
           description=_l("Bookings assigned to you, by start time."), query=bodies.MY_BOOKINGS,
           result="BookingList")
def my_bookings():
    q = check_query(bodies.MY_BOOKINGS, request.args)
    since = q["from"] or clock.now() - timedelta(days=MY_WINDOW_DAYS)
    after = paging.decode_timed("api:me-bookings", q["cursor"])
    found, next_key = rules.interpreter_bookings_page(db.session, current().interpreter_id, since, q["to"],
                                                      after=after, limit=q["limit"])
    next_cursor = paging.encode_timed("api:me-bookings", next_key)
    return answer(serialize.page([serialize.booking(b) for b in found], next_cursor))


@bp.get("/me/offers")
@token("interpreter")
@operation(id="listMyOffers", tag="interpreters", summary=_l("Open requests you may take"),
           description=_l("Open requests offered to you that you have not declined and are still free for."),
           query=bodies.PAGING, result="BookingList")
def my_offers():
    q = check_query(bodies.PAGING, request.args)
    found = rules.open_offers(db.session, current().interpreter_id, clock.now())
    return answer(_page_of(found, paging.decode_timed("api:me-offers", q["cursor"]), q["limit"], "api:me-offers"))


@bp.post("/bookings/<int:id>/accept")
@token("interpreter")
@operation(id="acceptBooking", tag="interpreters", summary=_l("Accept a request or an open offer"),
           description=_l("A direct request becomes confirmed. An open request goes to the first who accepts; "
                          "the others get 409."), path={"id": BOOKING_ID}, result="Booking", errors=(409,))
def accept(id: int):
    return _done(rules.accept(db.session, current(), id, clock.now(), _rules()))


@bp.post("/bookings/<int:id>/decline")
@token("interpreter")
@operation(id="declineBooking", tag="interpreters", summary=_l("Decline a request or an open offer"),
           description=_l("A declined direct request frees the time; a declined offer is no longer shown to you."),
           path={"id": BOOKING_ID}, result="Booking", errors=(409,))
def decline(id: int):
    return _done(rules.decline(db.session, current(), id, clock.now()))


@bp.post("/bookings/<int:id>/withdraw")
@token("interpreter")
@operation(id="withdrawFromBooking", tag="interpreters", summary=_l("Withdraw from a confirmed assignment"),
           description=_l("The booking becomes open again and is offered to others; the booker is told."),
           path={"id": BOOKING_ID}, result="Booking", errors=(409,))
def withdraw(id: int):
    return _done(rules.withdraw(db.session, current(), id, clock.now(), _rules()))


@bp.post("/bookings/<int:id>/time-report")
@token("interpreter")
@operation(id="reportTime", tag="interpreters", summary=_l("Report the time an assignment took"),
           description=_l("After the assignment has ended; the booker then approves it."), path={"id": BOOKING_ID},
           body=bodies.TIME_REPORT, result="Booking", errors=(409,))
def report_time(id: int):
    _find(id)  # someone else's booking is 404 whatever the body says
    data = read_body(bodies.TIME_REPORT)
    return _done(rules.report_time(db.session, current(), id, data["actual_start"],
                                   data["actual_end"], data["travel_minutes"], clock.now()))
