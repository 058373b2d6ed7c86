"""expire-credentials: credentials past `valid_until` expire, categories follow, bookings that lose
their qualified interpreter are flagged, and the people concerned are told.

`valid_until` is the last valid day in Norway, so a credential valid through 31 January still counts
all that day and expires in the first run on 1 February.

A credential already renewed, by another verified credential of the same interpreter, type and language
that is valid today (qualification.renewal_of), is marked expired and nothing more: the types held in each
language stay the same, so no category can change, no booking can lose its interpreter, and there is no news
to tell. Its interpreter is not written to either: they renewed in time (the expiry reminders asked them to),
and "your credential has expired" would alarm them for nothing. The count "renewed" says how many there were.

The interpreters with an expiry that is not renewed (the count "interpreters") have their categories
recomputed and their coming bookings checked (booking.flag_unqualified). Each of them gets one notice listing
the credentials that expired, their categories now, and the coming assignments that were flagged; each booker
of a flagged booking gets one message listing all of theirs, not one per booking.

Everything is set-based: one UPDATE expires the due credentials and returns them; one query finds the renewed
ones; categories are rewritten with executemany statements; the flagged bookings get one UPDATE and their audit
entries one INSERT ... SELECT; the messages one executemany INSERT. (On PostgreSQL a long list of ids is one array
parameter, database.among; SQLite takes them a thousand at a time.) Running again finds nothing more to expire,
so the job is idempotent, and every message has an event key, so nothing is queued twice.
"""

from collections import defaultdict

import sqlalchemy as sa

from ..domain import booking, notifications, qualification
from ..models import Credential
from .context import Context

REASON = "credential expired"


def run(ctx: Context) -> dict[str, int]:
    session, today = ctx.session, ctx.today
    expired = session.execute(
        sa.update(Credential).where(Credential.state == "verified", Credential.valid_until < today)
        .values(state="expired", updated_at=ctx.now)
        .returning(Credential.id, Credential.interpreter_id, Credential.type, Credential.language_code,
                   Credential.valid_until)
        .execution_options(synchronize_session=False)).all()
    # A renewal is valid today, so it was not among the rows just expired: asking now answers as before.
    renewed = qualification.renewed(session, [row.id for row in expired], today)
    by_interpreter: dict[int, list] = defaultdict(list)
    for row in sorted(expired, key=lambda r: r.id):
        if row.id not in renewed:
            by_interpreter[row.interpreter_id].append(row)
    ids = sorted(by_interpreter)
    categories = qualification.recompute(session, ids, today)
    flagged = booking.flag_unqualified(session, ids, ctx.now, REASON, tell_interpreters=False, categories=categories)
    notified = _tell_interpreters(session, by_interpreter, categories, flagged, today)
    return {"expired": len(expired), "renewed": len(renewed), "interpreters": len(ids),
            "bookings_flagged": sum(len(b) for b in flagged.values()), "notified": notified}


def _tell_interpreters(session, by_interpreter: dict[int, list], categories: dict[int, dict],
                       flagged: dict[int, list[dict]], today) -> int:
    """One notice each: what expired, the categories now, and the coming assignments flagged because of it."""
    contacts = notifications.interpreter_contacts(session, by_interpreter)
    messages = []
    for interpreter_id, rows in by_interpreter.items():
        contact = contacts.get(interpreter_id)
        if contact is None:
            continue
        credentials = [{"type": r.type, "language": r.language_code, "valid_until": r.valid_until.isoformat()}
                       for r in rows]
        # The first credential names the event: another expiry later the same day is news of its own.
        messages.append(dict(
            kind="credential_expired", recipient=contact.email, locale=contact.locale, user_id=contact.user_id,
            event_key=f"credential_expired:{interpreter_id}:{today}:{rows[0].id}", name=contact.name,
            credentials=credentials, categories=dict(sorted(categories.get(interpreter_id, {}).items())),
            bookings=flagged.get(interpreter_id, [])))
    return notifications.enqueue_many(session, messages)
