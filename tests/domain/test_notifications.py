"""notifications.enqueue: an event is queued once, also when two transactions queue it at the same moment."""

import logging
import threading

import sqlalchemy as sa

from registry.database import writing
from registry.domain import notifications
from registry.extensions import db
from registry.models import OutboxMessage


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
