"""What a registry administrator records directly: a new interpreter with working hours, a verified credential.

The JSON API's admin operations call these (the admin console may too); sanctions are recorded by
registry.domain.sanction_decisions. Each checks every field at once (InvalidFields), changes the register,
recomputes categories where credentials change, and writes the audit log, in the caller's transaction.
"""

from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..models import Credential, CredentialType, Interpreter, User, WorkingHours
from ..models.interpreter import MODALITIES
from . import audit, booking
from .applications import CredentialClaim, check_credential, check_gender
from .clock import oslo_date
from .errors import Conflict, InvalidInput, NotFound
from .interpreters import add_credential, create_interpreter
from .profile import (
    InvalidFields,
    Period,
    check_availability,
    check_contact_email,
    check_hours,
    check_modalities,
    check_phone,
    check_place,
    errors_of,
    gather,
)
from .profile import years_after as _years_after

NAME_MAX = 200
# Without stated hours a new interpreter works Monday to Friday, 08:00 to 16:00 (Europe/Oslo).
DEFAULT_HOURS = tuple(Period(day, time(8), time(16)) for day in range(5))


@dataclass(frozen=True)
class NewInterpreter:
    """An interpreter as an administrator registers them; raw values, checked by `register_interpreter`."""

    name: object
    gender: object
    county: object
    email: object
    modalities: object
    availability: object
    publish_contact: bool = False
    municipality: object = None
    phone: object = None
    # None: the default hours; an empty list: no working hours yet.
    working_hours: list[Period] | None = None


def _check_name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise InvalidInput(_l("Enter the interpreter's full name."), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=NAME_MAX, count=len(name)),
                           "name")
    return name


def _check_hours(periods: list[Period]) -> list[tuple[int, time, time]]:
    """check_hours, with errors named `working_hours[i].start` after the list they came from."""
    try:
        return check_hours(periods)
    except InvalidInput as error:
        renamed = []
        for fault in errors_of(error):
            field = fault.field or "working_hours"
            for suffix in ("_start", "_end"):
                if field.endswith(suffix):
                    field = field[: -len(suffix)] + "." + suffix[1:]
            renamed.append(InvalidInput(fault.message, field))
        raise InvalidFields(renamed) from None


def register_interpreter(session, actor: User, new: NewInterpreter, now: datetime,
                         ip: str | None = None) -> Interpreter:
    """A new, active interpreter with a register number and weekly hours; credentials come next."""
    periods = DEFAULT_HOURS if new.working_hours is None else [
        Period(p.weekday, p.start, p.end, key=p.key or f"working_hours[{i}]") for i, p in enumerate(new.working_hours)]
    checked = gather(
        name=lambda: _check_name(new.name),
        gender=lambda: check_gender(new.gender),
        place=lambda: check_place(new.county, new.municipality),
        email=lambda: check_contact_email(new.email, required=True),
        phone=lambda: check_phone(new.phone),
        modalities=lambda: check_modalities(new.modalities),
        availability=lambda: check_availability(new.availability),
        hours=lambda: _check_hours(list(periods)),
    )
    county, municipality = checked["place"]
    interpreter = create_interpreter(
        session, name=checked["name"], gender=checked["gender"], county_number=county,
        municipality_number=municipality, email=checked["email"], phone=checked["phone"],
        publish_contact=bool(new.publish_contact), availability=checked["availability"], status="active",
        created_at=now, updated_at=now, **{f"offers_{m}": m in checked["modalities"] for m in MODALITIES})
    session.add_all(WorkingHours(interpreter_id=interpreter.id, weekday=w, start_time=s, end_time=e)
                    for w, s, e in checked["hours"])
    session.flush()
    audit.record(session, "interpreter.registered", actor=actor, object_type="interpreter", object_id=interpreter.id,
                 ip=ip, after={"register_number": interpreter.register_number, "name": interpreter.name,
                               "county_number": county, "municipality_number": municipality,
                               "availability": interpreter.availability, "modalities": list(checked["modalities"]),
                               "hours": [{"weekday": w, "start": s.strftime("%H:%M"), "end": e.strftime("%H:%M")}
                                         for w, s, e in checked["hours"]]})
    return interpreter


def record(session, register_number: int) -> Interpreter:
    """Any interpreter by register number, whatever their status (the administrator's view)."""
    interpreter = session.scalar(
        sa.select(Interpreter).where(Interpreter.register_number == register_number)
        .options(so.selectinload(Interpreter.qualifications), so.selectinload(Interpreter.credentials)))
    if interpreter is None:
        raise NotFound(_l("No interpreter has register number %(number)s.", number=register_number))
    return interpreter


def working_hours(session, interpreter: Interpreter) -> list[WorkingHours]:
    return session.scalars(sa.select(WorkingHours).where(WorkingHours.interpreter_id == interpreter.id)
                           .order_by(WorkingHours.weekday, WorkingHours.start_time)).all()


def validity_years(session) -> dict[str, int | None]:
    """Each credential type's default validity in years (None: no default)."""
    return dict(session.execute(sa.select(CredentialType.code, CredentialType.default_validity_years)).all())


def default_valid_until(session, kind: str, issued_on: date, years: dict | None = None) -> date | None:
    """The end of a new credential's validity when none is given: the type's default, if it has one. `years`
    (validity_years) saves a query for each credential of a page that suggests dates for many."""
    if years is None:
        years = validity_years(session)
    default = years.get(kind)
    return _years_after(issued_on, default) if default else None


def add_verified_credential(session, actor: User, interpreter: Interpreter, *, type, language, issued_on,
                            valid_until, now: datetime, ip: str | None = None) -> Credential:
    """A credential the administrator has seen proof of: verified at once, categories recomputed at once."""
    today = oslo_date(now)
    checked = check_credential(session, CredentialClaim(type, language, issued_on, valid_until), today)
    until = checked.valid_until or default_valid_until(session, checked.type, checked.issued_on)
    if until is not None and until < today:
        raise InvalidInput(_l("That date has passed, so the credential would not count. Enter a later date."),
                           "valid_until")
    language_is = (Credential.language_code.is_(None) if checked.language is None
                   else Credential.language_code == checked.language)
    same = session.scalar(sa.select(Credential.id).where(
        Credential.interpreter_id == interpreter.id, Credential.type == checked.type, language_is,
        Credential.issued_on == checked.issued_on, Credential.state == "verified"))
    if same is not None:
        raise Conflict(_l("This credential is already recorded for the interpreter."), "type")
    before = {q.language_code: q.category for q in interpreter.qualifications}
    credential = add_credential(session, interpreter, checked.type, checked.language, checked.issued_on, today,
                                state="verified", valid_until=until, verified_by_id=actor.id, verified_at=now,
                                created_at=now, updated_at=now)
    session.refresh(interpreter, ["qualifications"])
    audit.record(session, "credential.recorded", actor=actor, object_type="credential", object_id=credential.id,
                 ip=ip, after={"interpreter_id": interpreter.id, "type": credential.type,
                               "language": credential.language_code, "issued_on": credential.issued_on,
                               "valid_until": credential.valid_until, "state": credential.state,
                               "categories_before": before,
                               "categories": {q.language_code: q.category for q in interpreter.qualifications}})
    booking.clear_requalified(session, [interpreter.id], now, "credential_recorded")
    return credential


def categories(interpreter: Interpreter) -> dict[str, str]:
    """The stored categories, best first (as derived by the qualification rules)."""
    return {q.language_code: q.category for q in sorted(interpreter.qualifications, key=lambda q: q.rank)}

