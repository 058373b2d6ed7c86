"""expiry-reminders: 90, 30 and 7 days before, once per threshold, even when the job runs late or twice."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.domain import notifications
from registry.models import Credential, CredentialReminder
from tests.helpers import interpreter, user
from tests.jobs.conftest import messages, oslo, run_direct

EXPIRES = date(2027, 6, 30)


@pytest.fixture
def person(session):
    person = interpreter(session, "Amina Ali", email="amina@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar", {"valid_until": EXPIRES})])
    user(session, "amina@example.no", role="interpreter", person=person, locale="nn")
    return person


def days_before(days: int, hh: int = 7, mm: int = 30):
    return oslo(EXPIRES - timedelta(days=days), hh, mm)


def reminders(session) -> list[tuple]:
    return [(m.params["days_left"], m.event_key) for m in messages(session, "credential_expiring")]


def test_one_reminder_at_each_threshold_however_often_the_job_runs(app, session, person):
    credential_id = session.scalar(sa.select(Credential.id))
    # Daily from 100 days before to the last day, each day twice (a second scheduler, say).
    for days in range(100, -1, -1):
        for _ in range(2):
            run_direct(app, session, "expiry-reminders", days_before(days))
    assert reminders(session) == [
        (90, f"credential_expiring:{credential_id}:2027-06-30:90"),
        (30, f"credential_expiring:{credential_id}:2027-06-30:30"),
        (7, f"credential_expiring:{credential_id}:2027-06-30:7"),
    ]
    session.rollback()
    assert sorted(session.scalars(sa.select(CredentialReminder.threshold_days))) == [7, 30, 90]


def test_a_late_run_sends_one_reminder_for_the_thresholds_it_passed(app, session, person):
    # The job was down from 95 to 20 days before: one reminder now (20 days), none for 90 or 30 later.
    run_direct(app, session, "expiry-reminders", days_before(95))
    counts = run_direct(app, session, "expiry-reminders", days_before(20))
    assert counts == {"reminded": 1, "due_credentials": 1, "renewed": 0}
    for days in (19, 10, 8):
        assert run_direct(app, session, "expiry-reminders", days_before(days)) == {
            "reminded": 0, "due_credentials": 0, "renewed": 0}
    run_direct(app, session, "expiry-reminders", days_before(3))  # the 7-day run was missed too
    assert [days for days, _ in reminders(session)] == [20, 3]


def test_the_reminder_is_in_the_interpreters_language_and_names_the_day(app, session, person):
    run_direct(app, session, "expiry-reminders", days_before(30))
    (message,) = messages(session, "credential_expiring")
    assert (message.recipient, message.locale) == ("amina@example.no", "nn")
    with app.app_context():
        subject, body = notifications.render(message)
    assert body.startswith("Hei Amina Ali,")
    assert "30. juni 2027" in subject
    assert "Statsautorisasjon som tolk (arabisk)" in body


def test_a_renewed_credential_is_reminded_again(app, session, person):
    run_direct(app, session, "expiry-reminders", days_before(7))
    credential = session.scalar(sa.select(Credential))
    credential.valid_until = EXPIRES + timedelta(days=365)
    session.commit()
    renewed_day = oslo(EXPIRES + timedelta(days=365 - 90), 7, 30)
    assert run_direct(app, session, "expiry-reminders", renewed_day)["reminded"] == 1
    assert [days for days, _ in reminders(session)] == [7, 90]


def test_a_credential_already_renewed_gets_no_reminder_until_the_renewal_is_revoked(app, session, person):
    """The interpreter renewed in time: "your credential expires in 30 days" would alarm them for nothing."""
    renewal = Credential(interpreter_id=person.id, type="authorisation", language_code="ar", state="verified",
                         issued_on=EXPIRES - timedelta(days=60), valid_until=EXPIRES + timedelta(days=5 * 365))
    session.add(renewal)
    session.commit()
    assert run_direct(app, session, "expiry-reminders", days_before(30)) == {
        "reminded": 0, "due_credentials": 1, "renewed": 1}
    assert messages(session) == []
    # A renewal that starts only after a gap is no renewal yet; nor is a revoked one.
    renewal = session.get(Credential, renewal.id)
    renewal.issued_on = EXPIRES + timedelta(days=2)
    session.commit()
    assert run_direct(app, session, "expiry-reminders", days_before(29))["reminded"] == 1
    renewal = session.get(Credential, renewal.id)
    renewal.issued_on, renewal.state = EXPIRES - timedelta(days=60), "revoked"
    session.commit()
    assert run_direct(app, session, "expiry-reminders", days_before(7))["reminded"] == 1
    assert [days for days, _ in reminders(session)] == [29, 7]


def test_expired_pending_and_open_ended_credentials_get_no_reminder(app, session):
    interpreter(session, "Sara Said", email="sara@example.no", today=date(2027, 1, 1), credentials=[
        ("basic_course", "so", {"state": "pending", "valid_until": EXPIRES}),
        ("bilingual_test", "so", {"state": "expired", "valid_until": EXPIRES}),
        ("translator", "so", {"valid_until": None}),
        ("tao", None, {"valid_until": EXPIRES - timedelta(days=40)})])  # already past at 30 days before
    assert run_direct(app, session, "expiry-reminders", days_before(30)) == {
        "reminded": 0, "due_credentials": 0, "renewed": 0}
    assert messages(session) == []
