"""The work queue: applications and waiting credentials, oldest first with their evidence; approval and rejection
change categories, the public register and booking search at once, and the person is told."""

import re
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
import sqlalchemy as sa
import time_machine

from registry.domain import applications, evidence, notifications
from registry.domain.availability import Slot, find_available
from registry.models import Application, AuditEntry, Booking, Credential, CredentialType, Interpreter, User
from tests.admin.conftest import PDF, apply, confirmed_booking, fresh, messages, oslo, work_always
from tests.helpers import interpreter, walk_pages

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
TUESDAY = date(2027, 3, 2)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def listed(client, query: str) -> list[str]:
    return re.findall(r'href="/register/\d+">([^<]+)</a>', client.get(f"/register?{query}").text)


def bookable(session, language: str, minimum: str = "E") -> list[str]:
    slot = Slot(language, minimum, "video", oslo(TUESDAY, 10), oslo(TUESDAY, 11))
    return [c.name for c in find_available(fresh(session), slot)]


def set_default_years(session, code: str, years: int | None) -> None:
    session.get(CredentialType, code).default_validity_years = years
    session.commit()


def credentials_of(session, name: str) -> dict[str, Credential]:
    rows = fresh(session).scalars(sa.select(Credential).join(Interpreter).where(Interpreter.name == name))
    return {c.type: c for c in rows}


# Applications to join -------------------------------------------------------------------------------

def test_the_queue_lists_applications_and_credentials_oldest_first_with_their_evidence(
        app, client, session, users, login, folders):
    second = apply(session, app, name="Berit Berg", email="berit@example.no")
    first = apply(session, app, name="Ali Ali", email="ali@example.no")
    fresh(session).get(Application, first.id).submitted_at = NOW - timedelta(days=3)
    session.get(Application, second.id).submitted_at = NOW - timedelta(days=1)
    omar = interpreter(session, "Omar Osman", credentials=[("authorisation", "ar")], email="omar@example.no")
    for name, days in (("Late Waiting", 1), ("Early Waiting", 5)):
        person = interpreter(session, name, credentials=[("authorisation", "pl")], email=f"{days}@example.no")
        session.add(Credential(interpreter_id=person.id, type="bachelor", language_code="pl", state="pending",
                               issued_on=date(2026, 1, 1), created_at=NOW - timedelta(days=days)))
    session.commit()
    assert omar.id

    login(client, users.admin)
    html = client.get("/admin/queue?lang=en").text
    applications_part, credentials_part = html.split('id="credentials-heading"')
    assert re.findall(r'<h3[^>]*><a class="ds-link" href="/admin/queue/applications/\d+">([^<]+)</a>',
                      applications_part) == ["Ali Ali", "Berit Berg"]
    assert re.findall(r'href="/admin/queue/credentials/\d+">([^:<]+):', credentials_part) == [
        "Early Waiting", "Late Waiting"]

    # The evidence opens beside the queue, for the registry admin only, and the viewing is audited.
    credential_id = credentials_of(session, "Ali Ali")["bilingual_test"].id
    link = f"/admin/credentials/{credential_id}/evidence"
    assert link in html
    response = client.get(link)
    assert response.status_code == 200 and response.data == PDF and response.mimetype == "application/pdf"
    viewed = fresh(session).scalars(sa.select(AuditEntry).where(AuditEntry.action == "evidence.viewed")).all()
    assert [(e.object_id, e.actor_label) for e in viewed] == [(str(credential_id), users.admin.email)]


def test_the_queue_pages_oldest_first_and_says_how_many_wait(app, client, session, users, login):
    """A page of each list, with how many wait in all: the whole queue on one page was 2.8-3.9 s and 9.5 MB of HTML
    for the bench data's 3,666 waiting credentials, with a query for each credential's interpreter's categories."""
    for n in range(5):
        person = interpreter(session, f"Waiting {n}", credentials=[("authorisation", "pl")], email=f"w{n}@example.no")
        session.add(Credential(interpreter_id=person.id, type="bachelor", language_code="pl", state="pending",
                               issued_on=date(2026, 1, 1), created_at=NOW - timedelta(days=10 - n)))
    session.commit()
    login(client, users.admin)
    saved, app.config["PAGE_SIZE"] = app.config["PAGE_SIZE"], 2
    try:
        pages = walk_pages(client, session, "/admin/queue?lang=en", r'href="/admin/queue/credentials/\d+">([^:<]+):')
    finally:
        app.config["PAGE_SIZE"] = saved
    for page in pages:
        assert "Credentials waiting (5)" in page.html
        assert ("This page shows 2 of them." in page.html) == (len(page.items) == 2)
    seen = [name for page in pages for name in page.items]
    statements = {page.statements for page in pages}
    pages = [len(page.items) for page in pages]
    assert seen == [f"Waiting {n}" for n in range(5)]
    assert len(pages) == 3 and pages[:2] == [2, 2]
    assert len(statements) == 1  # the same for two credentials of two interpreters as for one: no query for each
    refused = client.get("/admin/queue?lang=en&credentials=forged")
    assert refused.status_code == 400 and "The page link is not valid" in refused.text


def test_approving_an_application_lists_the_interpreter_at_once_and_invites_them(
        app, client, session, users, login, folders):
    set_default_years(session, "bilingual_test", 5)
    application = apply(session, app)
    person_id = application.interpreter_id
    ids = {c.type: c.id for c in credentials_of(session, "Amal Ahmed").values()}
    assert listed(client, "language=so") == [] and bookable(session, "so") == []

    login(client, users.admin)
    page = client.get(f"/admin/queue/applications/{application.id}")
    # Filled in with the type's default validity (five years after the date of issue).
    assert 'value="2031-06-01"' in page.text
    response = client.post(f"/admin/queue/applications/{application.id}/approve", data={
        f"a{application.id}-valid_until_{ids['bilingual_test']}": "",
        f"a{application.id}-valid_until_{ids['tao']}": "2030-12-31"})
    assert response.status_code == 303, response.text

    held = credentials_of(session, "Amal Ahmed")
    assert {t: (c.state, c.valid_until) for t, c in held.items()} == {
        "bilingual_test": ("verified", date(2031, 6, 1)), "tao": ("verified", date(2030, 12, 31))}
    assert held["tao"].verified_by_id == users.admin.id
    person = session.get(Interpreter, person_id)
    assert person.status == "active" and {q.language_code: q.category for q in person.qualifications} == {"so": "E"}
    assert listed(client, "language=so") == ["Amal Ahmed"]
    assert bookable(session, "so") == ["Amal Ahmed"]  # the register's default week: Monday to Friday 08-16
    assert session.get(Application, application.id).state == "approved"

    login_user = session.scalar(sa.select(User).where(User.interpreter_id == person_id))
    assert (login_user.email, login_user.role, login_user.locale) == ("amal@example.no", "interpreter", "en")
    [invitation] = messages(session, "invitation")
    assert invitation.recipient == "amal@example.no" and "/invitation/" in invitation.params["link"]
    actions = fresh(session).scalars(sa.select(AuditEntry.action).where(AuditEntry.actor_id == users.admin.id))
    assert {"application.approved", "credential.verified", "interpreter.status_changed", "user.invited"} <= set(
        actions)
    assert "Amal Ahmed" not in client.get("/admin/queue").text


def test_rejecting_an_application_needs_a_reason_and_sends_it(app, client, session, users, login, folders):
    application = apply(session, app)
    login(client, users.admin)
    url = f"/admin/queue/applications/{application.id}/reject"

    refused = client.post(url, data={f"ar{application.id}-reason": "  "})
    assert refused.status_code == 422
    assert fresh(session).get(Application, application.id).state == "pending"
    assert messages(session, "application_rejected") == []

    reason = "The bilingual test result could not be confirmed with the test provider."
    assert client.post(url, data={f"ar{application.id}-reason": reason}).status_code == 303
    application = fresh(session).get(Application, application.id)
    assert (application.state, application.decision_reason, application.decided_by_id) == (
        "rejected", reason, users.admin.id)
    assert {c.state for c in credentials_of(session, "Amal Ahmed").values()} == {"rejected"}
    assert session.get(Interpreter, application.interpreter_id).status == "inactive"
    assert session.scalar(sa.select(User).where(User.interpreter_id == application.interpreter_id)) is None
    [message] = messages(session, "application_rejected")
    assert message.recipient == "amal@example.no" and message.locale == "en"
    with app.test_request_context():
        subject, body = notifications.render(message)
    assert reason in body and "not approved" in subject
    assert listed(client, "q=Amal") == [] and bookable(session, "so") == []
    # Decided: a second decision is a conflict, and nothing changes.
    assert client.post(f"/admin/queue/applications/{application.id}/approve", data={}).status_code == 409


def test_rejection_error_is_shown_on_the_form(app, client, session, users, login, folders):
    application = apply(session, app)
    login(client, users.admin)
    response = client.post(f"/admin/queue/applications/{application.id}/reject?lang=en", data={})
    assert response.status_code == 422
    assert "Give the reason. The applicant sees it." in response.text
    assert f'href="#ar{application.id}-reason"' in response.text


# Waiting credentials of registered interpreters ---------------------------------------------------

@pytest.fixture
def omar(app, session, folders):
    """Omar, category C in Arabic, waiting for his bachelor's degree to be verified."""
    person = interpreter(session, "Omar Osman", credentials=[("authorisation", "ar")], email="omar@example.no",
                         today=NOW.date())
    work_always(session, person)
    claim = applications.CredentialClaim("bachelor", "ar", "2026-06-20",
                                         upload=evidence.Upload(BytesIO(PDF), "bachelor.pdf"))
    credential = applications.apply_for_credential(
        session, person, claim, today=NOW.date(), evidence_dir=app.config["EVIDENCE_DIR"], max_bytes=10 ** 7,
        actor=None)
    session.commit()
    return person.register_number, credential.id


def test_approving_a_credential_raises_the_category_in_search_and_booking_at_once(client, session, users, login,
                                                                                   omar):
    number, credential_id = omar
    assert listed(client, "language=ar&min_category=A") == [] and bookable(session, "ar", "A") == []
    login(client, users.admin)
    response = client.post(f"/admin/queue/credentials/{credential_id}/approve",
                           data={f"c{credential_id}-valid_until": "2032-06-19"})
    assert response.status_code == 303
    credential = fresh(session).get(Credential, credential_id)
    assert (credential.state, credential.valid_until) == ("verified", date(2032, 6, 19))
    assert listed(client, "language=ar&min_category=A") == ["Omar Osman"]
    assert bookable(session, "ar", "A") == ["Omar Osman"]
    [told] = messages(session, "credential_verified")
    assert told.recipient == "omar@example.no" and told.params["categories"] == {"ar": "A"}
    assert "Omar Osman" not in client.get("/admin/queue").text


def test_approving_a_credential_takes_the_warning_off_bookings_it_makes_his_again(client, session, users, login,
                                                                                  omar):
    """His bachelor's degree had run out, so a booking asking for A was marked; the renewed degree is verified: the
    mark goes and the booker is told the booking stands. A booking asking for more than he holds keeps its mark."""
    number, credential_id = omar
    person = fresh(session).scalar(sa.select(Interpreter).where(Interpreter.register_number == number))
    needs_a = confirmed_booking(session, person, users.agency_a, users.booker.id, oslo(TUESDAY, 10),
                                min_category="A", warn_not_qualified=True)
    other_language = confirmed_booking(session, person, users.agency_a, users.booker.id, oslo(TUESDAY, 12),
                                       language="so", warn_not_qualified=True)
    login(client, users.admin)
    assert client.post(f"/admin/queue/credentials/{credential_id}/approve",
                       data={f"c{credential_id}-valid_until": "2032-06-19"}).status_code == 303
    assert fresh(session).get(Booking, needs_a.id).warn_not_qualified is False
    assert fresh(session).get(Booking, other_language.id).warn_not_qualified is True  # he holds no Somali
    [told] = [m for m in messages(session, "booking_requalified") if m.recipient == users.booker.email]
    assert [b["booking_id"] for b in told.params["bookings"]] == [needs_a.id]


def test_rejecting_a_credential_sends_the_reason_and_changes_no_category(client, session, users, login, omar):
    number, credential_id = omar
    login(client, users.admin)
    reason = "The diploma is not legible. Send a clearer scan."
    assert client.post(f"/admin/queue/credentials/{credential_id}/reject",
                       data={f"cr{credential_id}-reason": reason}).status_code == 303
    credential = fresh(session).get(Credential, credential_id)
    assert (credential.state, credential.decision_reason) == ("rejected", reason)
    assert listed(client, "language=ar") == ["Omar Osman"]  # still C
    assert listed(client, "language=ar&min_category=A") == []
    [told] = messages(session, "credential_rejected")
    assert told.recipient == "omar@example.no" and told.params["reason"] == reason


@pytest.mark.parametrize("valid_until, message", [
    ("2027-02-28", "That date has passed"),
    ("2026-06-01", "cannot run out before it was issued"),
    ("31.02.2028", "Write the date as YYYY-MM-DD"),
])
def test_a_bad_valid_until_is_refused_and_nothing_changes(client, session, users, login, omar, valid_until,
                                                          message):
    number, credential_id = omar
    login(client, users.admin)
    response = client.post(f"/admin/queue/credentials/{credential_id}/approve?lang=en",
                           data={f"c{credential_id}-valid_until": valid_until})
    assert response.status_code == 422 and message in response.text
    assert fresh(session).get(Credential, credential_id).state == "pending"
    assert listed(client, "language=ar&min_category=A") == []


def test_a_credential_is_decided_once(client, session, users, login, omar):
    number, credential_id = omar
    login(client, users.admin)
    url = f"/admin/queue/credentials/{credential_id}"
    assert client.post(f"{url}/approve", data={f"c{credential_id}-valid_until": ""}).status_code == 303
    assert client.post(f"{url}/reject", data={f"cr{credential_id}-reason": "Too late"}).status_code == 409
    assert client.post(f"{url}/approve", data={}).status_code == 409
    assert fresh(session).get(Credential, credential_id).state == "verified"


def test_an_application_whose_email_is_someone_elses_login_is_not_approved(app, client, session, users, login,
                                                                           folders):
    application = apply(session, app, email=users.booker.email)
    login(client, users.admin)
    ids = [c.id for c in credentials_of(session, "Amal Ahmed").values()]
    response = client.post(f"/admin/queue/applications/{application.id}/approve?lang=en",
                           data={f"a{application.id}-valid_until_{i}": "" for i in ids})
    assert response.status_code == 409 and "already the login of someone else" in response.text
    assert fresh(session).get(Application, application.id).state == "pending"
    assert {c.state for c in credentials_of(session, "Amal Ahmed").values()} == {"pending"}
    assert session.get(Interpreter, application.interpreter_id).status == "inactive"
    assert messages(session, "invitation") == []
