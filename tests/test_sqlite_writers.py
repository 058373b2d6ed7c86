"""SQLite write transactions: BEGIN IMMEDIATE waits for another writer by trying again every few milliseconds
(registry.database._begin_immediate), not with SQLite's own lengthening sleeps, and still gives up after the busy
timeout. SQLite's own behaviour, so on SQLite only; PostgreSQL's writers wait on row locks instead."""

import threading
import time

import pytest
import sqlalchemy as sa

from registry import database
from registry.database import discard, writing
from registry.extensions import db
from tests.conftest import make_app


@pytest.fixture
def app(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "writers.sqlite3"))
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY, who TEXT)"))
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


def hold_the_write_lock(app, seconds: float, taken: threading.Event) -> threading.Thread:
    def hold():
        with app.app_context(), writing():
            db.session.execute(sa.text("INSERT INTO notes (who) VALUES ('first')"))
            taken.set()
            time.sleep(seconds)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread


def busy_timeout() -> int:
    return db.session.scalar(sa.text("PRAGMA busy_timeout"))


def test_a_writer_waits_for_the_other_and_then_writes(app):
    taken = threading.Event()
    holder = hold_the_write_lock(app, 0.3, taken)
    with app.app_context(), writing():
        db.session.execute(sa.text("INSERT INTO notes (who) VALUES ('second')"))  # waits here, then writes
        assert busy_timeout() == database.SQLITE_BUSY_MS  # the transaction's own statements wait as usual
        db.session.commit()
        holder.join()
        assert db.session.scalars(sa.text("SELECT who FROM notes ORDER BY id")).all() == ["first", "second"]


def test_a_writer_gives_up_after_the_busy_timeout_and_changes_nothing(app, monkeypatch):
    monkeypatch.setattr(database, "SQLITE_BUSY_MS", 200)
    taken = threading.Event()
    holder = hold_the_write_lock(app, 1.5, taken)
    with app.app_context():
        with writing(), pytest.raises(sa.exc.OperationalError, match="database is locked"):
            db.session.execute(sa.text("INSERT INTO notes (who) VALUES ('second')"))
        db.session.rollback()
        assert busy_timeout() == 200  # on again after the failed wait
        holder.join()
        assert db.session.scalars(sa.text("SELECT who FROM notes")).all() == ["first"]
        db.session.remove()


def test_readers_do_not_wait_for_a_writer(app):
    taken = threading.Event()
    holder = hold_the_write_lock(app, 0.5, taken)
    with app.app_context():
        assert db.session.scalars(sa.text("SELECT who FROM notes")).all() == []  # WAL: the last committed state
        db.session.remove()
    holder.join()


def test_a_refusal_that_never_reached_the_database_is_discarded_without_waiting_for_a_writer(app):
    """A POST's transaction takes the write lock at BEGIN. `discard` ending a refused change asks the transaction's
    connection whether it wrote; one begun without a connection yet gets one begun as a read, not as a write that
    would queue behind another writer only to commit nothing."""
    taken = threading.Event()
    holder = hold_the_write_lock(app, 1.5, taken)
    with app.test_request_context("/", method="POST"):
        db.session.begin()  # a transaction that has not yet used the database
        discard(db.session())
        assert holder.is_alive()  # done while the other writer still holds the lock
        assert not db.session().in_transaction()
        db.session.remove()
    holder.join()
