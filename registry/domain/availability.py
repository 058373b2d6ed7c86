"""Who is free and qualified for a slot, ranked fairly (DESIGN.md, "Agency search for a slot").

One query answers both "who can take this?" and "is this interpreter free?": the second is the first
narrowed to one interpreter, so every check in the service applies the same rules.
"""

import functools
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy.sql import visitors

from ..database import rows_bound, select_rows
from ..models import Absence, Booking, Credential, Interpreter, Qualification, WorkingHours
from ..models.booking import HOLDING
from ..models.interpreter import MODALITIES
from .qualification import (
    CATEGORY_RANK,
    at_least,
    derive_categories,
    police_certified,
    renewal_of,
    verified_credentials,
)
from .times import local

# The rank stands for the category (qualification.CATEGORY_RANK), so the search reads the language's holders from
# ix_qualifications_language_rank alone, without the table.
CATEGORY_OF_RANK = {rank: category for category, rank in CATEGORY_RANK.items()}


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
    # The assignment's sector needs a police certificate valid on its day (qualification.needs_police_certificate).
    police_certificate: bool = False


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


def _param(name: str, column) -> sa.BindParameter:
    return sa.bindparam(name, type_=column.type)


def _free(who, *, exclude_booking: bool, overnight: bool):
    """Works then, is not absent and holds no overlapping booking: the checks that look at other tables."""
    works = sa.select(WorkingHours.id).where(
        WorkingHours.interpreter_id == who,
        WorkingHours.weekday == _param("weekday", WorkingHours.weekday),
        WorkingHours.start_time <= _param("start_time", WorkingHours.start_time),
        WorkingHours.end_time >= _param("end_time", WorkingHours.end_time),
    ).exists()
    if overnight:
        works = sa.false()  # no working-hours interval runs past midnight
    absent = sa.select(Absence.id).where(
        Absence.interpreter_id == who, Absence.starts_at < _param("ends_at", Absence.ends_at),
        Absence.ends_at > _param("starts_at", Absence.starts_at),
    ).exists()
    # The holding statuses are written into the SQL (not bound), so SQLite can use the partial index
    # ix_bookings_holding_interpreter_period, whose WHERE it must match literally.
    holding = sa.bindparam("holding_statuses", list(HOLDING), expanding=True, literal_execute=True)
    booked = sa.select(Booking.id).where(
        Booking.interpreter_id == who, Booking.status.in_(holding),
        Booking.starts_at < _param("ends_at", Booking.ends_at),
        Booking.ends_at > _param("starts_at", Booking.starts_at),
    )
    if exclude_booking:
        booked = booked.where(Booking.id != _param("exclude_booking_id", Booking.id))
    return sa.and_(works, ~absent, ~booked.exists())


def _may_lapse(who):
    """Has a verified credential that ends before the slot's day, which may lower the category by then: only
    those few are looked at closely (_expiring_before). Only credentials that count for the slot's language are
    asked about: its own and the general ones (tao, police certificate), which have no language; one for another
    language cannot change this one's category. Nor is one renewed in time (qualification.renewal_of): the types
    held that day stay the same. (On the bench data, between midnight and the expiry job, 15 of a page's 21
    candidates held such a renewed credential, and each search read and derived their credentials again.)
    A scalar subquery, not EXISTS, so PostgreSQL asks it for the rows returned only instead of hashing every
    such credential in the register; COALESCE keeps both
    databases on the interpreter's own credentials (ix_credentials_interpreter_state) rather than walking
    ix_credentials_state_valid_until. (database.no_index, SQLite's unary +, measured slower here: p95 21.5 ms
    against 8.8 for Arabic on site in a county.)"""
    ending = so.aliased(Credential)
    day = _param("day", Credential.valid_until)
    return sa.select(sa.literal(1)).where(
        ending.interpreter_id == who, ending.state == "verified",
        sa.func.coalesce(ending.valid_until, date.max) < day,
        sa.or_(ending.language_code == _param("language", Credential.language_code), ending.language_code.is_(None)),
        ~renewal_of(ending, day),
    ).limit(1).scalar_subquery().is_not(None)


@functools.cache
def _statement(modality: str, *, one: bool, exclude_booking: bool, gender: bool, county: bool, overnight: bool,
               fenced: bool, placed: bool, certified: bool):
    """The search's SELECT for one shape of question, built once: every value is a bound parameter (see
    `_parameters`), so a search costs its execution, not the building of a statement of this size.

    The ranking needs only the candidates' own rows, so the database can order them first and check them against
    working hours, absences and millions of bookings in that order, stopping when the page is full, instead of
    checking every holder of a popular language and then sorting.

    Without a place to be near (`placed` false: video and phone, or a county and no municipality, whose holders
    are all in it) nearness is the same for every holder, and the rest of the ranking is the qualification's own
    columns (booked, last_booked_at: the interpreter's, copied by the database), in that order in its index. Both
    databases then read the holders in ranking order, flat, and stop when the page is full, sorting nothing:
    Arabic, Polish and Somali in 0.65-0.86 ms a query against 1.3-3.4 ms on the PostgreSQL bench data; the API's
    searches, in process, 4.4 against 6.6 ms on SQLite and 5.9 against 6.5 ms on PostgreSQL.

    With a place, nearness comes from the interpreter's municipality, and the holders of the category are sorted.
    Each database needs its own shape for that (measured on the national-scale data, bench/):
    - SQLite (flat): ordered by rank first, it sorts one rank at a time ("temp b-tree for right part of ORDER
      BY") and stops when the page is full. The fenced shape makes it sort the checked rows again.
    - PostgreSQL (`fenced`): the candidates in a subquery with OFFSET 0, which it may not merge into the outer
      query; the outer ORDER BY is the inner one, so it does not sort again and stops at the LIMIT. Flat, it
      checks every holder of the rank first (a hash join and a sort).

    `certified`: the slot's sector needs a police certificate (Slot.police_certificate), so a candidate must hold one
    valid on the slot's day, asked of their own credentials (ix_credentials_interpreter_state) as each is read."""
    nearness = sa.case(
        (Interpreter.municipality_number == _param("near_municipality", Interpreter.municipality_number), 0),
        (Interpreter.county_number == _param("near_county", Interpreter.county_number), 1),
        else_=2,
    )
    never_booked_first = sa.case((Interpreter.last_booked_at.is_(None), 0), else_=1)
    stmt = (
        sa.select(Interpreter.id, Interpreter.register_number, Interpreter.name, Interpreter.county_number,
                  Interpreter.municipality_number, Qualification.rank,
                  nearness.label("nearness"), never_booked_first.label("never_booked_first"),
                  Interpreter.last_booked_at)
        .join(Qualification, Qualification.interpreter_id == Interpreter.id)
        .where(
            Qualification.language_code == _param("language", Qualification.language_code),
            Qualification.rank.between(_param("min_rank", Qualification.rank), _param("max_rank", Qualification.rank)),
            Interpreter.status == "active",
            getattr(Interpreter, f"offers_{modality}").is_(True),
        )
    )
    if one:
        stmt = stmt.where(Interpreter.id == _param("interpreter_id", Interpreter.id))
    if gender:
        stmt = stmt.where(Interpreter.gender == _param("gender", Interpreter.gender))
    if certified:
        stmt = stmt.where(police_certified(Interpreter.id, _param("day", Credential.valid_until)))
    if county:
        # The qualification's copy of the county picks the county's holders from its index (migration 0007);
        # the interpreter's own county is asked too, which costs nothing once the row is read.
        stmt = stmt.where(Qualification.county_number == _param("county", Qualification.county_number),
                          Interpreter.county_number == _param("county", Interpreter.county_number))
    order = (Qualification.rank, nearness, never_booked_first, Interpreter.last_booked_at, Interpreter.id)
    page = sa.bindparam("limit", type_=sa.Integer)
    checks = dict(exclude_booking=exclude_booking, overnight=overnight)
    if not placed:
        # The same order as `order` when nearness ties (never booked first, then least recently, then by id).
        order = (Qualification.rank, Qualification.booked, Qualification.last_booked_at, Qualification.interpreter_id)
        fenced = False
    if not fenced:
        return (stmt.add_columns(_may_lapse(Interpreter.id).label("may_lapse"))
                .where(_free(Interpreter.id, **checks)).order_by(*order).limit(page))
    c = stmt.order_by(*order).offset(0).subquery("candidates")
    return (sa.select(c.c.id, c.c.register_number, c.c.name, c.c.county_number, c.c.municipality_number,
                      c.c.rank, _may_lapse(c.c.id).label("may_lapse"))
            .where(_free(c.c.id, **checks))
            .order_by(c.c.rank, c.c.nearness, c.c.never_booked_first, c.c.last_booked_at, c.c.id).limit(page))


def _parameters(slot: Slot, limit: int, interpreter_id, exclude_booking_id) -> dict:
    start_local, end_local = local(slot.starts_at), local(slot.ends_at)
    values = dict(
        language=slot.language, min_rank=1, max_rank=CATEGORY_RANK[slot.min_category], weekday=start_local.weekday(),
        start_time=start_local.time().replace(tzinfo=None), end_time=end_local.time().replace(tzinfo=None),
        starts_at=slot.starts_at, ends_at=slot.ends_at, day=start_local.date(),
        near_municipality=slot.municipality or "", near_county=slot.county or (slot.municipality or "")[:2],
        limit=limit)
    if interpreter_id is not None:
        values["interpreter_id"] = interpreter_id
    if exclude_booking_id is not None:
        values["exclude_booking_id"] = exclude_booking_id
    if slot.gender:
        values["gender"] = slot.gender
    if slot.county:
        values["county"] = slot.county
    return values


def available_query(slot: Slot, *, limit: int = 50, interpreter_id: int | None = None,
                    exclude_booking_id: int | None = None, county_filter: bool = True, fenced: bool = False):
    """The SELECT of qualified, active, working, present and free interpreters, best first, its values, and
    whether find_available walks the categories one query each: the holders are sorted (a place to be near,
    `_statement`'s `placed`) and there may be more than one (no `interpreter_id`)."""
    if slot.modality not in MODALITIES:
        raise ValueError(f"unknown modality {slot.modality!r}")
    county = bool(slot.county and county_filter)
    one = interpreter_id is not None
    placed = one or bool(slot.municipality) or bool(slot.county and not county)
    stmt = _statement(slot.modality, one=one, exclude_booking=exclude_booking_id is not None,
                      gender=bool(slot.gender), county=county,
                      overnight=local(slot.ends_at).date() != local(slot.starts_at).date(), fenced=fenced,
                      placed=placed, certified=slot.police_certificate)
    return stmt, _parameters(slot, limit, interpreter_id, exclude_booking_id), placed and not one


def find_available(session, slot: Slot, limit: int = 50, **narrowing) -> list[Candidate]:
    """The best `limit` candidates.

    Without a place to be near, the qualifications' index holds the whole ranking, category first, so one query
    over every category asked for reads the holders in that order and stops when the page is full. Near a place
    the holders are sorted, and the ranking starts with the category, so it is walked one category at a time from
    the best: the page usually fills from the first one or two, and the database sorts a few hundred holders of a
    popular language instead of all of them (the same result as one query over all ranks; on PostgreSQL that one
    query is planned as a hash join and a sort of every holder). One interpreter holds one category: one query.
    The walk had made the bench's searches, none of them near a place, 1.9 queries each on average."""
    fenced = session.get_bind().dialect.name == "postgresql"
    stmt, values, walk = available_query(slot, limit=limit, fenced=fenced, **narrowing)
    rows: list = []
    if walk:
        for rank in range(1, values["max_rank"] + 1):
            values.update(min_rank=rank, max_rank=rank, limit=limit - len(rows))
            rows += select_rows(session, stmt, values).all()
            if len(rows) >= limit:
                break
    else:
        rows = select_rows(session, stmt, values).all()
    expiring = _expiring_before(session, [r.id for r in rows if r.may_lapse], slot)
    return [Candidate(r.id, r.register_number, r.name, r.county_number, r.municipality_number, CATEGORY_OF_RANK[r.rank],
                      r.id in expiring) for r in rows]


def availability_of(session, interpreter_id: int, slot: Slot,
                    exclude_booking_id: int | None = None) -> Candidate | None:
    """The interpreter as a candidate for the slot, or None if they may not or cannot take it."""
    found = find_available(session, slot, limit=1, interpreter_id=interpreter_id,
                           exclude_booking_id=exclude_booking_id, county_filter=False)
    return found[0] if found else None


def takeable(session, interpreter_id: int, slots: dict[int, Slot]) -> set[int]:
    """The keys of the slots the interpreter may and can take: those for which availability_of would find them, in
    one statement for all the slots, not one each. An interpreter of a popular language can hold an offer of each
    of hundreds of open requests, and their inbox asks about every one: with one statement each, open_offers took
    71 ms for 200 offers on PostgreSQL (31 on SQLite), 18 for 50 and 4.8 for 10; so, 11, 4 and 2.3 (10, 3.5, 1.6).

    Each slot is asked availability_of's own statement (available_query, for the one interpreter), its values read
    from the slot's row of a table of the slots instead of bound: the rules stay those of the search, written
    once. Slots whose statements differ in shape (the way of working, a gender asked for, overnight) are asked
    in one UNION ALL branch each, at most a dozen."""
    if not slots:
        return set()
    shapes: dict = defaultdict(list)
    for key, slot in slots.items():
        stmt, values, _walk = available_query(slot, interpreter_id=interpreter_id, county_filter=False)
        shapes[stmt].append((key, values))
    query, names = _asked_of_all(tuple(shapes), session.get_bind().dialect.name)
    params = {f"slots_{n}": [dict(key=key, **{name: values[name] for name in asked}) for key, values in rows]
              for n, (asked, rows) in enumerate(zip(names, shapes.values(), strict=True))}
    return set(select_rows(session, query, {"interpreter_id": interpreter_id, **params}).scalars())


@functools.lru_cache(maxsize=256)
def _asked_of_all(stmts: tuple, dialect: str) -> tuple:
    """One UNION ALL branch for each shape of statement (_asked_of_each), and the values each one's slots give.
    Kept for each combination of shapes, as SQLAlchemy works out a statement's cache key once for each object:
    built again for each call, it took longer to work out than to run (2.7 against 0.07 ms for ten slots, SQLite)."""
    branches = [_asked_of_each(stmt, n, dialect) for n, stmt in enumerate(stmts)]
    query = branches[0][0] if len(branches) == 1 else sa.union_all(*(branch for branch, _names in branches))
    return query, [names for _branch, names in branches]


@functools.cache
def _asked_of_each(stmt, n: int, dialect: str) -> tuple[sa.Select, tuple[str, ...]]:
    """The keys of the slots for which `stmt` (available_query's for one interpreter) finds the interpreter, and the
    names of the values each slot gives: the statement's FROM and WHERE, each value but the interpreter's read from
    a table of slots given as the parameter slots_`n` (database.rows_bound) joined in. Only whether it finds them
    is asked, so no ranking; one interpreter holds one category of a language, so one row at most for each slot.
    The interpreter stays one bound value, as in the single query. Built once for each shape and place in the
    UNION ALL, like `_statement`."""
    types: dict = {}
    for p in visitors.iterate(stmt.whereclause):
        if isinstance(p, sa.BindParameter) and p.required and p.key != "interpreter_id":
            types.setdefault(p.key, p.type)  # the values given (`_parameters`), not those written in
    table = rows_bound(f"slots_{n}", {"key": sa.Integer(), **types}, dialect)

    def from_table(element):
        if isinstance(element, sa.BindParameter) and element.key in types:
            return table.c[element.key]
        return None

    asked = stmt.with_only_columns(table.c.key).order_by(None).limit(None)
    return visitors.replacement_traverse(asked, {}, from_table), tuple(types)


def _expiring_before(session, interpreter_ids: list[int], slot: Slot) -> set[int]:
    """Interpreters whose category for the slot's language will have lapsed by the day it starts.

    Asked only about those with a verified credential ending before that day (the search's `may_lapse`), in
    one query for all of them, not one per interpreter.
    """
    if not interpreter_ids:
        return set()
    held = verified_credentials(session, interpreter_ids, language=slot.language)
    on = local(slot.starts_at).date()
    return {i for i in interpreter_ids if any(c.valid_until is not None for c in held[i])
            and not at_least(derive_categories(held[i], on).get(slot.language), slot.min_category)}


def categories_on(session, interpreter_id: int, on: date) -> dict[str, str]:
    """Categories from the credentials valid on a day, computed now (not the stored ones)."""
    return derive_categories(verified_credentials(session, [interpreter_id])[interpreter_id], on)


def qualifies_on(session, interpreter_id: int, language: str, minimum: str, on: date) -> bool:
    return at_least(categories_on(session, interpreter_id, on).get(language), minimum)
