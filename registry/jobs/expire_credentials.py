"""expire-credentials: credentials past `valid_until` expire, categories follow, bookings that lose
their qualified interpreter are flagged, and the interpreters are told.

`valid_until` is the last valid day in Norway, so a credential valid through 31 January still counts
all that day and expires in the first run on 1 February. The expiry is one set-based UPDATE; running
again finds nothing more to expire, so the job is idempotent.
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
        sa.update(Credential)
        .where(Credential.state == "verified", Credential.valid_until < today)
        .values(state="expired", updated_at=ctx.now)
        .returning(Credential.id, Credential.interpreter_id, Credential.type, Credential.language_code,
                   Credential.valid_until)
        .execution_options(synchronize_session=False)).all()
    by_interpreter: dict[int, list] = defaultdict(list)
    for row in expired:
        by_interpreter[row.interpreter_id].append(row)
    ids = sorted(by_interpreter)
    categories = qualification.recompute(session, ids, today)
    flagged = booking.flag_unqualified(session, ids, ctx.now, REASON)
    notified = _tell_interpreters(session, by_interpreter, categories, today)
    return {"expired": len(expired), "interpreters": len(ids),
            "bookings_flagged": sum(len(b) for b in flagged.values()), "notified": notified}


def _tell_interpreters(session, by_interpreter: dict[int, list], categories: dict[int, dict], today) -> int:
    contacts = notifications.interpreter_contacts(session, by_interpreter)
    messages = []
    for interpreter_id, rows in by_interpreter.items():
        contact = contacts.get(interpreter_id)
        if contact is None:
            continue
        credentials = [{"type": r.type, "language": r.language_code, "valid_until": r.valid_until.isoformat()}
                       for r in sorted(rows, key=lambda r: r.id)]
        messages.append(dict(
            kind="credential_expired", recipient=contact.email, locale=contact.locale, user_id=contact.user_id,
            event_key=f"credential_expired:{interpreter_id}:{today}", name=contact.name, credentials=credentials,
            categories=dict(sorted(categories.get(interpreter_id, {}).items()))))
    return notifications.enqueue_many(session, messages)
