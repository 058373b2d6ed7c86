"""Who is free and qualified for a slot, ranked fairly (DESIGN.md, "Agency search for a slot").

One query answers both "who can take this?" and "is this interpreter free?": the second is the first
narrowed to one interpreter, so every check in the service applies the same rules.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ..models import Absence, Booking, Interpreter, Qualification, WorkingHours
from ..models.booking import HOLDING
from .qualification import CATEGORY_RANK, at_least, derive_categories, verified_credentials
from .times import local


@dataclass(frozen=True)
class Slot:
    language: str
    min_category: str
    modality: str
    starts_at: datetime
    ends_at: datetime
    county: str | None = None
    municipality: str | None = None
    gender: str | None = None


@dataclass(frozen=True)
class Candidate:
    interpreter_id: int
    register_number: int
    name: str
    county_number: str
    municipality_number: str | None
    category: str
    # The category rests on a credential that ends before the slot starts.
    credential_expires_before_start: bool = False


def _overlapping_booking(start, end, exclude_booking_id=None):
    # The holding statuses are written into the SQL (not bound), so SQLite can use the partial index
    # ix_bookings_holding_interpreter_period, whose WHERE it must match literally.
    holding = sa.bindparam("holding_statuses", list(HOLDING), expanding=True, literal_execute=True)
    stmt = sa.select(Booking.id).where(
        Booking.interpreter_id == Interpreter.id, Booking.status.in_(holding),
        Booking.starts_at < end, Booking.ends_at > start,
    )
    if exclude_booking_id is not None:
        stmt = stmt.where(Booking.id != exclude_booking_id)
    return stmt.exists()


def available_query(slot: Slot, *, interpreter_id: int | None = None, exclude_booking_id: int | None = None,
                    county_filter: bool = True):
    """The SELECT of qualified, active, working, present and free interpreters, best first."""
    start_local, end_local = local(slot.starts_at), local(slot.ends_at)
    works = sa.select(WorkingHours.id).where(
        WorkingHours.interpreter_id == Interpreter.id,
        WorkingHours.weekday == start_local.weekday(),
        WorkingHours.start_time <= start_local.time().replace(tzinfo=None),
        WorkingHours.end_time >= end_local.time().replace(tzinfo=None),
    ).exists()
    if end_local.date() != start_local.date():
        works = sa.false()  # no working-hours interval runs past midnight
    absent = sa.select(Absence.id).where(
        Absence.interpreter_id == Interpreter.id, Absence.starts_at < slot.ends_at, Absence.ends_at > slot.starts_at,
    ).exists()
    stmt = (
        sa.select(Interpreter.id, Interpreter.register_number, Interpreter.name, Interpreter.county_number,
                  Interpreter.municipality_number, Qualification.category)
        .join(Qualification, Qualification.interpreter_id == Interpreter.id)
        .where(
            Qualification.language_code == slot.language,
            Qualification.rank <= CATEGORY_RANK[slot.min_category],
            Interpreter.status == "active",
            getattr(Interpreter, f"offers_{slot.modality}").is_(True),
            works, ~absent, ~_overlapping_booking(slot.starts_at, slot.ends_at, exclude_booking_id),
        )
    )
    if interpreter_id is not None:
        stmt = stmt.where(Interpreter.id == interpreter_id)
    if slot.gender:
        stmt = stmt.where(Interpreter.gender == slot.gender)
    if slot.county and county_filter:
        stmt = stmt.where(Interpreter.county_number == slot.county)
    nearness = sa.case(
        (Interpreter.municipality_number == (slot.municipality or ""), 0),
        (Interpreter.county_number == (slot.county or (slot.municipality or "")[:2]), 1),
        else_=2,
    )
    never_booked_first = sa.case((Interpreter.last_booked_at.is_(None), 0), else_=1)
    return stmt.order_by(Qualification.rank, nearness, never_booked_first, Interpreter.last_booked_at,
                         Interpreter.id)


def find_available(session, slot: Slot, limit: int = 50, **narrowing) -> list[Candidate]:
    """The best `limit` candidates. The ranking starts with the category, so it is walked one rank at a time
    from the best: the page usually fills from the first rank or two, and the database sorts a few hundred
    holders of a popular language instead of all of them (the same result as one query over all ranks)."""
    one = narrowing.get("interpreter_id") is not None
    rows = []
    for rank in [None] if one else range(1, CATEGORY_RANK[slot.min_category] + 1):
        stmt = available_query(slot, **narrowing)
        if rank is not None:
            stmt = stmt.where(Qualification.rank == rank)
        rows += session.execute(stmt.limit(limit - len(rows))).all()
        if len(rows) >= limit:
            break
    expiring = _expiring_before(session, [r.id for r in rows], slot)
    return [Candidate(r.id, r.register_number, r.name, r.county_number, r.municipality_number, r.category,
                      r.id in expiring) for r in rows]


def availability_of(session, interpreter_id: int, slot: Slot,
                    exclude_booking_id: int | None = None) -> Candidate | None:
    """The interpreter as a candidate for the slot, or None if they may not or cannot take it."""
    found = find_available(session, slot, limit=1, interpreter_id=interpreter_id,
                           exclude_booking_id=exclude_booking_id, county_filter=False)
    return found[0] if found else None


def _expiring_before(session, interpreter_ids: list[int], slot: Slot) -> set[int]:
    """Interpreters whose category for the slot's language will have lapsed by the day it starts.

    One query for all of them (not one per interpreter), and no `valid_until IS NOT NULL` in the SQL: with
    it, SQLite scans every verified credential through ix_credentials_state_valid_until.
    """
    if not interpreter_ids:
        return set()
    held = verified_credentials(session, interpreter_ids)
    on = local(slot.starts_at).date()
    return {i for i in interpreter_ids if any(c.valid_until is not None for c in held[i])
            and not at_least(derive_categories(held[i], on).get(slot.language), slot.min_category)}


def categories_on(session, interpreter_id: int, on: date) -> dict[str, str]:
    """Categories from the credentials valid on a day, computed now (not the stored ones)."""
    return derive_categories(verified_credentials(session, [interpreter_id])[interpreter_id], on)


def qualifies_on(session, interpreter_id: int, language: str, minimum: str, on: date) -> bool:
    return at_least(categories_on(session, interpreter_id, on).get(language), minimum)


def qualified_today(session, interpreter_ids, language: str, minimum: str, today: date) -> dict[int, bool]:
    """For many interpreters at once: do they hold the category today?"""
    held = verified_credentials(session, interpreter_ids)
    return {i: at_least(derive_categories(held[i], today).get(language), minimum) for i in interpreter_ids}
