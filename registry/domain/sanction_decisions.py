"""Recording sanctions (tolkeloven §§ 19-21) from the admin console, and what the console shows about them.

A registry administrator records a report of a breach, a written warning with reasons, a suspension while a
case runs, or an exclusion for a limited period or for good; each with its decision date, reasons, who decided
and, where limited, its last day. A suspension or exclusion holds from the day it starts, which is today or
earlier (the scheduled job lifts them, it never starts them): the interpreter's status becomes `suspended` or
`excluded` at once (the stronger wins), so they leave the public register and booking search in the same
transaction, and their future bookings are flagged to the bookers. What holds and what counts is
registry.domain.sanctions' rule (five years for a warning); this module only records and reads.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext

from ..database import count_rows, keyset_page
from ..models import Interpreter, Sanction, User
from ..models.sanction import RESTRICTING, SANCTION_KINDS
from . import audit, booking, notifications, register, sanctions
from .clock import oslo_date
from .errors import Conflict, InvalidInput, NotFound
from .profile import check_contact_email, gather, parse_date

REASON_MAX = 4000
# Three written warnings that still count allow an exclusion (tolkeloven § 20).
WARNINGS_ALLOWING_EXCLUSION = 3
# Decisions the interpreter is sent; a report of a breach is looked into first.
TOLD = ("warning", "suspension", "exclusion")


def _check_kind(value) -> str:
    if value not in SANCTION_KINDS:
        raise InvalidInput(_l("Choose what is recorded: a report, a warning, a suspension or an exclusion."), "kind")
    return value


def _required_text(value, field: str, missing) -> str:
    """A sanction's reasons, or a report's account of what happened: some text, at most REASON_MAX characters."""
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(missing, field)
    if len(text) > REASON_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=REASON_MAX, count=len(text)),
                           field)
    return text


def _check_reason(value) -> str:
    return _required_text(value, "reason", _l("Give the reasons for the decision."))


def _check_decided_on(value, today: date) -> date:
    decided = parse_date(value, "decided_on") or today
    if decided > today:
        raise InvalidInput(_l("The decision date cannot be in the future."), "decided_on")
    return decided


def _check_period(kind: str, decided: date, starts_on, ends_on, today: date) -> tuple[date | None, date | None]:
    checked = gather(start=lambda: parse_date(starts_on, "starts_on"), end=lambda: parse_date(ends_on, "ends_on"))
    start, end = checked["start"], checked["end"]
    if kind not in RESTRICTING:
        if end is not None:
            raise InvalidInput(_l("Only a suspension or an exclusion has an end date."), "ends_on")
        return (decided if kind == "warning" else None), None
    start = start or decided
    if start > today:
        raise InvalidInput(_l("A suspension or exclusion takes effect today or on an earlier date."), "starts_on")
    if start < decided:
        raise InvalidInput(_l("It cannot take effect before it was decided."), "starts_on")
    if end is not None and end < start:
        raise InvalidInput(_l("The last day cannot be before the first."), "ends_on")
    if end is not None and end < today:
        raise InvalidInput(_l("That period has already ended. Enter today or a later last day."), "ends_on")
    return start, end


def _check_grounds(session, interpreter: Interpreter, kind: str, serious_breach: bool, decided: date) -> None:
    """An exclusion needs three written warnings that count on the day it is decided, or a serious breach
    (tolkeloven § 20); the serious breach is a ground for an exclusion only."""
    if kind != "exclusion":
        if serious_breach:
            raise InvalidInput(_l("Only an exclusion is decided on the ground of a serious breach."), "serious_breach")
        return
    if serious_breach:
        return
    count = sanctions.warnings_counting(session, interpreter.id, decided)
    if not may_be_excluded(count):
        raise InvalidInput(lazy_ngettext(
            "An exclusion needs three written warnings within five years, or one serious breach. %(name)s has "
            "%(num)d written warning that counts. If the breach is serious, say so.",
            "An exclusion needs three written warnings within five years, or one serious breach. %(name)s has "
            "%(num)d written warnings that count. If the breach is serious, say so.",
            count, name=interpreter.name), "serious_breach")


def decide(session, actor: User, interpreter: Interpreter, *, kind, reason, decided_on=None, starts_on=None,
           ends_on=None, serious_breach: bool = False, now: datetime, ip: str | None = None) -> Sanction:
    """Record a sanction; a suspension or exclusion takes the interpreter out of the register at once."""
    today = oslo_date(now)
    checked = gather(kind=lambda: _check_kind(kind), reason=lambda: _check_reason(reason),
                     decided=lambda: _check_decided_on(decided_on, today))
    kind, decided = checked["kind"], checked["decided"]
    start, end = _check_period(kind, decided, starts_on, ends_on, today)
    serious_breach = bool(serious_breach)
    _check_grounds(session, interpreter, kind, serious_breach, decided)
    sanction = Sanction(interpreter_id=interpreter.id, kind=kind, reason=checked["reason"], decided_on=decided,
                        starts_on=start, ends_on=end, serious_breach=serious_breach, decided_by_id=actor.id,
                        created_at=now)
    session.add(sanction)
    session.flush()
    status_before = interpreter.status
    if kind in RESTRICTING:
        holding = set(session.scalars(sa.select(Sanction.kind).where(
            Sanction.interpreter_id == interpreter.id, sanctions.holding_condition(today))))
        sanctions.set_status(interpreter, holding, now)
        session.flush()
    audit.record(session, "sanction.recorded", actor=actor, object_type="interpreter", object_id=interpreter.id,
                 ip=ip, before={"status": status_before},
                 after={"sanction_id": sanction.id, "kind": kind, "reason": sanction.reason, "decided_on": decided,
                        "starts_on": start, "ends_on": end, "serious_breach": serious_breach,
                        "status": interpreter.status})
    if interpreter.status != status_before:
        booking.flag_unqualified(session, [interpreter.id], now, reason=f"sanction:{kind}")
    if kind in TOLD:
        _tell(session, interpreter, sanction)
    return sanction


REPORTER_NAME_MAX = 200


def _check_reported_number(session, value) -> Interpreter:
    number = register.as_register_number(str(value or "").strip())
    if number is None:
        raise InvalidInput(register.NOT_A_NUMBER, "register_number")
    interpreter = register.by_number(session, number)
    if interpreter is None:
        raise InvalidInput(_l("No interpreter has the register number %(number)s. It is on the interpreter's card.",
                              number=number), "register_number")
    return interpreter


def _check_reporter_name(value) -> str | None:
    name = " ".join(str(value or "").split())
    if len(name) > REPORTER_NAME_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=REPORTER_NAME_MAX,
                              count=len(name)), "reporter_name")
    return name or None


def receive_report(session, *, register_number, what_happened, reporter_name=None, reporter_email=None,
                   now: datetime, ip: str | None = None) -> Sanction:
    """Anyone may report a breach of good interpreting practice (tolkeloven § 19): the report is recorded as one,
    decided by no one, and the registry administrators are told it came. The interpreter is not told: a report is
    looked into first. Who reported, if they say, is written under the report, so an administrator can ask them
    more."""
    checked = gather(interpreter=lambda: _check_reported_number(session, register_number),
                     text=lambda: _required_text(what_happened, "what_happened", _l("Say what happened.")),
                     name=lambda: _check_reporter_name(reporter_name),
                     email=lambda: check_contact_email(reporter_email, "reporter_email"))
    signed = ", ".join(part for part in (checked["name"], checked["email"]) if part)
    reason = checked["text"] + (f"\n\n— {signed}" if signed else "")
    interpreter = checked["interpreter"]
    sanction = Sanction(interpreter_id=interpreter.id, kind="report", reason=reason, decided_on=oslo_date(now),
                        created_at=now)
    session.add(sanction)
    session.flush()
    audit.record(session, "sanction.reported", actor_label="public", object_type="interpreter",
                 object_id=interpreter.id, ip=ip, after={"sanction_id": sanction.id, "kind": "report"})
    _tell_registry_admins(session, interpreter, sanction)
    return sanction


def _tell_registry_admins(session, interpreter: Interpreter, sanction: Sanction) -> None:
    """Each active registry administrator is told a report came in, in their language, so none waits unseen in
    the console. The text stays in the console: mail is not where it belongs."""
    admins = session.execute(sa.select(User.id, User.email, User.name, User.locale).where(
        User.role == "registry_admin", User.active.is_(True)).order_by(User.id)).all()
    for admin in admins:
        notifications.enqueue(session, "breach_reported", admin.email, event_key=f"breach_reported:{sanction.id}:"
                              f"{admin.id}", locale=admin.locale, user_id=admin.id, name=admin.name,
                              interpreter=interpreter.name, register_number=interpreter.register_number)


def set_last_day(session, actor: User, interpreter: Interpreter, sanction_id: int, ends_on, now: datetime,
                 ip: str | None = None) -> Sanction:
    """Set or move the last day of a suspension or exclusion in force (a case has ended, say).

    Nothing is lifted here: the end-sanctions job lifts it the day after its last day, and makes the interpreter
    active again if nothing else holds (run the job by hand to lift it at once)."""
    sanction = session.get(Sanction, sanction_id)
    if sanction is None or sanction.interpreter_id != interpreter.id:
        raise NotFound(_l("There is no such sanction."))
    if sanction.kind not in RESTRICTING or sanction.lifted_at is not None:
        raise Conflict(_l("Only a suspension or exclusion that has not been lifted has a last day to set."))
    end = parse_date(ends_on, "ends_on")
    if end is None:
        raise InvalidInput(_l("Enter the last day it holds."), "ends_on")
    if sanction.starts_on is not None and end < sanction.starts_on:
        raise InvalidInput(_l("The last day cannot be before the first (%(date)s).",
                              date=sanction.starts_on.isoformat()), "ends_on")
    if end < oslo_date(now) - timedelta(days=1):
        raise InvalidInput(_l("Enter yesterday or a later day."), "ends_on")
    before = sanction.ends_on
    sanction.ends_on = end
    session.flush()
    audit.record(session, "sanction.last_day_set", actor=actor, object_type="interpreter", object_id=interpreter.id,
                 ip=ip, before={"sanction_id": sanction.id, "ends_on": before},
                 after={"sanction_id": sanction.id, "kind": sanction.kind, "ends_on": end})
    return sanction


def _tell(session, interpreter: Interpreter, sanction: Sanction) -> None:
    contact = notifications.interpreter_contact(session, interpreter.id)
    if contact:
        notifications.enqueue(
            session, "sanction_recorded", contact.email, event_key=f"sanction_recorded:{sanction.id}",
            locale=contact.locale, user_id=contact.user_id, name=contact.name,
            decision=sanction.kind, reason=sanction.reason, decided_on=sanction.decided_on.isoformat(),
            starts_on=sanction.starts_on.isoformat() if sanction.starts_on else None,
            ends_on=sanction.ends_on.isoformat() if sanction.ends_on else None)


# Reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    sanction: Sanction
    # holding, ended, lifted (suspensions and exclusions); counting, old (warnings); report
    state: str
    decided_by: str | None


def state_of(sanction: Sanction, today: date, counting: bool) -> str:
    """`counting`: whether the warning still counts (registry.domain.sanctions decides that, in SQL)."""
    if sanction.kind == "report":
        return "report"
    if sanction.kind == "warning":
        return "counting" if counting else "old"
    if sanction.lifted_at is not None:
        return "lifted"
    if sanction.ends_on is not None and sanction.ends_on < today:
        return "ended"
    return "holding"


# What a list of decisions loads with each: the interpreter it is about, and who decided (their address).
LOADED = (so.joinedload(Sanction.interpreter), so.joinedload(Sanction.decided_by))


def _decided(session, found: list[Sanction], today: date) -> list[Decision]:
    """The sanctions as decisions, with each warning's state (whether it still counts) asked in one query."""
    warning_ids = [sanction.id for sanction in found if sanction.kind == "warning"]
    counting = set(session.scalars(sa.select(Sanction.id).where(
        Sanction.id.in_(warning_ids), sanctions.counting_warning_condition(today)))) if warning_ids else set()
    return [Decision(s, state_of(s, today, s.id in counting), s.decided_by.email if s.decided_by else None)
            for s in found]


def history(session, interpreter_id: int, today: date) -> list[Decision]:
    """Every sanction of the interpreter, newest decision first."""
    return _decided(session, session.scalars(
        sa.select(Sanction).where(Sanction.interpreter_id == interpreter_id).options(*LOADED)
        .order_by(Sanction.decided_on.desc(), Sanction.id.desc())).unique().all(), today)


def warnings_counting(session, interpreter_id: int, today: date) -> int:
    return sanctions.warnings_counting(session, interpreter_id, today)


def may_be_excluded(count: int) -> bool:
    return count >= WARNINGS_ALLOWING_EXCLUSION


@dataclass(frozen=True)
class Overview:
    holding: list[Decision]  # a page of them, by first day
    holding_total: int
    next_key: tuple | None  # the next page's (starts_on, id); None on the last
    # (interpreter, number of warnings that count) for those with at least three
    warned: list[tuple[Interpreter, int]]
    recent: list[Decision]


def overview(session, today: date, after: tuple | None = None, limit: int = 50, recent: int = 50) -> Overview:
    """For the sanctions page: what holds now (a page, keyset-paged on (starts_on, id), and how many), who has three
    warnings within five years, the latest decisions. Exclusions for good hold for ever, so those in force only
    grow: the bench data's 717 had made a page of 217 KB, built in 111 ms."""
    holding = sa.select(Sanction).where(sanctions.holding_condition(today))
    page, next_key = keyset_page(session, holding.options(*LOADED), (Sanction.starts_on, Sanction.id), after, limit)
    counted = (sa.select(Sanction.interpreter_id, sa.func.count(Sanction.id).label("n"))
               .where(sanctions.counting_warning_condition(today)).group_by(Sanction.interpreter_id)
               .having(sa.func.count(Sanction.id) >= WARNINGS_ALLOWING_EXCLUSION).subquery())
    warned = session.execute(
        sa.select(Interpreter, counted.c.n).join(counted, counted.c.interpreter_id == Interpreter.id)
        .order_by(Interpreter.name_key, Interpreter.id)).all()
    latest = session.scalars(sa.select(Sanction).options(*LOADED)
                             .order_by(Sanction.decided_on.desc(), Sanction.id.desc()).limit(recent)).unique().all()
    return Overview(_decided(session, page, today), count_rows(session, holding), next_key,
                    [tuple(row) for row in warned], _decided(session, latest, today))
