"""end-sanctions: ended suspensions and time-limited exclusions are lifted; warnings count for five years."""

from datetime import date

import pytest
import sqlalchemy as sa
import time_machine

from registry.domain import notifications, sanction_decisions, sanctions
from registry.models import AuditEntry, Booking, Interpreter, Sanction
from tests.helpers import interpreter, user
from tests.jobs.conftest import make_booking, messages, oslo, run_direct

LAST_DAY = date(2027, 3, 31)


def sanction(session, person, kind, starts_on=None, ends_on=None, decided_on=date(2027, 1, 10), **fields):
    row = Sanction(interpreter_id=person.id, kind=kind, reason="Brudd på god tolkeskikk", decided_on=decided_on,
                   starts_on=starts_on, ends_on=ends_on, **fields)
    session.add(row)
    session.commit()
    return row


@pytest.fixture
def suspended(session):
    person = interpreter(session, "Amina Ali", email="amina@example.no", status="suspended",
                         credentials=[("authorisation", "ar")])
    sanction(session, person, "suspension", date(2027, 1, 10), LAST_DAY)
    return person


def status(session, person) -> str:
    session.rollback()
    return session.get(Interpreter, person.id).status


def test_a_suspension_holds_through_its_last_day_and_is_lifted_the_next(app, session, suspended):
    assert run_direct(app, session, "end-sanctions", oslo(LAST_DAY, 23, 50))["lifted"] == 0
    assert status(session, suspended) == "suspended"

    counts = run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 1), 1, 20))
    assert counts == {"lifted": 1, "reactivated": 1, "warnings_counting": 0}
    assert status(session, suspended) == "active"
    assert session.scalar(sa.select(Sanction.lifted_at)) == oslo(date(2027, 4, 1), 1, 20)
    actions = session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["sanction.lifted", "interpreter.status_changed"]
    assert [m.recipient for m in messages(session, "sanction_ended")] == ["amina@example.no"]


def test_lifting_takes_the_warning_off_her_coming_bookings(app, session, suspended):
    """Her bookings were marked when she was suspended; once she is active again they are hers to take, so the marks
    go and the booker is told. A booking that started before the lift keeps its mark, as the record of then."""
    booker = user(session, "booker@helse.example")
    coming = make_booking(session, booker, suspended, oslo(date(2027, 4, 6), 10), warn_not_qualified=True)
    started = make_booking(session, booker, suspended, oslo(date(2027, 4, 1), 0, 30), warn_not_qualified=True)
    run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 1), 1, 20))
    assert session.get(Booking, coming.id).warn_not_qualified is False
    assert session.get(Booking, started.id).warn_not_qualified is True
    told = {m.recipient: m for m in messages(session, "booking_requalified")}
    assert set(told) == {"booker@helse.example", "amina@example.no"}
    assert [b["booking_id"] for b in told["booker@helse.example"].params["bookings"]] == [coming.id]


@pytest.mark.parametrize("own_status", ["paused", "inactive"])
def test_the_status_before_the_sanction_comes_back_when_it_ends(app, session, own_status):
    """A suspension of someone on leave (paused) or who had left the register (inactive) sets that status aside; when
    it ends they are paused or inactive again, not listed as active, and told so. An exclusion decided while the
    suspension held changes nothing about what comes back."""
    admin = user(session, "admin@imdi.example", role="registry_admin")
    person = interpreter(session, "Omar Osman", email="omar@example.no", status=own_status,
                         credentials=[("authorisation", "ar")])
    decided = oslo(date(2027, 1, 10), 9)
    with time_machine.travel(decided, tick=False):
        sanction_decisions.decide(session, admin, person, kind="suspension", reason="Saken pågår",
                                  ends_on="2027-03-31", now=decided)
        sanction_decisions.decide(session, admin, person, kind="exclusion", reason="Alvorlig brudd",
                                  ends_on="2027-02-28", serious_breach=True, now=decided)
        session.commit()
    assert status(session, person) == "excluded"
    run_direct(app, session, "end-sanctions", oslo(date(2027, 3, 1), 1, 20))
    assert status(session, person) == "suspended"  # the exclusion ended; the suspension still holds

    counts = run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 1), 1, 20))
    assert counts["lifted"] == 1 and counts["reactivated"] == 0
    assert status(session, person) == own_status
    assert session.get(Interpreter, person.id).status_after_sanction is None
    [told] = messages(session, "sanction_ended")
    with app.app_context():
        subject, body = notifications.render(told)
    assert subject == "Suspensjonen eller utestengingen din er over"
    assert ("Du har pause igjen" if own_status == "paused" else "Du er inaktiv igjen") in body


def test_running_twice_lifts_nothing_more(app, session, suspended):
    run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 1), 1, 20))
    again = run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 2), 1, 20))
    assert again == {"lifted": 0, "reactivated": 0, "warnings_counting": 0}
    assert len(messages(session)) == 1
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 2


def test_another_sanction_still_holding_keeps_the_interpreter_out(app, session, suspended):
    sanction(session, suspended, "exclusion", date(2027, 3, 15), date(2027, 12, 31))
    counts = run_direct(app, session, "end-sanctions", oslo(date(2027, 4, 1), 1, 20))
    assert counts["lifted"] == 1 and counts["reactivated"] == 0
    assert status(session, suspended) == "excluded"  # the exclusion, not the ended suspension, decides now
    assert messages(session) == []


def test_exclusions_for_good_warnings_and_lifted_sanctions_are_left_alone(app, session):
    person = interpreter(session, "Omar Osman", email="omar@example.no", status="excluded")
    sanction(session, person, "exclusion", date(2020, 1, 1), None)
    sanction(session, person, "warning", decided_on=date(2019, 5, 1))
    counts = run_direct(app, session, "end-sanctions", oslo(date(2030, 1, 1), 1, 20))
    assert counts == {"lifted": 0, "reactivated": 0, "warnings_counting": 0}
    assert status(session, person) == "excluded"


@pytest.mark.parametrize("decided_on, on, counts", [
    (date(2022, 3, 1), date(2027, 2, 28), True),   # the last day of its five years
    (date(2022, 3, 1), date(2027, 3, 1), False),   # five years on: no longer counts
    (date(2024, 2, 29), date(2029, 2, 28), True),   # a leap day's warning counts through 28 February
    (date(2024, 2, 29), date(2029, 3, 1), False),
    (date(2027, 3, 2), date(2027, 3, 1), False),   # not yet decided
])
def test_a_warning_counts_for_five_years(session, decided_on, on, counts):
    person = interpreter(session, "Lina Lund", email="lina@example.no")
    sanction(session, person, "warning", decided_on=decided_on)
    assert sanctions.warnings_counting(session, person.id, on) == int(counts)


def test_three_warnings_within_five_years_and_the_job_reports_how_many_count(app, session):
    person = interpreter(session, "Lina Lund", email="lina@example.no")
    for decided in (date(2021, 10, 1), date(2024, 1, 15), date(2026, 9, 9)):
        sanction(session, person, "warning", decided_on=decided)
    sanction(session, person, "warning", decided_on=date(2025, 5, 5), lifted_at=oslo(date(2025, 6, 1)))
    assert sanctions.warnings_counting(session, person.id, date(2026, 5, 31)) == 2
    assert sanctions.warnings_counting(session, person.id, date(2026, 9, 9)) == 3
    assert sanctions.warnings_counting(session, person.id, date(2026, 10, 1)) == 2  # the first is five years old
    assert run_direct(app, session, "end-sanctions", oslo(date(2026, 10, 1), 1, 20))["warnings_counting"] == 2
