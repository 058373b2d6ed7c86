"""notifications.enqueue: an event is queued once, also when two transactions queue it at the same moment."""

import logging
import threading

import sqlalchemy as sa

from registry.database import writing
from registry.domain import notifications
from registry.extensions import db
from registry.models import OutboxMessage
from registry.models.types import utcnow
from tests.helpers import user


def test_the_same_event_queued_by_two_transactions_at_once_is_queued_once(app, session):
    with writing():
        first = notifications.enqueue(session, "sanction_ended", "kari@example.no", event_key="e1", name="Kari")
        assert first is not None  # queued, not yet committed: the second transaction must wait for this one
        outcome = {}

        def second():
            with app.app_context(), writing():
                try:
                    outcome["id"] = notifications.enqueue(db.session, "sanction_ended", "kari@example.no",
                                                          event_key="e1", name="Kari")
                    db.session.commit()
                except Exception as error:  # noqa: BLE001 - the test reports it
                    outcome["error"] = error
                    db.session.rollback()
                finally:
                    db.session.remove()

        other = threading.Thread(target=second)
        other.start()
        other.join(0.5)
        assert other.is_alive()  # waiting on the first transaction (PostgreSQL: its key; SQLite: its write lock)
        session.commit()
        other.join(20)
    assert not other.is_alive() and outcome == {"id": None}  # skipped, no unique-key error
    assert session.scalars(sa.select(OutboxMessage.id)).all() == [first]
    assert notifications.enqueue(session, "sanction_ended", "kari@example.no", event_key="e1", name="Kari") is None


def test_enqueue_many_queues_each_event_once_and_logs_only_what_it_queued(app, session, caplog):
    """An event already queued and one named twice in the list are queued once; the count and the development log
    (MAIL_LOG_ON_QUEUE) name only the messages queued now."""
    with writing():
        notifications.enqueue(session, "sanction_ended", "kari@example.no", event_key="known", name="Kari")
        app.config["MAIL_LOG_ON_QUEUE"] = True
        try:
            with caplog.at_level(logging.INFO, logger="registry.outbox"):
                queued = notifications.enqueue_many(session, [
                    dict(kind="sanction_ended", recipient="kari@example.no", event_key="known", name="Kari"),
                    dict(kind="sanction_ended", recipient="ola@example.no", event_key="new", name="Ola"),
                    dict(kind="sanction_ended", recipient="ola@example.no", event_key="new", name="Ola")])
        finally:
            app.config["MAIL_LOG_ON_QUEUE"] = False
        session.commit()
    assert queued == 1
    assert sorted(session.scalars(sa.select(OutboxMessage.event_key))) == ["known", "new"]
    assert "Mail to ola@example.no" in caplog.text and "Mail to kari@example.no" not in caplog.text


def test_enqueue_many_stores_each_message_as_given(app, session):
    """2,500 messages queued together, as the expiry job queues thousands: each row holds its own recipient,
    language, user and params (nested lists, dates as text, non-ASCII names) exactly, queued and due now."""
    with writing():
        user_id = user(session).id
        messages = [dict(kind="booking_flagged", recipient=f"booker{n}@example.no", event_key=f"flagged:{n}",
                         locale=("nn", "en", None)[n % 3], user_id=user_id if n % 2 else None, name=f"Åse Ødegård {n}",
                         bookings=[{"booking_id": n, "starts_at": "2026-12-01T09:00:00+00:00", "agency": "NAV Bø"},
                                   {"booking_id": n + 1, "language": "ti", "note": None}])
                    for n in range(2_500)]
        before = utcnow()
        assert notifications.enqueue_many(session, messages) == 2_500
        session.commit()
    rows = {r.event_key: r for r in session.scalars(sa.select(OutboxMessage))}
    assert len(rows) == 2_500
    for n in (0, 1, 2, 1000, 2499):
        row, given = rows[f"flagged:{n}"], messages[n]
        assert (row.kind, row.recipient, row.locale, row.user_id) == (
            "booking_flagged", given["recipient"], given["locale"] or "nb", given["user_id"])
        assert row.params == {"name": given["name"], "bookings": given["bookings"]}
        assert (row.state, row.attempts, row.sent_at) == ("queued", 0, None)
        assert before <= row.created_at <= utcnow() and before <= row.next_attempt_at <= utcnow()
