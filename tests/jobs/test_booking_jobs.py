"""lapse-requests and close-bookings: unanswered requests lapse; ended assignments wait for a time report."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.domain import notifications
from registry.models import AuditEntry, Booking
from tests.helpers import interpreter, user
from tests.jobs.conftest import make_booking, messages, oslo, run_direct

DAY = date(2027, 3, 2)


@pytest.fixture
def amina(session):
    person = interpreter(session, "Amina Ali", email="amina@example.no", credentials=[("authorisation", "ar")])
    user(session, "amina@example.no", role="interpreter", person=person, locale="en")
    return person


def fresh(session, booking) -> Booking:
    session.rollback()
    return session.get(Booking, booking.id)


def test_unanswered_requests_lapse_at_their_deadline_and_the_booker_is_told(app, session, booker, amina):
    due = make_booking(session, booker, amina, oslo(DAY + timedelta(days=2), 10), status="requested",
                       respond_by=oslo(DAY, 9))
    not_yet = make_booking(session, booker, amina, oslo(DAY + timedelta(days=3), 10), status="requested",
                           respond_by=oslo(DAY, 9, 5))
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 8, 59)) == {"lapsed": 0}
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 9)) == {"lapsed": 1}
    assert (fresh(session, due).status, fresh(session, not_yet).status) == ("lapsed", "requested")
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 9, 1)) == {"lapsed": 0}
    (told,) = messages(session, "booking_lapsed")
    assert (told.recipient, told.params["booking_id"]) == ("booker@helse.example", due.id)
    with app.app_context():
        assert notifications.render(told)[0] == "The request was not answered"


def test_an_open_request_no_one_took_lapses_when_it_starts_and_the_booker_is_told(app, session, booker):
    started = make_booking(session, booker, None, oslo(DAY, 10), status="open")
    not_yet = make_booking(session, booker, None, oslo(DAY, 11), status="open")
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 9, 59)) == {"lapsed": 0}
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 10, 3)) == {"lapsed": 1}
    assert run_direct(app, session, "lapse-requests", oslo(DAY, 10, 6)) == {"lapsed": 0}
    assert (fresh(session, started).status, fresh(session, not_yet).status) == ("lapsed", "open")
    (told,) = messages(session, "booking_unfilled")
    assert (told.recipient, told.params["booking_id"]) == ("booker@helse.example", started.id)
    with app.app_context():
        subject, body = notifications.render(told)
    assert subject == "No interpreter took the request" and "before it started" in body
    assert messages(session, "booking_lapsed") == []


def test_an_ended_assignment_waits_for_its_time_report_and_the_interpreter_is_reminded_once(
        app, session, booker, amina):
    ended = make_booking(session, booker, amina, oslo(DAY, 10), hours=2)  # 10:00-12:00
    assert run_direct(app, session, "close-bookings", oslo(DAY, 11, 59)) == {"awaiting_report": 0, "reminded": 0}
    assert run_direct(app, session, "close-bookings", oslo(DAY, 12, 7)) == {"awaiting_report": 1, "reminded": 0}
    booking = fresh(session, ended)
    assert (booking.status, booking.report_state, booking.reminded_at) == ("confirmed", "awaiting", None)
    assert session.scalars(sa.select(AuditEntry.action)).all() == ["booking.awaiting_report"]

    # Not before a day has passed since the end; then once.
    assert run_direct(app, session, "close-bookings", oslo(DAY + timedelta(days=1), 11, 7))["reminded"] == 0
    assert run_direct(app, session, "close-bookings", oslo(DAY + timedelta(days=1), 12, 7))["reminded"] == 1
    for hours in (1, 2, 30):
        later = oslo(DAY + timedelta(days=1), 12, 7) + timedelta(hours=hours)
        assert run_direct(app, session, "close-bookings", later) == {"awaiting_report": 0, "reminded": 0}
    (reminder,) = messages(session, "time_report_reminder")
    assert (reminder.recipient, reminder.locale, reminder.params["booking_id"]) == ("amina@example.no", "en", ended.id)
    with app.app_context():
        subject, body = notifications.render(reminder)
    assert subject == "Report the time of your assignment" and f"Booking {ended.id}: Arabic" in body


def test_reported_open_and_cancelled_bookings_are_not_touched(app, session, booker, amina):
    reported = make_booking(session, booker, amina, oslo(DAY, 8), report_state="reported")
    open_one = make_booking(session, booker, None, oslo(DAY, 10), status="open")
    cancelled = make_booking(session, booker, amina, oslo(DAY, 14), status="cancelled")
    counts = run_direct(app, session, "close-bookings", oslo(DAY + timedelta(days=3), 12))
    assert counts == {"awaiting_report": 0, "reminded": 0}
    assert [fresh(session, b).report_state for b in (reported, open_one, cancelled)] == ["reported", None, None]
    assert messages(session) == []
