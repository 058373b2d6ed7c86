"""Anyone may report a breach of good interpreting practice (DESIGN.md, tolkeloven § 19): a public form, a
report a registry administrator looks into, and nothing for the interpreter until then."""

import pytest
import sqlalchemy as sa

from registry.domain import notifications
from registry.models import AuditEntry, OutboxMessage, Sanction
from tests.helpers import interpreter, user


@pytest.fixture
def web(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield app
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def amina(session):
    person = interpreter(session, "Amina Ali", credentials=[("authorisation", "ar")], email="amina@example.no")
    user(session, "amina@example.no", role="interpreter", person=person)
    session.commit()
    return person.id, person.register_number


def report(client, number, text="She told the family what the patient had said to the doctor before.", **more):
    return client.post("/report?lang=en", data={"register_number": str(number), "what_happened": text, **more})


def test_a_report_is_recorded_for_an_administrator_and_the_reporter_thanked(web, session, amina):
    person_id, number = amina
    user(session, "admin@imdi.example", role="registry_admin", locale="nn")
    user(session, "gone@imdi.example", role="registry_admin", active=False)
    session.commit()
    client = web.test_client()
    page = client.get(f"/register/{number}?lang=en").text
    assert f'href="/report?number={number}"' in page
    form = client.get(f"/report?number={number}&lang=en").text
    assert f'value="{number}"' in form and "Never write the client" in form
    response = report(client, number, reporter_name="  Kari   Nordmann ", reporter_email="Kari@Example.no")
    assert response.status_code == 303 and response.location.endswith("/report/received")
    assert "Thank you for the report" in client.get("/report/received?lang=en").text
    assert client.get("/report/received").status_code == 302  # the receipt is shown once

    session.rollback()
    made = session.scalar(sa.select(Sanction))
    assert (made.interpreter_id, made.kind, made.decided_by_id) == (person_id, "report", None)
    assert made.reason == ("She told the family what the patient had said to the doctor before.\n\n"
                           "— Kari Nordmann, kari@example.no")
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sanction.reported"))
    assert (entry.actor_label, entry.object_id, entry.after["sanction_id"]) == ("public", str(person_id), made.id)
    assert "patient" not in str(entry.after)  # the report's text stays with the report
    # The administrators are told a report came; the interpreter is not (it is looked into first).
    (told,) = session.scalars(sa.select(OutboxMessage)).all()
    assert (told.kind, told.recipient, told.locale) == ("breach_reported", "admin@imdi.example", "nn")
    with web.app_context():
        subject, body = notifications.render(told)
    assert subject == "Brot på god tolkeskikk er meldt"
    assert f"Amina Ali (registernummer {number})" in body and "patient" not in body


def test_a_report_may_be_anonymous(web, session, amina):
    assert report(web.test_client(), amina[1]).status_code == 303
    session.rollback()
    assert "—" not in session.scalar(sa.select(Sanction.reason))


@pytest.mark.parametrize("number, text, more, field, message", [
    ("", "x", {}, "register_number", "A register number is written with digits only"),
    ("12a", "x", {}, "register_number", "A register number is written with digits only"),
    ("999999", "x", {}, "register_number", "No interpreter has the register number 999999"),
    (None, "   ", {}, "what_happened", "Say what happened."),
    (None, "x" * 4001, {}, "what_happened", "Write at most 4000 characters (now 4001)."),
    (None, "x", {"reporter_email": "kari"}, "reporter_email", "Enter a valid email address."),
    (None, "x", {"reporter_name": "K" * 201}, "reporter_name", "Write at most 200 characters (now 201)."),
])
def test_a_bad_report_is_refused_with_the_reason_and_nothing_is_recorded(web, session, amina, number, text, more,
                                                                         field, message):
    response = report(web.test_client(), amina[1] if number is None else number, text, **more)
    assert response.status_code == 422
    assert message in response.text and f'href="#{field}"' in response.text
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Sanction.id))) == 0


def test_reports_are_limited_per_address(web, session, amina):
    client = web.test_client()
    for _ in range(5):
        assert report(client, amina[1]).status_code == 303
    refused = report(client, amina[1])
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Sanction.id))) == 5


def test_the_administrator_sees_the_report_on_the_interpreters_record(web, session, amina, users, login, client):
    number = amina[1]
    report(web.test_client(), number, reporter_email="kari@example.no")
    login(client, users.admin)
    page = client.get(f"/admin/interpreters/{number}?lang=en").text
    assert "told the family what the patient" in page and "kari@example.no" in page
    latest = client.get("/admin/sanctions?lang=en").text
    assert f"Amina Ali</a> ({number})" in latest
