"""expiry-reminders: 90, 30 and 7 days (JOB_EXPIRY_REMINDER_DAYS) before a credential expires, the
interpreter is reminded, once for each threshold.

Each threshold reached is recorded in credential_reminders (unique per credential, expiry date and
threshold), so a second run, or a run a day late, sends nothing again. When a run finds several
thresholds reached at once (the job was down for weeks, or the credential was verified with only
20 days left) it sends one reminder, with the days actually left, and records them all: an interpreter
never gets the 90-, 30- and 7-day reminders on the same morning. A renewed credential (a new
`valid_until`) is reminded afresh.

A credential already renewed is not reminded of (the count "renewed"): another verified credential of the same
interpreter, type and language is valid the day after it ends (qualification.renewed, the expiry job's own test),
so its end changes nothing. Nothing is recorded for it, so a renewal revoked later brings the reminders back.
"""

from collections import defaultdict
from datetime import timedelta

import sqlalchemy as sa

from ..database import chunks
from ..domain import notifications, qualification
from ..domain.notifications import interpreter_contacts
from ..models import Credential, CredentialReminder
from .context import Context


def run(ctx: Context) -> dict[str, int]:
    session, today = ctx.session, ctx.today
    thresholds = sorted({int(days) for days in ctx.config["JOB_EXPIRY_REMINDER_DAYS"]})
    if not thresholds:
        return {"reminded": 0, "due_credentials": 0, "renewed": 0}
    due = session.execute(
        sa.select(Credential.id, Credential.interpreter_id, Credential.type, Credential.language_code,
                  Credential.valid_until)
        .where(Credential.state == "verified", Credential.valid_until >= today,
               Credential.valid_until <= today + timedelta(days=thresholds[-1]))
        .order_by(Credential.id)).all()
    recorded = _recorded(session, [row.id for row in due])
    renewed = _renewed(session, due)
    contacts = interpreter_contacts(session, {row.interpreter_id for row in due})
    reminded = due_credentials = renewals = 0
    for row in due:
        days_left = (row.valid_until - today).days
        reached = [t for t in thresholds if days_left <= t and t not in recorded[(row.id, row.valid_until)]]
        if not reached:
            continue
        due_credentials += 1
        if row.id in renewed:
            renewals += 1
            continue
        session.execute(sa.insert(CredentialReminder), [
            {"credential_id": row.id, "valid_until": row.valid_until, "threshold_days": t, "sent_at": ctx.now}
            for t in reached])
        contact = contacts.get(row.interpreter_id)
        if contact is None:
            continue
        queued = notifications.enqueue(
            session, "credential_expiring", contact.email,
            event_key=f"credential_expiring:{row.id}:{row.valid_until}:{min(reached)}",
            locale=contact.locale, user_id=contact.user_id, name=contact.name, type=row.type,
            language=row.language_code, valid_until=row.valid_until.isoformat(), days_left=days_left)
        reminded += queued is not None
    session.flush()
    return {"reminded": reminded, "due_credentials": due_credentials, "renewed": renewals}


def _renewed(session, due) -> set[int]:
    """Those of the due credentials that another is valid beyond: one query per day they end on (at most the
    longest threshold's days)."""
    ending: dict = defaultdict(list)
    for row in due:
        ending[row.valid_until].append(row.id)
    return {i for day, ids in ending.items() for i in qualification.renewed(session, ids, day + timedelta(days=1))}


def _recorded(session, credential_ids: list[int]) -> dict[tuple, set[int]]:
    recorded: dict[tuple, set[int]] = defaultdict(set)
    for chunk in chunks(credential_ids):
        rows = session.execute(sa.select(CredentialReminder.credential_id, CredentialReminder.valid_until,
                                         CredentialReminder.threshold_days)
                               .where(CredentialReminder.credential_id.in_(chunk)))
        for credential_id, valid_until, threshold in rows:
            recorded[(credential_id, valid_until)].add(threshold)
    return recorded
