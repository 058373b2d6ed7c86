"""What the booker's pages ask of the booking rules: the slot searched for, and a booking's next steps.

The predicates below answer "would the domain allow this now?" so a page shows only the actions that
can succeed. Each mirrors the guard of the function named in its docstring (registry/domain/booking.py);
the function itself stays the judge: a page that shows a button the domain then refuses gets the
domain's 409, never a change.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..models import Booking, BookingOffer, User
from .availability import Slot
from .booking import Details, Rules, check_slot


def search_slot(session, *, language: str, min_category: str, modality: str, starts_at: datetime,
                ends_at: datetime, county: str | None, municipality: str | None, gender: str | None,
                now: datetime, rules: Rules, sector: str | None = None) -> Slot:
    """The slot a booker searches for, refused for the same reasons a booking of it would be.

    County and municipality narrow and rank only on-site work; for video and phone, place does not matter. A
    sector that needs a police certificate finds only interpreters holding one valid on the day; none given, none
    is asked for.
    """
    onsite = modality == "onsite"
    d = check_slot(session, Details(
        language=language, min_category=min_category, modality=modality, starts_at=starts_at, ends_at=ends_at,
        municipality=municipality if onsite else None, gender_preference=gender or None,
        county=(county or None) if onsite else None, sector=sector or ""), now, rules)
    return d.slot()


def can_cancel(booking: Booking, now: datetime) -> bool:
    """booking.cancel: requested, open or confirmed, and not yet over."""
    return booking.status in ("requested", "open", "confirmed") and booking.ends_at > now


def cancel_would_be_late(booking: Booking, now: datetime, rules: Rules) -> bool:
    """booking.cancel: late (and billable) when an interpreter is confirmed and the notice is short."""
    return (can_cancel(booking, now) and booking.status == "confirmed"
            and booking.starts_at - now < timedelta(hours=rules.late_cancel_hours))


def time_to_review(booking: Booking) -> bool:
    """booking.approve_time and booking.dispute_time: a reported time on a confirmed booking."""
    return booking.status == "confirmed" and booking.report_state == "reported"


def can_record_no_show(booking: Booking, now: datetime) -> bool:
    """booking.record_no_show: a confirmed booking that has started."""
    return booking.status == "confirmed" and booking.starts_at <= now


def awaiting_report(booking: Booking, now: datetime) -> bool:
    """A confirmed assignment that is over, with no time reported yet."""
    return booking.status == "confirmed" and booking.ends_at <= now and booking.report_state in (None, "awaiting")


def offered_count(session, booking_id: int) -> int:
    """How many interpreters an open request was offered to."""
    return session.scalar(sa.select(sa.func.count()).select_from(BookingOffer)
                          .where(BookingOffer.booking_id == booking_id)) or 0


def series_of(session, booking: Booking) -> list[Booking]:
    """Every booking of the series this one belongs to (only the same agency's), by start."""
    if not booking.series_id:
        return []
    return list(session.scalars(sa.select(Booking).where(
        Booking.series_id == booking.series_id, Booking.agency_id == booking.agency_id)
        .order_by(Booking.starts_at, Booking.id)))


@dataclass(frozen=True)
class Actor:
    name: str
    role: str | None  # None: the system


def actors(session, entries) -> dict[int, Actor]:
    """The people behind audit entries, by user id, as name and role (not their login email)."""
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    rows = session.execute(sa.select(User.id, User.name, User.role).where(User.id.in_(ids)))
    return {row.id: Actor(row.name, row.role) for row in rows}
