"""One interpreter as the registry administrators see and keep them: every fact, credential, booking, sanction
and change on one page, and the corrections only an administrator may make.

Corrections are audited with before and after values. A change to a credential's validity (or revoking it)
recomputes the categories at once and flags the interpreter's future bookings that no longer qualify, as the
nightly expiry job would; a status that takes them out of work does the same.
"""

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..database import count_rows, keyset_page
from ..models import Application, AuditEntry, Booking, Credential, Interpreter, Sanction, User
from ..models.interpreter import MODALITIES
from . import audit, booking, qualification
from .admin_records import record as find
from .applications import check_gender
from .clock import oslo_date
from .errors import Conflict, InvalidInput, NotFound
from .profile import (
    check_availability,
    check_contact_email,
    check_modalities,
    check_phone,
    check_place,
    gather,
    parse_date,
)
from .register import name_key, name_or_number

__all__ = ["find"]
NAME_MAX = 200
REASON_MAX = 1000
# What an administrator may set directly; suspended and excluded come and go with sanctions only.
SETTABLE_STATUSES = ("active", "paused", "inactive")
CORRECTED_FIELDS = ("name", "gender", "birth_date", "email", "phone", "publish_contact", "county_number",
                    "municipality_number", "availability", "offers_onsite", "offers_video", "offers_phone", "status")


# Finding ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Found:
    """A page of interpreters, by name."""

    interpreters: list[Interpreter]
    total: int  # how many match, on every page
    next_key: tuple | None  # where the next page starts; None on the last


def search(session, q: str | None = None, status: str | None = None, after: tuple | None = None,
           limit: int = 50) -> Found:
    """Interpreters of any status by name or register number, a page by name, keyset-paged on (name_key, id) as the
    public register is. The list had stopped at the first 100 ("narrow the search"), so a status with more (the
    bench data's 50,000 interpreters include 1,503 paused, 1,237 inactive and 490 suspended) could not be read to
    its end."""
    matching = sa.select(Interpreter)
    text = (q or "").strip()[:100]
    if text:
        matching = matching.where(name_or_number(text))
    if status:
        matching = matching.where(Interpreter.status == status)
    found, next_key = keyset_page(session, matching.options(
        so.selectinload(Interpreter.qualifications), so.joinedload(Interpreter.county)),
        (Interpreter.name_key, Interpreter.id), after, limit)
    return Found(found, count_rows(session, matching), next_key)


def credential_of(session, interpreter: Interpreter, credential_id: int) -> Credential:
    """One of this interpreter's credentials; NotFound for any other."""
    credential = session.get(Credential, credential_id)
    if credential is None or credential.interpreter_id != interpreter.id:
        raise NotFound(_l("There is no such credential."))
    return credential


# The record page ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LanguageRow:
    language: str
    category: str
    # The credentials valid today that give the category.
    behind: list[Credential]


def languages(interpreter: Interpreter, today: date) -> list[LanguageRow]:
    """Each language with its category, and the valid credentials the category rests on."""
    valid = [c for c in interpreter.credentials if qualification.is_valid_on(c, today)]
    general = [c for c in valid if c.type in qualification.GENERAL]
    rows = []
    for q in sorted(interpreter.qualifications, key=lambda q: (q.rank, q.language_code)):
        own = [c for c in valid if c.language_code == q.language_code]
        held = {c.type for c in own} | {c.type for c in general}
        required = next((types for category, types in qualification.RULES
                         if category == q.category and types <= held), frozenset())
        rows.append(LanguageRow(q.language_code, q.category,
                                [c for c in own + general if c.type in required]))
    return rows


def bookings(session, interpreter: Interpreter, now: datetime, limit: int = 50) -> tuple[list[Booking], list[Booking]]:
    """Coming bookings (soonest first) and past ones (latest first), at most `limit` of each."""
    base = sa.select(Booking).where(Booking.interpreter_id == interpreter.id).options(so.joinedload(Booking.agency))
    coming = session.scalars(base.where(Booking.ends_at > now).order_by(Booking.starts_at, Booking.id)
                             .limit(limit)).all()
    past = session.scalars(base.where(Booking.ends_at <= now).order_by(Booking.starts_at.desc(), Booking.id.desc())
                           .limit(limit)).all()
    return coming, past


def login_of(session, interpreter: Interpreter) -> User | None:
    return session.scalar(sa.select(User).where(User.interpreter_id == interpreter.id))


def application_of(session, interpreter: Interpreter) -> Application | None:
    return session.scalar(sa.select(Application).where(Application.interpreter_id == interpreter.id))


def history(session, interpreter: Interpreter, limit: int = 100) -> list[AuditEntry]:
    """Audit entries about the interpreter, their credentials, application, sanctions and login, newest first."""
    credential_ids = sa.select(sa.cast(Credential.id, sa.String)).where(Credential.interpreter_id == interpreter.id)
    sanction_ids = sa.select(sa.cast(Sanction.id, sa.String)).where(Sanction.interpreter_id == interpreter.id)
    application_ids = sa.select(sa.cast(Application.id, sa.String)).where(
        Application.interpreter_id == interpreter.id)
    user_ids = sa.select(sa.cast(User.id, sa.String)).where(User.interpreter_id == interpreter.id)
    about = sa.or_(
        sa.and_(AuditEntry.object_type == "interpreter", AuditEntry.object_id == str(interpreter.id)),
        sa.and_(AuditEntry.object_type == "credential", AuditEntry.object_id.in_(credential_ids)),
        sa.and_(AuditEntry.object_type == "sanction", AuditEntry.object_id.in_(sanction_ids)),
        sa.and_(AuditEntry.object_type == "application", AuditEntry.object_id.in_(application_ids)),
        sa.and_(AuditEntry.object_type == "user", AuditEntry.object_id.in_(user_ids)),
    )
    return session.scalars(sa.select(AuditEntry).where(about).order_by(AuditEntry.id.desc()).limit(limit)).all()


# Corrections --------------------------------------------------------------------------------------

def _check_name(value) -> str:
    name = " ".join(str(value or "").split())
    if not name:
        raise InvalidInput(_l("Enter the interpreter's full name."), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=NAME_MAX, count=len(name)), "name")
    return name


def _check_birth_date(value, today: date) -> date | None:
    born = parse_date(value, "birth_date")
    if born is not None and born > today:
        raise InvalidInput(_l("The date of birth cannot be in the future."), "birth_date")
    return born


def _check_status(interpreter: Interpreter, value) -> str:
    value = value or interpreter.status
    if value == interpreter.status:
        return value
    if interpreter.status not in SETTABLE_STATUSES:
        raise Conflict(_l("The interpreter is suspended or excluded. The status follows the sanction and changes "
                          "when it ends."), "status")
    if value not in SETTABLE_STATUSES:
        raise InvalidInput(_l("Choose active, paused or inactive. Suspensions and exclusions are recorded as "
                              "sanctions."), "status")
    return value


def correct(session, actor: User, interpreter: Interpreter, *, name, gender, birth_date, email, phone,
            publish_contact: bool, county, municipality, modalities, availability, status, now: datetime,
            ip: str | None = None) -> dict:
    """Correct an interpreter's details; the changed fields with their new values (empty: nothing changed).

    A status that takes an active interpreter out of work flags their future bookings to the bookers.
    """
    today = oslo_date(now)
    checked = gather(
        name=lambda: _check_name(name),
        gender=lambda: check_gender(gender),
        birth_date=lambda: _check_birth_date(birth_date, today),
        email=lambda: check_contact_email(email),
        phone=lambda: check_phone(phone),
        place=lambda: check_place(county, municipality),
        modalities=lambda: check_modalities(modalities),
        availability=lambda: check_availability(availability),
        status=lambda: _check_status(interpreter, status),
    )
    county_number, municipality_number = checked["place"]
    new = {"name": checked["name"], "gender": checked["gender"], "birth_date": checked["birth_date"],
           "email": checked["email"], "phone": checked["phone"], "publish_contact": bool(publish_contact),
           "county_number": county_number, "municipality_number": municipality_number,
           "availability": checked["availability"], "status": checked["status"],
           **{f"offers_{m}": m in checked["modalities"] for m in MODALITIES}}
    before = audit.snapshot(interpreter, CORRECTED_FIELDS)
    changed = {key: value for key, value in new.items() if before[key] != value}
    if not changed:
        return {}
    for key, value in changed.items():
        setattr(interpreter, key, value)
    if "name" in changed:
        interpreter.name_key = name_key(interpreter.name)
    interpreter.updated_at = now
    session.flush()
    audit.record(session, "interpreter.corrected", actor=actor, object_type="interpreter", object_id=interpreter.id,
                 ip=ip, before={k: before[k] for k in changed}, after=changed)
    if "status" in changed and before["status"] == "active":
        booking.flag_unqualified(session, [interpreter.id], now, reason=f"status:{changed['status']}")
    elif changed.get("status") == "active":
        booking.clear_requalified(session, [interpreter.id], now, reason="status:active")
    return changed


def _categories(session, interpreter: Interpreter) -> dict[str, str]:
    session.refresh(interpreter, ["qualifications"])
    return {q.language_code: q.category for q in interpreter.qualifications}


def _after_credential_change(session, actor: User, interpreter: Interpreter, before: dict[str, str],
                             now: datetime, why: str, ip: str | None) -> dict[str, str]:
    qualification.recompute(session, [interpreter.id], oslo_date(now))
    categories = _categories(session, interpreter)
    if categories != before:
        audit.record(session, "interpreter.categories_changed", actor=actor, object_type="interpreter",
                     object_id=interpreter.id, ip=ip, before=before, after=categories)
    # Even with the same categories: a police certificate changes no category, but the bookings that need one.
    booking.flag_unqualified(session, [interpreter.id], now, reason=why)
    booking.clear_requalified(session, [interpreter.id], now, reason=why)
    return categories


def set_valid_until(session, actor: User, interpreter: Interpreter, credential_id: int, value, now: datetime,
                    ip: str | None = None) -> Credential:
    """Set, change or remove (empty) a credential's last valid day; categories follow at once.

    An expired credential given a date today or later counts again (verified); a verified one given a past
    date expires at once.
    """
    credential = credential_of(session, interpreter, credential_id)
    if credential.state not in ("verified", "expired", "pending"):
        raise Conflict(_l("A rejected or revoked credential no longer counts; its validity cannot be changed."))
    today = oslo_date(now)
    until = parse_date(value, "valid_until")
    if until is not None and until < credential.issued_on:
        raise InvalidInput(_l("The credential cannot run out before it was issued (%(date)s).",
                              date=credential.issued_on.isoformat()), "valid_until")
    state = credential.state
    if state in ("verified", "expired"):
        state = "expired" if until is not None and until < today else "verified"
    if until == credential.valid_until and state == credential.state:
        return credential
    categories_before = _categories(session, interpreter)
    before = {"valid_until": credential.valid_until, "state": credential.state}
    credential.valid_until, credential.state, credential.updated_at = until, state, now
    session.flush()
    audit.record(session, "credential.validity_changed", actor=actor, object_type="credential",
                 object_id=credential.id, ip=ip, before=before,
                 after={"interpreter_id": interpreter.id, "valid_until": until, "state": state})
    _after_credential_change(session, actor, interpreter, categories_before, now, "credential_validity", ip)
    return credential


def check_reason(value) -> str:
    reason = str(value or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason."), "reason")
    if len(reason) > REASON_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=REASON_MAX, count=len(reason)),
                           "reason")
    return reason


def revoke_credential(session, actor: User, interpreter: Interpreter, credential_id: int, reason, now: datetime,
                      ip: str | None = None) -> Credential:
    """Revoke a verified (or expired) credential: it no longer counts, from today."""
    credential = credential_of(session, interpreter, credential_id)
    if credential.state not in ("verified", "expired"):
        raise Conflict(_l("Only a verified or expired credential can be revoked."))
    reason = check_reason(reason)
    categories_before = _categories(session, interpreter)
    before = {"state": credential.state}
    credential.state, credential.decision_reason = "revoked", reason
    credential.verified_by_id, credential.updated_at = actor.id, now
    session.flush()
    audit.record(session, "credential.revoked", actor=actor, object_type="credential", object_id=credential.id,
                 ip=ip, before=before, after={"interpreter_id": interpreter.id, "state": "revoked", "reason": reason})
    _after_credential_change(session, actor, interpreter, categories_before, now, "credential_revoked", ip)
    return credential
