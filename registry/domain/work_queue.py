"""The registry administrators' work queue: applications to join and credentials waiting for verification.

Oldest first, each with its evidence. Approving a credential makes it `verified` with a `valid_until` as
entered, else as the applicant stated it, else from the credential type's default validity, and recomputes
the interpreter's categories at once, so the public register and booking search follow in the same
transaction. Rejecting needs a reason; the person is told it by email. Approving an application approves
its waiting credentials, makes the interpreter active (listed where a category follows) and invites them
to a login of their own.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..database import count_rows, keyset_page
from ..models import Application, Credential, Interpreter, OutboxMessage, User, WorkingHours
from . import accounts, audit, booking, notifications, qualification
from .admin_records import DEFAULT_HOURS, default_valid_until
from .clock import oslo_date
from .errors import Conflict, InvalidInput, NotFound
from .profile import parse_date

REASON_MAX = 1000


@dataclass(frozen=True)
class Queue:
    """A page of each list, oldest first, how many wait in all, and each list's next page key (None: no more)."""
    applications: list[Application]
    # Waiting credentials of interpreters who are not applying to join (those are with their application).
    credentials: list[Credential]
    applications_waiting: int = 0
    credentials_waiting: int = 0
    applications_next: tuple | None = None
    credentials_next: tuple | None = None


def queue(session, *, applications_after: tuple | None = None, credentials_after: tuple | None = None,
          limit: int = 50) -> Queue:
    """What waits for a registry administrator, oldest first: a page of each list, keyset-paged on (submitted_at,
    id) and (created_at, id), with their interpreters and what the page shows of them read at once. The whole
    queue on one page was 2.8-3.9 s and 9.5 MB of HTML for the 3,666 credentials waiting in the bench data, with a
    query for each credential's categories."""
    pending = sa.select(Application).where(Application.state == "pending")
    applying = sa.select(Application.interpreter_id).where(Application.state == "pending")
    waiting = sa.select(Credential).where(Credential.state == "pending", Credential.interpreter_id.not_in(applying))
    applications, applications_next = keyset_page(
        session, pending.options(so.joinedload(Application.interpreter).selectinload(Interpreter.credentials)),
        (Application.submitted_at, Application.id), applications_after, limit)
    credentials, credentials_next = keyset_page(
        session, waiting.options(so.joinedload(Credential.interpreter).selectinload(Interpreter.qualifications)),
        (Credential.created_at, Credential.id), credentials_after, limit)
    return Queue(applications, credentials, count_rows(session, pending), count_rows(session, waiting),
                 applications_next, credentials_next)


def get_application(session, application_id: int) -> Application:
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound(_l("There is no such application."))
    return application


def get_credential(session, credential_id: int) -> Credential:
    credential = session.get(Credential, credential_id)
    if credential is None:
        raise NotFound(_l("There is no such credential."))
    return credential


def suggested_valid_until(session, credential: Credential, years: dict | None = None) -> date | None:
    """What approval sets when the administrator enters nothing: the stated date, else the type's default
    (`years`: admin_records.validity_years, read once for a page of them)."""
    return credential.valid_until or default_valid_until(session, credential.type, credential.issued_on, years)


def pending_application_of(session, interpreter_id: int) -> Application | None:
    return session.scalar(sa.select(Application).where(
        Application.interpreter_id == interpreter_id, Application.state == "pending"))


def check_reason(value, field: str = "reason") -> str:
    reason = str(value or "").strip()
    if not reason:
        raise InvalidInput(_l("Give the reason. The applicant sees it."), field)
    if len(reason) > REASON_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=REASON_MAX, count=len(reason)),
                           field)
    return reason


def _check_valid_until(session, credential: Credential, value, today: date, field: str) -> date | None:
    until = parse_date(value, field)
    if until is None:
        until = suggested_valid_until(session, credential)
    if until is not None and until < credential.issued_on:
        raise InvalidInput(_l("The credential cannot run out before it was issued (%(date)s).",
                              date=credential.issued_on.isoformat()), field)
    if until is not None and until < today:
        raise InvalidInput(_l("That date has passed, so the credential would not count. Enter a later date, "
                              "or reject the credential."), field)
    return until


def _require_pending(credential: Credential) -> None:
    if credential.state != "pending":
        raise Conflict(_l("This credential has already been decided. Reload the work queue."))


def _credential_params(credential: Credential) -> dict:
    return {"type": credential.type, "language": credential.language_code,
            "valid_until": credential.valid_until.isoformat() if credential.valid_until else None}


def _categories(session, interpreter_id: int) -> dict[str, str]:
    interpreter = session.get(Interpreter, interpreter_id)
    session.refresh(interpreter, ["qualifications"])
    return {q.language_code: q.category for q in interpreter.qualifications}


def _verify(session, actor: User, credential: Credential, valid_until: date | None, now: datetime,
            ip: str | None) -> None:
    before = {"state": credential.state, "valid_until": credential.valid_until}
    credential.state = "verified"
    credential.valid_until = valid_until
    credential.verified_by_id = actor.id
    credential.verified_at = now
    credential.decision_reason = None
    credential.updated_at = now
    audit.record(session, "credential.verified", actor=actor, object_type="credential", object_id=credential.id,
                 ip=ip, before=before, after={"interpreter_id": credential.interpreter_id, "type": credential.type,
                                              "language": credential.language_code, "state": "verified",
                                              "valid_until": valid_until})


def approve_credential(session, actor: User, credential_id: int, valid_until, now: datetime,
                       ip: str | None = None) -> Credential:
    """Verify one waiting credential; the interpreter's categories change at once and they are told."""
    credential = get_credential(session, credential_id)
    _require_pending(credential)
    if pending_application_of(session, credential.interpreter_id) is not None:
        raise Conflict(_l("This credential belongs to an application. Decide it with the application."))
    today = oslo_date(now)
    until = _check_valid_until(session, credential, valid_until, today, "valid_until")
    interpreter = credential.interpreter
    before = {q.language_code: q.category for q in interpreter.qualifications}
    _verify(session, actor, credential, until, now, ip)
    session.flush()
    qualification.recompute(session, [interpreter.id], today)
    categories = _categories(session, interpreter.id)
    contact = notifications.interpreter_contact(session, interpreter.id)
    if contact:
        notifications.enqueue(session, "credential_verified", contact.email,
                              event_key=f"credential_verified:{credential.id}", locale=contact.locale,
                              user_id=contact.user_id, name=interpreter.name,
                              credential=_credential_params(credential), categories=categories)
    if categories != before:
        audit.record(session, "interpreter.categories_changed", actor=actor, object_type="interpreter",
                     object_id=interpreter.id, ip=ip, before=before, after=categories)
    # Even with the same categories: a police certificate changes no category, but the bookings that need one.
    booking.clear_requalified(session, [interpreter.id], now, "credential_verified")
    return credential


def _reject(session, actor: User, credential: Credential, reason: str, now: datetime, ip: str | None) -> None:
    credential.state = "rejected"
    credential.decision_reason = reason
    credential.verified_by_id = actor.id
    credential.verified_at = now
    credential.updated_at = now
    audit.record(session, "credential.rejected", actor=actor, object_type="credential", object_id=credential.id,
                 ip=ip, before={"state": "pending"},
                 after={"interpreter_id": credential.interpreter_id, "type": credential.type,
                        "language": credential.language_code, "state": "rejected", "reason": reason})


def reject_credential(session, actor: User, credential_id: int, reason, now: datetime,
                      ip: str | None = None) -> Credential:
    """Reject one waiting credential with a reason the interpreter is sent."""
    credential = get_credential(session, credential_id)
    _require_pending(credential)
    reason = check_reason(reason)
    application = pending_application_of(session, credential.interpreter_id)
    _reject(session, actor, credential, reason, now, ip)
    session.flush()
    if application is None:
        interpreter = credential.interpreter
        contact = notifications.interpreter_contact(session, interpreter.id)
        if contact:
            notifications.enqueue(
                session, "credential_rejected", contact.email, event_key=f"credential_rejected:{credential.id}",
                locale=contact.locale, user_id=contact.user_id, name=interpreter.name,
                credential=_credential_params(credential),
                reason=reason)
    return credential


# Applications to join ----------------------------------------------------------------------------

def _require_pending_application(application: Application) -> None:
    if application.state != "pending":
        raise Conflict(_l("This application has already been decided. Reload the work queue."))


def applicant_locale(session, application: Application) -> str | None:
    """The language the applicant used: the one their receipt was sent in."""
    return session.scalar(sa.select(OutboxMessage.locale).where(
        OutboxMessage.event_key == f"application_received:{application.id}"))


def _waiting(application: Application) -> list[Credential]:
    return [c for c in application.interpreter.credentials if c.state == "pending"]


def approve_application(session, actor: User, application_id: int, valid_until: dict[int, object], now: datetime,
                        make_link, *, valid_for: timedelta = timedelta(days=7), ip: str | None = None) -> Application:
    """Approve an application: its waiting credentials are verified (`valid_until` by credential id, as entered),
    the interpreter becomes active, categories are recomputed, and the person is invited to a login.

    `make_link(token)` turns the invitation token into the link in the email.
    """
    application = get_application(session, application_id)
    _require_pending_application(application)
    interpreter = application.interpreter
    today = oslo_date(now)
    waiting = _waiting(application)
    decided = {c.id: _check_valid_until(session, c, valid_until.get(c.id), today, f"valid_until_{c.id}")
               for c in waiting}
    verified_already = [c for c in interpreter.credentials if c.state == "verified"]
    if not waiting and not verified_already:
        raise Conflict(_l("Every credential of this application is rejected. Reject the application instead."))
    email = interpreter.email
    existing_login = session.scalar(sa.select(User).where(User.interpreter_id == interpreter.id))
    if existing_login is None and email and session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(_l("%(email)s is already the login of someone else. Correct the interpreter's email "
                          "address on their record first.", email=email))
    for credential in waiting:
        _verify(session, actor, credential, decided[credential.id], now, ip)
    status_before = interpreter.status
    if interpreter.status == "inactive":
        interpreter.status = "active"
        interpreter.updated_at = now
    _default_hours(session, interpreter)
    application.state = "approved"
    application.decided_at = now
    application.decided_by_id = actor.id
    session.flush()
    qualification.recompute(session, [interpreter.id], today)
    categories = _categories(session, interpreter.id)
    audit.record(session, "application.approved", actor=actor, object_type="application", object_id=application.id,
                 ip=ip, before={"state": "pending", "status": status_before},
                 after={"state": "approved", "interpreter_id": interpreter.id, "status": interpreter.status,
                        "categories": categories})
    if interpreter.status != status_before:
        audit.record(session, "interpreter.status_changed", actor=actor, object_type="interpreter",
                     object_id=interpreter.id, ip=ip, before={"status": status_before},
                     after={"status": interpreter.status, "why": "application approved",
                            "categories": categories})
    if existing_login is None and email:
        login = accounts.create_user(session, email, interpreter.name, "interpreter", interpreter=interpreter,
                                     locale=applicant_locale(session, application))
        accounts.send_link(session, login, "invitation", now, valid_for, make_link)
        audit.record(session, "user.invited", actor=actor, object_type="user", object_id=login.id, ip=ip,
                     after={"email": login.email, "role": "interpreter", "interpreter_id": interpreter.id})
    return application


def _default_hours(session, interpreter: Interpreter) -> None:
    """An applicant states no working hours; until they set their own they work the register's default week
    (Monday to Friday, 08:00-16:00), so they can be booked from the day they are approved."""
    if session.scalar(sa.select(WorkingHours.id).where(WorkingHours.interpreter_id == interpreter.id).limit(1)):
        return
    session.add_all(WorkingHours(interpreter_id=interpreter.id, weekday=p.weekday, start_time=p.start, end_time=p.end)
                    for p in DEFAULT_HOURS)


def reject_application(session, actor: User, application_id: int, reason, now: datetime,
                       ip: str | None = None) -> Application:
    """Reject an application with a reason the applicant is sent; its waiting credentials are rejected too and
    the person stays out of the register (inactive)."""
    application = get_application(session, application_id)
    _require_pending_application(application)
    reason = check_reason(reason)
    interpreter = application.interpreter
    for credential in _waiting(application):
        _reject(session, actor, credential, reason, now, ip)
    application.state = "rejected"
    application.decided_at = now
    application.decided_by_id = actor.id
    application.decision_reason = reason
    session.flush()
    audit.record(session, "application.rejected", actor=actor, object_type="application", object_id=application.id,
                 ip=ip, before={"state": "pending"},
                 after={"state": "rejected", "interpreter_id": interpreter.id, "reason": reason})
    if interpreter.email:
        notifications.enqueue(session, "application_rejected", interpreter.email,
                              event_key=f"application_rejected:{application.id}",
                              locale=applicant_locale(session, application), name=interpreter.name,
                              reference=interpreter.register_number, reason=reason)
    return application
