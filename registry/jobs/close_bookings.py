"""close-bookings: confirmed assignments that have ended wait for the interpreter's time report
(`report_state` "awaiting"); a day later (JOB_TIME_REPORT_REMIND_HOURS) the interpreter is reminded, once
(`reminded_at`). The booking stays `confirmed` until the booker approves the reported time.
"""

from datetime import timedelta

import sqlalchemy as sa

from ..domain import audit, notifications
from ..domain.booking import AUDITED, message_params
from ..domain.notifications import interpreter_contacts
from ..models import Booking
from .context import Context


def run(ctx: Context) -> dict[str, int]:
    return {"awaiting_report": _await_reports(ctx), "reminded": _remind(ctx)}


def _await_reports(ctx: Context) -> int:
    session, now = ctx.session, ctx.now
    ended = session.scalars(
        sa.select(Booking)
        .where(Booking.status == "confirmed", Booking.starts_at < now, Booking.ends_at <= now,
               Booking.report_state.is_(None))
        .order_by(Booking.id).with_for_update(skip_locked=True)).all()
    for booking in ended:
        before = audit.snapshot(booking, AUDITED)
        booking.report_state = "awaiting"
        booking.updated_at = now
        audit.record(session, "booking.awaiting_report", actor_label="system", object_type="booking",
                     object_id=booking.id, before=before, after=audit.snapshot(booking, AUDITED))
    session.flush()
    return len(ended)


def _remind(ctx: Context) -> int:
    session, now = ctx.session, ctx.now
    cutoff = now - timedelta(hours=ctx.config["JOB_TIME_REPORT_REMIND_HOURS"])
    due = session.scalars(
        sa.select(Booking)
        .where(Booking.status == "confirmed", Booking.starts_at < cutoff, Booking.ends_at <= cutoff,
               Booking.report_state == "awaiting", Booking.reminded_at.is_(None))
        .order_by(Booking.id).with_for_update(skip_locked=True)).all()
    contacts = interpreter_contacts(session, {b.interpreter_id for b in due})
    for booking in due:
        booking.reminded_at = now
        contact = contacts.get(booking.interpreter_id)
        if contact is not None:
            notifications.enqueue(
                session, "time_report_reminder", contact.email, event_key=f"time_report_reminder:{booking.id}",
                locale=contact.locale, user_id=contact.user_id, name=contact.name, **message_params(booking))
    session.flush()
    return len(due)
