"""notifications.enqueue: an event is queued once, also when two transactions queue it at the same moment."""

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
