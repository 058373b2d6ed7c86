"""The interpreter record: everything on one page; corrections, credentials added directly, validity changed,
credentials revoked (categories and search follow at once), and the credential types' default validity."""

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from registry import paging
from registry.models import AuditEntry, Booking, Credential, CredentialType, Interpreter, Sanction
from tests.admin.conftest import confirmed_booking, fresh, messages, oslo, work_always
from tests.helpers import interpreter, walk_pages

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def amina(session, users):
    """Amina: A in Arabic (authorisation + bachelor), E in Somali (bilingual test + TAO), a coming booking."""
    person = interpreter(session, "Amina Ali", email="amina@example.no", birth_date=date(1985, 4, 2), today=TODAY,
                         credentials=[("authorisation", "ar"), ("bachelor", "ar", {"valid_until": date(2030, 1, 1)}),
                                      ("bilingual_test", "so"), ("tao", None), ("police_certificate", None)])
    work_always(session, person)
    booking = confirmed_booking(session, person, users.agency_a, users.booker.id, oslo(date(2027, 3, 9), 10),
                                min_category="A")
    return person.register_number, person.id, booking.id


def listed(client, query: str) -> list[str]:
    return re.findall(r'href="/register/\d+">([^<]+)</a>', client.get(f"/register?{query}").text)


def credential(session, person_id: int, kind: str) -> Credential:
    return fresh(session).scalar(sa.select(Credential).where(Credential.interpreter_id == person_id,
                                                             Credential.type == kind))


def test_the_record_shows_everything_about_the_interpreter(client, session, users, login, amina):
    number, person_id, booking_id = amina
    session.add(Sanction(interpreter_id=person_id, kind="warning", reason="Came late twice.",
                         decided_on=date(2026, 5, 1), starts_on=date(2026, 5, 1), decided_by_id=users.admin.id))
    session.commit()
    login(client, users.admin)
    client.post(f"/admin/interpreters/{number}/edit", data={
        "name": "Amina Ali", "gender": "female", "birth_date": "1985-04-02", "email": "amina@example.no",
        "phone": "+47 91234567", "county": "03", "modalities": ["onsite", "video", "phone"],
        "availability": "full_time", "status": "active"})
    html = client.get(f"/admin/interpreters/{number}?lang=en").text
    languages = html.split('id="languages-heading"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr>\s*<td>([^<]+)</td>\s*<td><span class=\"category\">([A-E])</span></td>\s*<td>(.*?)</td>",
                      languages, re.S)
    assert [(language, category) for language, category, _ in rows] == [("Arabic", "A"), ("Somali", "E")]
    behind = {language: re.findall(r"<li>([^,<]+),", cell) for language, _, cell in rows}
    assert behind == {"Arabic": ["State authorisation as interpreter", "Bachelor's degree in interpreting"],
                      "Somali": ["Bilingual test (Tospråktesten)",
                                 "Course on the interpreter's role and duties (TAO)"]}
    for text in ("Register number", "Apr 2, 1985", "Sykehuset Aust HF", "Came late twice.", "Counts (less than five",
                 "1 written warning counts", "Police certificate", "interpreter.corrected", "Full-time"):
        assert text in html, text
    assert f'href="/admin/audit?object_type=interpreter&amp;object_id={person_id}"' in html
    assert client.get(f"/admin/audit?object_type=interpreter&object_id={person_id}").status_code == 200


def test_corrections_are_saved_and_audited(client, session, users, login, amina):
    number, person_id, _ = amina
    login(client, users.admin)
    data = {"name": "  Amina   Hassan Ali ", "gender": "female", "birth_date": "02.04.1985", "email": "amina@ny.no",
            "phone": "", "county": "46", "municipality": "4601", "modalities": ["video"],
            "availability": "occasional", "status": "paused", "publish_contact": "y"}
    assert client.post(f"/admin/interpreters/{number}/edit", data=data).status_code == 303
    person = fresh(session).get(Interpreter, person_id)
    assert (person.name, person.name_key, person.email, person.phone, person.county_number,
            person.municipality_number, person.modalities, person.availability, person.status,
            person.publish_contact) == ("Amina Hassan Ali", "amina hassan ali", "amina@ny.no", None, "46", "4601",
                                        ["video"], "occasional", "paused", True)
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "interpreter.corrected"))
    assert entry.before["name"] == "Amina Ali" and entry.after["name"] == "Amina Hassan Ali"
    assert entry.before["status"] == "active" and entry.after["status"] == "paused"
    assert listed(client, "q=hassan") == ["Amina Hassan Ali"]  # paused interpreters stay listed


def test_a_name_of_full_length_that_folds_longer_is_saved_and_found(client, session, users, login, amina):
    """Case folding lengthens some letters ("ß" is "ss"): a name of the longest length allowed is still saved, and
    found and listed by its folded form, on PostgreSQL too, whose name_key column is as long as the name."""
    number, person_id, _ = amina
    name = ("Amina Weiß " * 19)[:200]
    assert len(name) == 200 and len(name.casefold()) > 200
    login(client, users.admin)
    data = {"name": name, "gender": "female", "birth_date": "", "email": "amina@example.no", "phone": "",
            "county": "03", "municipality": "", "modalities": ["video"], "availability": "part_time",
            "status": "active"}
    assert client.post(f"/admin/interpreters/{number}/edit", data=data).status_code == 303
    assert fresh(session).get(Interpreter, person_id).name == name
    assert listed(client, "q=amina+weiss") == [name.strip()]
    assert listed(client, "q=weiß+amina") == [name.strip()]


@pytest.mark.parametrize("field, value, message", [
    ("county", "99", "Unknown county number: 99"),
    ("municipality", "5001", "is not in Oslo"),
    ("name", "", "Enter the interpreter's full name"),
    ("birth_date", "2030-01-01", "cannot be in the future"),
    ("status", "suspended", "Choose active, paused or inactive"),
    ("email", "not-an-address", "email"),
])
def test_bad_corrections_are_refused_and_nothing_changes(client, session, users, login, amina, field, value,
                                                         message):
    number, person_id, _ = amina
    data = {"name": "Amina Ali", "gender": "female", "birth_date": "", "email": "amina@example.no", "phone": "",
            "county": "03", "municipality": "", "modalities": ["video"], "availability": "part_time",
            "status": "active", field: value}
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/edit?lang=en", data=data)
    assert response.status_code == 422 and message in response.text
    person = fresh(session).get(Interpreter, person_id)
    assert (person.county_number, person.status, person.modalities) == ("03", "active", ["onsite", "video", "phone"])


def test_an_inactive_status_takes_the_interpreter_out_and_flags_coming_bookings(client, session, users, login,
                                                                                 amina):
    number, person_id, booking_id = amina
    login(client, users.admin)
    client.post(f"/admin/interpreters/{number}/edit", data={
        "name": "Amina Ali", "gender": "female", "email": "amina@example.no", "county": "03",
        "modalities": ["video"], "availability": "part_time", "status": "inactive"})
    assert listed(client, "language=ar") == []
    assert fresh(session).get(Booking, booking_id).warn_not_qualified is True

    # Active again: the booking is hers to take again, so the warning goes and the booker is told.
    client.post(f"/admin/interpreters/{number}/edit", data={
        "name": "Amina Ali", "gender": "female", "email": "amina@example.no", "county": "03",
        "modalities": ["video"], "availability": "part_time", "status": "active"})
    assert fresh(session).get(Booking, booking_id).warn_not_qualified is False
    assert {m.recipient for m in messages(session, "booking_requalified")} == {users.booker.email, "amina@example.no"}


def test_a_credential_added_directly_counts_at_once(client, session, users, login, amina):
    number, person_id, _ = amina
    session.get(CredentialType, "authorisation").default_validity_years = 5
    session.commit()
    assert listed(client, "language=pl") == []
    # A Polish booking marked when her Polish credential had run out: the new one makes it hers again.
    polish = confirmed_booking(session, session.get(Interpreter, person_id), users.agency_a, users.booker.id,
                               oslo(date(2027, 3, 10), 10), language="pl", warn_not_qualified=True)
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/credentials", data={
        "cred-type": "authorisation", "cred-language": "pl", "cred-issued_on": "2027-02-01", "cred-valid_until": ""})
    assert response.status_code == 303, response.text
    added = fresh(session).scalar(sa.select(Credential).where(Credential.language_code == "pl"))
    assert (added.state, added.valid_until, added.verified_by_id) == ("verified", date(2032, 2, 1), users.admin.id)
    assert listed(client, "language=pl&min_category=C") == ["Amina Ali"]
    assert fresh(session).get(Booking, polish.id).warn_not_qualified is False
    # The same credential twice is refused.
    again = client.post(f"/admin/interpreters/{number}/credentials?lang=en", data={
        "cred-type": "authorisation", "cred-language": "pl", "cred-issued_on": "2027-02-01"})
    assert again.status_code == 409 and "already recorded" in again.text


def test_a_credential_with_a_future_date_is_refused(client, session, users, login, amina):
    number, person_id, _ = amina
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/credentials?lang=en", data={
        "cred-type": "bachelor", "cred-language": "pl", "cred-issued_on": "2027-03-02"})
    assert response.status_code == 422 and "cannot be in the future" in response.text
    assert fresh(session).scalar(sa.select(sa.func.count(Credential.id)).where(Credential.language_code == "pl")) == 0


def test_changing_valid_until_recomputes_at_once(client, session, users, login, amina):
    number, person_id, booking_id = amina
    bachelor = credential(session, person_id, "bachelor")
    url = f"/admin/interpreters/{number}/credentials/{bachelor.id}/valid-until"
    login(client, users.admin)
    assert listed(client, "language=ar&min_category=A") == ["Amina Ali"]

    assert client.post(url, data={f"vu{bachelor.id}-valid_until": "2027-02-28"}).status_code == 303
    assert (credential(session, person_id, "bachelor").state, listed(client, "language=ar&min_category=A")) == (
        "expired", [])
    assert listed(client, "language=ar") == ["Amina Ali"]  # C now: authorisation alone
    assert fresh(session).get(Booking, booking_id).warn_not_qualified is True  # the booking needs A
    assert {m.recipient for m in messages(session, "booking_flagged")} == {users.booker.email, "amina@example.no"}

    # Renewed: verified again, A again.
    assert client.post(url, data={f"vu{bachelor.id}-valid_until": "2031-12-31"}).status_code == 303
    renewed = credential(session, person_id, "bachelor")
    assert (renewed.state, renewed.valid_until) == ("verified", date(2031, 12, 31))
    assert listed(client, "language=ar&min_category=A") == ["Amina Ali"]
    assert fresh(session).get(Booking, booking_id).warn_not_qualified is False  # hers to take again
    assert {m.recipient for m in messages(session, "booking_requalified")} == {users.booker.email, "amina@example.no"}
    # Empty: no end date.
    assert client.post(url, data={f"vu{bachelor.id}-valid_until": ""}).status_code == 303
    assert credential(session, person_id, "bachelor").valid_until is None
    # Before the date of issue: refused.
    response = client.post(url + "?lang=en", data={f"vu{bachelor.id}-valid_until": "2019-12-31"})
    assert response.status_code == 422 and "cannot run out before it was issued" in response.text
    actions = fresh(session).scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "credential"))
    assert list(actions).count("credential.validity_changed") == 3


def test_revoking_a_credential_removes_the_category_at_once(client, session, users, login, amina):
    number, person_id, booking_id = amina
    test = credential(session, person_id, "bilingual_test")
    login(client, users.admin)
    url = f"/admin/interpreters/{number}/credentials/{test.id}/revoke"
    assert client.post(url + "?lang=en", data={f"rv{test.id}-reason": ""}).status_code == 422
    assert listed(client, "language=so") == ["Amina Ali"]
    assert client.post(url, data={f"rv{test.id}-reason": "The test result was annulled."}).status_code == 303
    revoked = credential(session, person_id, "bilingual_test")
    assert (revoked.state, revoked.decision_reason) == ("revoked", "The test result was annulled.")
    assert listed(client, "language=so") == [] and listed(client, "language=ar") == ["Amina Ali"]
    assert client.post(url, data={f"rv{test.id}-reason": "Again"}).status_code == 409


def test_someone_elses_credential_is_404(client, session, users, login, amina):
    number, person_id, _ = amina
    other = interpreter(session, "Omar Osman", credentials=[("authorisation", "ar")], email="o@example.no")
    theirs = credential(session, other.id, "authorisation")
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/credentials/{theirs.id}/valid-until",
                           data={f"vu{theirs.id}-valid_until": "2027-03-01"})
    assert response.status_code == 404
    assert client.get("/admin/interpreters/999999").status_code == 404


def test_the_interpreter_list_finds_any_status(client, session, users, login, amina):
    interpreter(session, "Sus Suspended", credentials=[("authorisation", "ar")], email="s@example.no",
                status="suspended")
    login(client, users.admin)
    html = client.get("/admin/interpreters?q=sus").text
    assert "Sus Suspended" in html and "Amina Ali" not in html
    html = client.get("/admin/interpreters?status=suspended").text
    assert "Sus Suspended" in html and "Amina Ali" not in html
    number = amina[0]
    assert f'href="/admin/interpreters/{number}"' in client.get(f"/admin/interpreters?q={number}").text
    # What only looks like a number (a digit int() refuses, or more digits than a register number has; each was
    # a 500) is searched for as a name, and finds no one.
    for q in ("\u00b2", "9" * 20):
        response = client.get("/admin/interpreters", query_string={"q": q})
        assert response.status_code == 200 and "/admin/interpreters/" + str(number) not in response.text


NAME_LINK = r'href="/admin/interpreters/\d+">([^<]+)</a>'


def test_the_interpreter_list_pages_by_name_and_says_how_many(app, client, session, users, login, amina):
    """Every interpreter once, in name order, a page at a time with as many statements on each: the list stopped at
    the first 100, so a status with more (1,503 paused in the bench data) could not be read to its end."""
    for n, name in enumerate(["Øystein Berg", "ola nordmann", "Åse Dahl", "Bjørn Ås", "Zara Zed"]):
        interpreter(session, name, credentials=[("authorisation", "pl")], email=f"p{n}@example.no",
                    status="inactive" if n % 2 else "active")
    everyone = fresh(session).scalars(sa.select(Interpreter.name).order_by(Interpreter.name_key, Interpreter.id)).all()
    assert len(everyone) == 8  # and the two of the web fixtures
    login(client, users.admin)
    saved, app.config["PAGE_SIZE"] = app.config["PAGE_SIZE"], 2
    try:
        pages = walk_pages(client, session, "/admin/interpreters?lang=en", NAME_LINK)
        inactive = walk_pages(client, session, "/admin/interpreters?lang=en&status=inactive&q=%C3%85S", NAME_LINK)
    finally:
        app.config["PAGE_SIZE"] = saved
    assert [name for page in pages for name in page.items] == everyone
    assert [len(page.items) for page in pages] == [2, 2, 2, 2]
    assert all("Interpreters by name (8)" in page.html and "This page shows 2 of them." in page.html
               for page in pages)
    assert len({page.statements for page in pages}) == 1  # no query for each interpreter's categories or county
    assert [name for page in inactive for name in page.items] == ["Bjørn Ås"]
    assert "Interpreters found (1)" in inactive[0].html and "This page shows" not in inactive[0].html


@pytest.mark.parametrize("cursor", ["forged", "agencies", "three", "text id"])
def test_a_forged_page_link_of_the_interpreter_list_is_a_clear_400(app, client, users, login, cursor):
    with app.test_request_context():
        value = {"forged": "forged", "agencies": paging.encode("agencies", ("amina ali", 1)),
                 "three": paging.encode("admin-interpreters", ("amina ali", 1, 2)),
                 "text id": paging.encode("admin-interpreters", ("amina ali", "1"))}[cursor]
    login(client, users.admin)
    response = client.get("/admin/interpreters", query_string={"lang": "en", "cursor": value})
    assert response.status_code == 400 and "The page link is not valid" in response.text


# Credential types ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, stored", [("5", 5), (" 50 ", 50), ("1", 1), ("", None)])
def test_default_validity_is_editable(client, session, users, login, value, stored):
    session.get(CredentialType, "police_certificate").default_validity_years = 3
    session.commit()
    login(client, users.admin)
    response = client.post("/admin/credential-types/police_certificate", data={"police_certificate-years": value})
    assert response.status_code == 303
    assert fresh(session).get(CredentialType, "police_certificate").default_validity_years == stored
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "credential_type.changed"))
    assert (entry.before, entry.after) == ({"default_validity_years": 3}, {"default_validity_years": stored})


# "\u00b2" passes str.isdigit, which int() refuses: it was a 500.
@pytest.mark.parametrize("value", ["0", "51", "2.5", "five", "-1", "\u00b2", "9" * 30])
def test_a_bad_default_validity_is_refused(client, session, users, login, value):
    login(client, users.admin)
    response = client.post("/admin/credential-types/tao?lang=en", data={"tao-years": value})
    assert response.status_code == 422 and "whole number of years from 1 to 50" in response.text
    assert 'href="#tao-years"' in response.text
    assert fresh(session).get(CredentialType, "tao").default_validity_years is None


def test_credential_types_page_and_unknown_type(client, users, login):
    login(client, users.admin)
    html = client.get("/admin/credential-types?lang=en").text
    assert html.count('<form method="post" action="/admin/credential-types/') == 7
    assert client.post("/admin/credential-types/diploma", data={"diploma-years": "3"}).status_code == 404
