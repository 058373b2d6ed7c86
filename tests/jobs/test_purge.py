"""purge-personal-data: what is past its retention period is deleted or made anonymous, once."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.models import (
    Application,
    AuditEntry,
    Booking,
    Credential,
    Interpreter,
    JobRun,
    OutboxMessage,
    UserSession,
)
from tests.helpers import interpreter, user
from tests.jobs.conftest import make_booking, run_direct

NOW = datetime(2028, 6, 1, 1, 30, tzinfo=UTC)


@pytest.fixture
def evidence_dir(app, tmp_path):
    saved = app.config["EVIDENCE_DIR"]
    app.config["EVIDENCE_DIR"] = str(tmp_path)
    yield tmp_path
    app.config["EVIDENCE_DIR"] = saved


def evidence_file(directory: Path, n: int) -> str:
    ref = f"{n:032x}"
    (directory / ref).write_bytes(b"%PDF-1.4 test")
    return ref


def test_booking_free_text_is_removed_a_year_after_the_assignment(app, session, booker):
    old = make_booking(session, booker, None, NOW - timedelta(days=366), status="cancelled",
                       cancel_reason="Pasienten er flyttet", contact_phone="+47 91234567", address="Storgata 1",
                       reference="Journal 12345678")
    recent = make_booking(session, booker, None, NOW - timedelta(days=300), status="cancelled")
    assert run_direct(app, session, "purge-personal-data", NOW)["booking_texts"] == 1
    session.rollback()
    gone, kept = session.get(Booking, old.id), session.get(Booking, recent.id)
    assert (gone.description, gone.cancel_reason, gone.contact_name, gone.contact_phone, gone.address,
            gone.meeting_url, gone.reference) == (None,) * 7
    assert (gone.status, gone.language_code, gone.starts_at) == ("cancelled", "ar", old.starts_at)
    assert kept.description == "Samtale om oppfølging"
    assert run_direct(app, session, "purge-personal-data", NOW + timedelta(hours=1))["booking_texts"] == 0


def test_evidence_of_rejected_applications_and_credentials_is_deleted(app, session, evidence_dir):
    applicant = interpreter(session, "Søker Avslått", email="soker@example.no", status="inactive")
    old_decision = NOW - timedelta(days=200)
    session.add(Application(interpreter_id=applicant.id, state="rejected", message="Jeg har tolket i ti år.",
                            decided_at=old_decision))
    refs = [evidence_file(evidence_dir, n) for n in range(4)]
    session.add_all([
        Credential(interpreter_id=applicant.id, type="basic_course", language_code="ar", state="rejected",
                   issued_on=date(2020, 1, 1), evidence_ref=refs[0], evidence_name="kurs.pdf",
                   verified_at=old_decision),
        Credential(interpreter_id=applicant.id, type="tao", state="pending", issued_on=date(2020, 1, 1),
                   evidence_ref=refs[1], evidence_name="tao.pdf"),
    ])
    other = interpreter(session, "Tolk Aktiv", email="aktiv@example.no")
    session.add_all([
        Credential(interpreter_id=other.id, type="authorisation", language_code="so", state="verified",
                   issued_on=date(2020, 1, 1), evidence_ref=refs[2], evidence_name="aut.pdf", verified_at=old_decision),
        Credential(interpreter_id=other.id, type="bachelor", language_code="so", state="rejected",
                   issued_on=date(2020, 1, 1), evidence_ref=refs[3], evidence_name="ba.pdf",
                   verified_at=NOW - timedelta(days=10)),
    ])
    session.commit()

    assert run_direct(app, session, "purge-personal-data", NOW)["evidence_files"] == 2
    assert sorted(p.name for p in evidence_dir.iterdir()) == refs[2:]
    session.rollback()
    assert session.scalars(sa.select(Credential.evidence_ref).order_by(Credential.id)).all() == [None, None] + refs[2:]
    assert session.scalar(sa.select(Application.message)) is None
    assert run_direct(app, session, "purge-personal-data", NOW + timedelta(days=1))["evidence_files"] == 0


def test_an_applicant_rejected_long_ago_who_never_joined_is_made_anonymous(app, session):
    """The decision stays; who the person was does not, once the time to appeal and apply again is long past."""
    def applicant(name, email, decided_days_ago, status="inactive"):
        person = interpreter(session, name, email=email, status=status, municipality_number="0301",
                             birth_date=date(1990, 5, 17))
        session.add(Application(interpreter_id=person.id, state="rejected", decided_at=NOW - timedelta(
            days=decided_days_ago), decision_reason="Kurset er ikke godkjent."))
        session.commit()
        return person.id, person.register_number

    old, old_number = applicant("Søker Gammel", "gammel@example.no", 181)
    recent, _ = applicant("Søker Ny", "ny@example.no", 179)
    joined_later, _ = applicant("Søker Aktiv", "aktiv@example.no", 400, status="active")
    assert run_direct(app, session, "purge-personal-data", NOW)["rejected_applicants"] == 1
    session.rollback()
    gone = session.get(Interpreter, old)
    assert (gone.name, gone.email, gone.phone, gone.birth_date, gone.municipality_number) == ("–", None, None, None,
                                                                                               None)
    assert gone.register_number == old_number and gone.status == "inactive"
    assert session.scalar(sa.select(Application.decision_reason).where(Application.interpreter_id == old))
    assert session.get(Interpreter, recent).email == "ny@example.no"
    assert session.get(Interpreter, joined_later).name == "Søker Aktiv"
    assert run_direct(app, session, "purge-personal-data", NOW + timedelta(hours=1))["rejected_applicants"] == 0


def test_ended_sessions_sent_mail_and_old_run_records_go(app, session):
    login = user(session, "bo@example.no")
    session.add_all([
        UserSession(id="old-ended", user_id=login.id, created_at=NOW - timedelta(days=120),
                    last_seen_at=NOW - timedelta(days=100), ended_at=NOW - timedelta(days=100), ip="10.0.0.1"),
        UserSession(id="old-idle", user_id=login.id, created_at=NOW - timedelta(days=120),
                    last_seen_at=NOW - timedelta(days=95), ip="10.0.0.2"),
        UserSession(id="recent", user_id=login.id, created_at=NOW - timedelta(days=2),
                    last_seen_at=NOW - timedelta(days=1), ended_at=NOW - timedelta(days=1), ip="10.0.0.3"),
        OutboxMessage(event_key="old-sent", kind="invitation", recipient="bo@example.no", user_id=login.id,
                      params={"name": "Bo", "link": "https://x"}, state="sent", sent_at=NOW - timedelta(days=91)),
        OutboxMessage(event_key="old-failed", kind="invitation", recipient="bo@example.no", params={"name": "Bo"},
                      state="failed", last_error="550 no such user", created_at=NOW - timedelta(days=91)),
        OutboxMessage(event_key="new-failed", kind="invitation", recipient="bo@example.no", params={"name": "Bo"},
                      state="failed", last_error="550 no such user", created_at=NOW - timedelta(days=89)),
        JobRun(job="deliver-outbox", period_key="old", as_of=NOW - timedelta(days=40),
               started_at=NOW - timedelta(days=40), outcome="ok"),
    ])
    session.commit()
    counts = run_direct(app, session, "purge-personal-data", NOW)
    assert (counts["sessions"], counts["sent_mail"], counts["job_runs"]) == (2, 2, 1)
    session.rollback()
    assert session.scalars(sa.select(UserSession.id)).all() == ["recent"]
    mail = {m.event_key: m for m in session.scalars(sa.select(OutboxMessage))}
    assert (mail["old-sent"].recipient, mail["old-sent"].params, mail["old-sent"].user_id) == ("", {}, None)
    assert (mail["old-failed"].recipient, mail["old-failed"].params) == ("", {})
    assert mail["new-failed"].recipient == "bo@example.no"  # a recent failure stays for the admins to see
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "personal_data.purged"))
    assert entry.after["sessions"] == 2 and entry.actor_label == "system"
    again = run_direct(app, session, "purge-personal-data", NOW + timedelta(hours=2))
    assert set(again.values()) == {0}
    assert session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 1
