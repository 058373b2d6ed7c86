"""purge-personal-data: what is past its retention period (RETENTION_* settings, in days) is deleted or
made anonymous:

- bookings that ended long ago lose their free text and contact details (description, address, meeting
  link, the body's own reference, which may be a case or record number, contact name and phone, cancellation
  and dispute reasons); the booking itself stays for statistics and invoicing;
- evidence files of rejected credentials and of rejected applications are deleted (after the commit,
  so a failed run deletes no file whose reference is still stored), and the application's message;
- an applicant rejected long ago who never joined (still inactive, no login) loses their name, contact
  details, municipality and birth date; the register number (never given again), the application with its
  decision and the rejected credentials stay, as the record of what was decided;
- ended and long-idle login sessions (with their IP addresses) are deleted;
- sent mail keeps its event key (so the event is never sent again) but loses its recipient and contents, and
  so does mail that could not be delivered, the same time after it was queued (the administrators have long
  seen the failure by then);
- run records of the jobs older than JOB_RUN_KEEP_DAYS are deleted (housekeeping, not personal data).

Every statement only matches what is not purged yet, so a second run changes nothing.
"""

from datetime import timedelta

import sqlalchemy as sa

from ..database import chunks
from ..domain import audit, evidence
from ..domain.register import name_key
from ..models import Application, Booking, Credential, Interpreter, JobRun, OutboxMessage, User, UserSession
from .context import Context

# What an anonymised applicant is called: no word in any one language.
ANONYMOUS = "–"
BOOKING_TEXT = ("description", "address", "meeting_url", "reference", "contact_name", "contact_phone",
                "cancel_reason", "dispute_reason")


def run(ctx: Context) -> dict[str, int]:
    counts = {
        "booking_texts": _booking_texts(ctx),
        "evidence_files": _evidence(ctx),
        "rejected_applicants": _rejected_applicants(ctx),
        "sessions": _sessions(ctx),
        "sent_mail": _sent_mail(ctx),
        "job_runs": _job_runs(ctx),
    }
    if any(counts.values()):
        audit.record(ctx.session, "personal_data.purged", actor_label="system", object_type="job",
                     object_id="purge-personal-data", after=dict(counts, as_of=ctx.now.isoformat()))
    return counts


def _cutoff(ctx: Context, setting: str):
    return ctx.now - timedelta(days=ctx.config[setting])


def _booking_texts(ctx: Context) -> int:
    cutoff = _cutoff(ctx, "RETENTION_BOOKING_TEXT_DAYS")
    columns = [getattr(Booking, name) for name in BOOKING_TEXT]
    return ctx.session.execute(
        sa.update(Booking)
        .where(Booking.starts_at < cutoff, Booking.ends_at < cutoff, sa.or_(*[c.is_not(None) for c in columns]))
        .values({name: None for name in BOOKING_TEXT})
        .execution_options(synchronize_session=False)).rowcount


def _evidence(ctx: Context) -> int:
    session, cutoff = ctx.session, _cutoff(ctx, "RETENTION_REJECTED_EVIDENCE_DAYS")
    rejected_applicants = sa.select(Application.interpreter_id).where(
        Application.state == "rejected", Application.decided_at < cutoff)
    rows = session.execute(sa.select(Credential.id, Credential.evidence_ref).where(
        Credential.evidence_ref.is_not(None),
        sa.or_(
            sa.and_(Credential.state == "rejected",
                    sa.func.coalesce(Credential.verified_at, Credential.updated_at) < cutoff),
            sa.and_(Credential.interpreter_id.in_(rejected_applicants),
                    Credential.state.in_(("pending", "rejected")))))).all()
    for chunk in chunks([row.id for row in rows]):
        session.execute(sa.update(Credential).where(Credential.id.in_(chunk))
                        .values(evidence_ref=None, evidence_name=None, evidence_type=None)
                        .execution_options(synchronize_session=False))
    session.execute(sa.update(Application)
                    .where(Application.state == "rejected", Application.decided_at < cutoff,
                           Application.message.is_not(None))
                    .values(message=None).execution_options(synchronize_session=False))
    refs = [row.evidence_ref for row in rows]
    if refs:
        directory = ctx.config["EVIDENCE_DIR"]
        ctx.after_commit.append(lambda: evidence.discard(directory, refs))
    return len(refs)


def _rejected_applicants(ctx: Context) -> int:
    cutoff = _cutoff(ctx, "RETENTION_REJECTED_APPLICANT_DAYS")
    rejected = sa.select(Application.interpreter_id).where(Application.state == "rejected",
                                                           Application.decided_at < cutoff)
    has_login = sa.select(User.id).where(User.interpreter_id == Interpreter.id).exists()
    return ctx.session.execute(
        sa.update(Interpreter)
        .where(Interpreter.id.in_(rejected), Interpreter.status == "inactive", ~has_login,
               sa.or_(Interpreter.name != ANONYMOUS, Interpreter.email.is_not(None), Interpreter.phone.is_not(None),
                      Interpreter.birth_date.is_not(None), Interpreter.municipality_number.is_not(None)))
        .values(name=ANONYMOUS, name_key=name_key(ANONYMOUS), email=None, phone=None, birth_date=None,
                municipality_number=None, publish_contact=False)
        .execution_options(synchronize_session=False)).rowcount


def _sessions(ctx: Context) -> int:
    cutoff = _cutoff(ctx, "RETENTION_SESSION_DAYS")
    return ctx.session.execute(sa.delete(UserSession).where(sa.or_(
        UserSession.ended_at < cutoff, sa.and_(UserSession.ended_at.is_(None), UserSession.last_seen_at < cutoff)))
        .execution_options(synchronize_session=False)).rowcount


def _sent_mail(ctx: Context) -> int:
    cutoff = _cutoff(ctx, "RETENTION_SENT_MAIL_DAYS")
    return ctx.session.execute(
        sa.update(OutboxMessage)
        .where(sa.or_(sa.and_(OutboxMessage.state == "sent", OutboxMessage.sent_at < cutoff),
                      sa.and_(OutboxMessage.state == "failed", OutboxMessage.created_at < cutoff)),
               OutboxMessage.recipient != "")
        .values(recipient="", params={}, user_id=None)
        .execution_options(synchronize_session=False)).rowcount


def _job_runs(ctx: Context) -> int:
    cutoff = _cutoff(ctx, "JOB_RUN_KEEP_DAYS")
    return ctx.session.execute(sa.delete(JobRun).where(JobRun.started_at < cutoff, JobRun.outcome != "running")
                               .execution_options(synchronize_session=False)).rowcount
