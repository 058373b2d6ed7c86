"""Sanctions (tolkeloven §§ 19-21, DESIGN.md "Sanctions"): what holds on a day, what counts, what ends.

A written warning counts for five years: three that count allow an exclusion. That is a rule about a
date, not a stored flag, so nothing has to change when a warning grows old; `warnings_counting` asks.
Suspensions and exclusions hold from `starts_on` through `ends_on` (Norwegian dates; no `ends_on`: for
good) unless lifted. When the last one holding ends, the interpreter is active again.
"""

from datetime import date, datetime

import sqlalchemy as sa

from ..models import Interpreter, Sanction
from ..models.sanction import RESTRICTING
from . import audit, booking, notifications

WARNING_YEARS = 5


def years_before(day: date, years: int) -> date:
    """The same calendar day `years` earlier; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def counting_warning_condition(on: date):
    """SQL: a written warning that still counts on `on`: not lifted, decided on or before that day and
    less than five years before it (a warning of 1 March 2022 counts through 28 February 2027; one of
    29 February 2024 through 28 February 2029)."""
    return sa.and_(Sanction.kind == "warning", Sanction.lifted_at.is_(None),
                   Sanction.decided_on > years_before(on, WARNING_YEARS), Sanction.decided_on <= on)


def warnings_counting(session, interpreter_id: int, on: date) -> int:
    """How many of the interpreter's written warnings count on `on` (three allow an exclusion)."""
    return session.scalar(sa.select(sa.func.count(Sanction.id)).where(
        Sanction.interpreter_id == interpreter_id, counting_warning_condition(on)))


def holding_condition(on: date):
    """SQL: a suspension or exclusion that holds on `on`."""
    return sa.and_(
        Sanction.kind.in_(tuple(RESTRICTING)), Sanction.lifted_at.is_(None),
        sa.or_(Sanction.starts_on.is_(None), Sanction.starts_on <= on),
        sa.or_(Sanction.ends_on.is_(None), Sanction.ends_on >= on))


def status_while(kinds) -> str | None:
    """The interpreter status the holding sanctions give: the strongest wins; None when none holds."""
    for kind, status in RESTRICTING.items():  # exclusion first
        if kind in kinds:
            return status
    return None


def set_status(interpreter: Interpreter, kinds, now: datetime) -> str:
    """Give the interpreter the status the holding sanctions (`kinds`) call for. The first to hold sets their own
    status (active, paused or inactive) aside; when none holds any more, that status comes back, so one who had
    left the register is not listed again by a suspension ending. Active where none was set aside (rows from
    before it was kept). Returns the status."""
    restricted = status_while(kinds)
    if restricted is not None:
        if interpreter.status not in RESTRICTING.values():
            interpreter.status_after_sanction = interpreter.status
        status = restricted
    elif interpreter.status in RESTRICTING.values():
        status, interpreter.status_after_sanction = interpreter.status_after_sanction or "active", None
    else:
        status = interpreter.status
    if status != interpreter.status:
        interpreter.status, interpreter.updated_at = status, now
    return status


def lift_ended(session, now: datetime, today: date) -> dict[str, int]:
    """Lift suspensions and time-limited exclusions whose last day is before `today`, and give their interpreters
    back the status they had before (set_status) when no other sanction holds. Running it again lifts nothing
    more. "reactivated" counts those who are active again."""
    ended = session.execute(
        sa.update(Sanction)
        .where(Sanction.kind.in_(tuple(RESTRICTING)), Sanction.lifted_at.is_(None), Sanction.ends_on < today)
        .values(lifted_at=now)
        .returning(Sanction.id, Sanction.interpreter_id, Sanction.kind, Sanction.ends_on)
        .execution_options(synchronize_session=False)).all()
    for row in ended:
        audit.record(session, "sanction.lifted", actor_label="system", object_type="sanction", object_id=row.id,
                     after={"interpreter_id": row.interpreter_id, "kind": row.kind,
                            "ends_on": row.ends_on.isoformat(), "lifted_at": now.isoformat(), "why": "ended"})
    reactivated = _restore_status(session, sorted({row.interpreter_id for row in ended}), now, today)
    return {"lifted": len(ended), "reactivated": reactivated}


def _restore_status(session, interpreter_ids: list[int], now: datetime, today: date) -> int:
    reactivated = []
    for interpreter in session.scalars(sa.select(Interpreter).where(
            Interpreter.id.in_(interpreter_ids), Interpreter.status.in_(tuple(RESTRICTING.values())))
            .order_by(Interpreter.id)):
        kinds = set(session.scalars(sa.select(Sanction.kind).where(
            Sanction.interpreter_id == interpreter.id, holding_condition(today))))
        before = interpreter.status
        status = set_status(interpreter, kinds, now)
        if status == before:
            continue
        audit.record(session, "interpreter.status_changed", actor_label="system", object_type="interpreter",
                     object_id=interpreter.id, before={"status": before},
                     after={"status": status, "why": "sanction ended"})
        if status not in RESTRICTING.values():
            _tell(session, interpreter, today)
        if status == "active":
            reactivated.append(interpreter.id)
    session.flush()
    booking.clear_requalified(session, reactivated, now, "sanction_ended")
    return len(reactivated)


def _tell(session, interpreter: Interpreter, today: date) -> None:
    contact = notifications.interpreter_contact(session, interpreter.id)
    if contact:
        notifications.enqueue(session, "sanction_ended", contact.email,
                              event_key=f"sanction_ended:{interpreter.id}:{today}", locale=contact.locale,
                              user_id=contact.user_id, name=contact.name, status=interpreter.status)
