"""Interpreter self-service (/me) and the public application (/apply), through HTTP on a real database.

Each request runs in its own app context (as in production), so the tests set up and check the database
in app contexts of their own, never around a request.
"""

import io
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from registry.domain import accounts
from registry.domain.clock import OSLO, oslo_date
from registry.extensions import db, limiter
from registry.models import (
    Absence,
    Application,
    AuditEntry,
    Booking,
    Credential,
    Interpreter,
    OutboxMessage,
    User,
    WorkingHours,
)
from tests import helpers

PASSWORD = "correct horse battery staple"
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOT_A_PDF = b"<html><script>alert('x')</script></html>"


# Fixtures -----------------------------------------------------------------------------------------

@pytest.fixture
def web(app, tmp_path):
    """The app with CSRF off (one test turns it on), cheap password hashing and a throwaway evidence folder."""
    overrides = {"WTF_CSRF_ENABLED": False, "PASSWORD_HASH_PROFILE": "CHEAPEST",
                 "EVIDENCE_DIR": str(tmp_path / "evidence")}
    saved = {key: app.config[key] for key in overrides if key in app.config}
    app.config.update(overrides)
    limiter.reset()
    yield app
    for key in overrides:
        app.config.pop(key, None)
    app.config.update(saved)
    limiter.reset()


@contextmanager
def database(app):
    with app.app_context():
        yield db.session


def make_interpreter(app, name: str, email: str, **fields) -> SimpleNamespace:
    """An interpreter (Arabic, category C) with a login."""
    with database(app) as session:
        person = helpers.interpreter(session, name=name, email=email, credentials=[("authorisation", "ar")],
                                     today=oslo_date(), **fields)
        user = accounts.create_user(session, email, name, "interpreter", interpreter=person)
        accounts.set_password(user, PASSWORD, "CHEAPEST")
        session.commit()
        return SimpleNamespace(id=person.id, user_id=user.id, email=email, name=name,
                               register_number=person.register_number)


def login(client, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.text


@pytest.fixture
def amina(web):
    return make_interpreter(web, "Amina Hussein", "amina@example.no", municipality_number="0301")


@pytest.fixture
def omar(web):
    return make_interpreter(web, "Omar Ali", "omar@example.no", county="46")


@pytest.fixture
def me(web, amina):
    client = web.test_client()
    login(client, amina.email)
    return client


@pytest.fixture
def them(web, omar):
    client = web.test_client()
    login(client, omar.email)
    return client


def fetch(app, model, *where, order=()):
    with database(app) as session:
        order = order if isinstance(order, tuple) else (order,)
        return session.scalars(sa.select(model).where(*where).order_by(*order)).all()


def interpreter_row(app, id: int) -> Interpreter:
    with database(app) as session:
        return session.get(Interpreter, id)


def audit_of(app, action: str) -> list[AuditEntry]:
    return fetch(app, AuditEntry, AuditEntry.action == action, order=AuditEntry.id)


def stored_files(app) -> list:
    from pathlib import Path

    folder = Path(app.config["EVIDENCE_DIR"])
    return sorted(folder.iterdir()) if folder.exists() else []


def assert_refused(response, *messages):
    """422 with the error summary, every message, and each field error linked to its input."""
    assert response.status_code == 422, response.text[:2000]
    assert 'class="ds-alert" data-color="danger"' in response.text
    for message in messages:
        assert message in response.text
    for error_id in re.findall(r'id="([\w-]+)-error"', response.text):
        assert re.search(rf'aria-describedby="[^"]*\b{error_id}-error\b', response.text), error_id


# Access -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/me/", "/me/profile", "/me/hours", "/me/absences", "/me/credentials/new",
                                  "/me/credentials/1/evidence"])
def test_pages_need_an_interpreter_login(web, client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_other_roles_are_refused(web, client):
    with database(web) as session:
        agency = accounts.create_agency(session, "974760673", "Helse Test", "health")
        user = accounts.create_user(session, "booker@example.no", "Booker", "booker", agency=agency)
        accounts.set_password(user, PASSWORD, "CHEAPEST")
        session.commit()
    login(client, "booker@example.no")
    assert client.get("/me/profile").status_code == 403
    assert client.post("/me/absences", data={}).status_code == 403


# Overview -----------------------------------------------------------------------------------------

def test_overview_shows_the_interpreters_own_details(web, me, amina):
    with database(web) as session:
        session.add(WorkingHours(interpreter_id=amina.id, weekday=0, start_time=datetime(2000, 1, 1, 8).time(),
                                 end_time=datetime(2000, 1, 1, 16).time()))
        session.add(Absence(interpreter_id=amina.id, starts_at=datetime.now(UTC) + timedelta(days=3),
                            ends_at=datetime.now(UTC) + timedelta(days=4), note="Holiday"))
        session.commit()
    html = me.get("/me/?lang=en").text
    assert "Amina Hussein" in html
    assert str(amina.register_number) in html
    assert "Arabic" in html and "C: state authorised" in html
    assert "State authorisation as interpreter" in html and "Verified" in html
    assert "08:00–16:00" in html
    assert "Holiday" in html
    for link in ("/me/profile", "/me/hours", "/me/absences", "/me/credentials/new"):
        assert f'href="{link}"' in html


# Profile ------------------------------------------------------------------------------------------

GOOD_PROFILE = {"email": "amina.h@example.no", "phone": "912 34 567", "publish_contact": "y", "county": "46",
                "municipality": "4601", "modalities": ["onsite", "phone"], "availability": "full_time"}


def test_profile_form_shows_current_values(web, me):
    html = me.get("/me/profile?lang=en").text
    assert 'value="amina@example.no"' in html
    assert re.search(r'<option value="0301" selected>Oslo</option>', html)
    assert '<legend class="ds-label">Ways of working</legend>' in html


def test_profile_edit_saves_and_is_audited(web, me, amina):
    response = me.post("/me/profile", data=GOOD_PROFILE)
    assert response.status_code == 303
    row = interpreter_row(web, amina.id)
    assert (row.email, row.phone, row.publish_contact) == ("amina.h@example.no", "+47 91 23 45 67", True)
    assert (row.county_number, row.municipality_number, row.availability) == ("46", "4601", "full_time")
    assert row.modalities == ["onsite", "phone"]
    [entry] = audit_of(web, "interpreter.profile_changed")
    assert entry.actor_id == amina.user_id and entry.object_id == str(amina.id)
    assert entry.before["county_number"] == "03" and entry.after["county_number"] == "46"
    assert entry.before["offers_video"] is True and entry.after["offers_video"] is False
    assert "name" not in entry.after


def test_saving_an_unchanged_profile_writes_no_audit_entry(web, me):
    me.post("/me/profile", data=GOOD_PROFILE)
    me.post("/me/profile", data=GOOD_PROFILE)
    assert len(audit_of(web, "interpreter.profile_changed")) == 1


@pytest.mark.parametrize("change, field, message", [
    ({"phone": "12"}, "phone", "Enter a valid phone number"),
    ({"phone": "+47 1234"}, "phone", "Enter a valid phone number"),
    ({"email": "not-an-email"}, "email", "Enter a valid email address."),
    ({"county": "46", "municipality": "0301"}, "municipality", "Oslo is not in Vestland."),
    ({"county": "99"}, "county", "Unknown county number: 99"),
    ({"municipality": "9999"}, "municipality", "Unknown municipality number: 9999"),
    ({"modalities": []}, "modalities", "Choose at least one way of working."),
    ({"modalities": ["onsite", "telepathy"]}, "modalities", "on site, video and phone"),
    ({"availability": "always"}, "availability", "Choose how much you can work"),
])
def test_profile_bad_input_is_refused_and_changes_nothing(web, me, amina, change, field, message):
    response = me.post("/me/profile?lang=en", data={**GOOD_PROFILE, **change})
    assert_refused(response, message)
    assert f'id="{field}-error"' in response.text
    row = interpreter_row(web, amina.id)
    assert (row.email, row.county_number, row.municipality_number) == ("amina@example.no", "03", "0301")
    assert audit_of(web, "interpreter.profile_changed") == []


def test_every_bad_field_is_reported_at_once(web, me):
    response = me.post("/me/profile?lang=en", data={**GOOD_PROFILE, "phone": "12", "modalities": []})
    assert_refused(response, "Enter a valid phone number", "Choose at least one way of working.")


def test_an_interpreter_cannot_edit_another_interpreters_profile(web, me, amina, omar):
    """There is no id in the URL; ids slipped into the form are ignored."""
    me.post("/me/profile", data={**GOOD_PROFILE, "id": omar.id, "interpreter_id": omar.id,
                                 "register_number": omar.register_number})
    assert interpreter_row(web, omar.id).email == "omar@example.no"
    assert interpreter_row(web, amina.id).email == "amina.h@example.no"


def test_a_post_without_csrf_token_is_refused(web, me, amina):
    web.config["WTF_CSRF_ENABLED"] = True
    response = me.post("/me/profile", data=GOOD_PROFILE)
    assert response.status_code == 400
    assert interpreter_row(web, amina.id).email == "amina@example.no"
    assert audit_of(web, "interpreter.profile_changed") == []
    assert me.post("/me/absences", data={"starts_at": "2030-01-01T08:00"}).status_code == 400
    assert fetch(web, Absence) == []


# Working hours ------------------------------------------------------------------------------------

def hours_of(app, interpreter_id: int) -> list[tuple[int, str, str]]:
    rows = fetch(app, WorkingHours, WorkingHours.interpreter_id == interpreter_id,
                 order=(WorkingHours.weekday, WorkingHours.start_time))
    return [(h.weekday, h.start_time.strftime("%H:%M"), h.end_time.strftime("%H:%M")) for h in rows]


def test_hours_form_has_a_fieldset_per_weekday(web, me):
    html = me.get("/me/hours?lang=en").text
    legends = re.findall(r'<legend class="ds-heading" data-size="xs">(\w+)</legend>', html)
    assert legends == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert html.count('type="time"') == 28


def test_hours_are_saved_replaced_and_audited(web, me, amina):
    response = me.post("/me/hours", data={"d0_1_start": "08:00", "d0_1_end": "12:00", "d0_2_start": "12:00",
                                          "d0_2_end": "16.30", "d4_1_start": "9:00", "d4_1_end": "15:00"})
    assert response.status_code == 303
    assert hours_of(web, amina.id) == [(0, "08:00", "12:00"), (0, "12:00", "16:30"), (4, "09:00", "15:00")]
    assert 'value="16:30"' in me.get("/me/hours").text
    me.post("/me/hours", data={"d1_1_start": "10:00", "d1_1_end": "14:00"})
    assert hours_of(web, amina.id) == [(1, "10:00", "14:00")]
    entries = audit_of(web, "interpreter.hours_changed")
    assert len(entries) == 2
    assert entries[1].before["hours"][0] == {"weekday": 0, "start": "08:00", "end": "12:00"}
    assert entries[1].after["hours"] == [{"weekday": 1, "start": "10:00", "end": "14:00"}]


@pytest.mark.parametrize("data, field, message", [
    ({"d0_1_start": "08:00", "d0_1_end": "12:00", "d0_2_start": "11:00", "d0_2_end": "13:00"},
     "d0_2_start", "The period overlaps 08:00–12:00 on the same day."),
    ({"d2_1_start": "16:00", "d2_1_end": "08:00"}, "d2_1_end", "The period must end after it starts"),
    ({"d2_1_start": "08:00", "d2_1_end": "08:00"}, "d2_1_end", "The period must end after it starts"),
    ({"d3_1_start": "08:00"}, "d3_1_end", "Fill in both"),
    ({"d3_1_start": "8am", "d3_1_end": "12:00"}, "d3_1_start", "such as 08:30"),
    ({"d3_1_start": "24:00", "d3_1_end": "12:00"}, "d3_1_start", "such as 08:30"),
])
def test_bad_hours_are_refused_and_change_nothing(web, me, amina, data, field, message):
    me.post("/me/hours", data={"d6_1_start": "10:00", "d6_1_end": "12:00"})
    response = me.post("/me/hours?lang=en", data=data)
    assert_refused(response, message)
    assert f'id="{field}-error"' in response.text
    assert hours_of(web, amina.id) == [(6, "10:00", "12:00")]
    assert len(audit_of(web, "interpreter.hours_changed")) == 1


# Absences -----------------------------------------------------------------------------------------

def last_sunday(year: int, month: int) -> date:
    day = date(year, month, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_clock_change(month: int) -> date:
    """The next last Sunday of March (clocks forward) or October (clocks back) at least a day ahead."""
    today = oslo_date()
    return next(d for d in (last_sunday(today.year + n, month) for n in range(3)) if d > today + timedelta(days=1))


def local(day: date, hour: int, minute: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def soon(days: int) -> date:
    return oslo_date() + timedelta(days=days)


def test_an_absence_is_stored_in_utc_and_audited(web, me, amina):
    day = soon(20)
    response = me.post("/me/absences", data={"starts_at": local(day, 8), "ends_at": local(day + timedelta(days=2), 16),
                                            "note": "Course"})
    assert response.status_code == 303
    [absence] = fetch(web, Absence)
    expected = datetime(day.year, day.month, day.day, 8, tzinfo=OSLO).astimezone(UTC)
    assert absence.starts_at == expected and absence.starts_at.tzinfo is not None
    assert absence.interpreter_id == amina.id and absence.note == "Course"
    [entry] = audit_of(web, "absence.added")
    assert entry.actor_id == amina.user_id and entry.object_id == str(absence.id)
    assert "Course" in me.get("/me/absences").text


def test_an_absence_over_held_assignments_says_they_still_stand(web, me, amina):
    """The absence stops new bookings; the assignments already held stay, and an interpreter who forgot them was
    not told. The public body expected them to come."""
    day = soon(20)
    with database(web) as session:
        booker = helpers.user(session, "booker@helse.example")
        for hour, status in ((9, "confirmed"), (13, "requested"), (15, "cancelled")):
            start = datetime(day.year, day.month, day.day, hour, tzinfo=OSLO).astimezone(UTC)
            session.add(Booking(agency_id=booker.agency_id, booker_id=booker.id, interpreter_id=amina.id,
                                status=status, language_code="ar", min_category="C", modality="video",
                                starts_at=start, ends_at=start + timedelta(hours=1), sector="health",
                                created_at=start - timedelta(days=9), updated_at=start - timedelta(days=9)))
        session.commit()
    response = me.post("/me/absences?lang=en", data={"starts_at": local(day, 8), "ends_at": local(day, 16)},
                       follow_redirects=True)
    assert "You have 2 assignments in this period. They still stand" in response.text
    response = me.post("/me/absences?lang=nb", data={"starts_at": local(day, 12), "ends_at": local(day, 14)},
                       follow_redirects=True)
    assert "Du har 1 oppdrag i denne perioden" in response.text
    response = me.post("/me/absences?lang=en", data={"starts_at": local(day + timedelta(days=1), 8),
                                                     "ends_at": local(day + timedelta(days=1), 16)},
                       follow_redirects=True)
    assert "The absence is registered." in response.text and "still stand" not in response.text
    assert len(fetch(web, Absence)) == 3


def test_an_ambiguous_time_is_its_first_occurrence(web, me):
    day = next_clock_change(10)
    assert me.post("/me/absences", data={"starts_at": local(day, 2, 30), "ends_at": local(day, 6)}).status_code == 303
    [absence] = fetch(web, Absence)
    # 02:30 happens twice that night; the first is still summer time, UTC+2.
    assert absence.starts_at == datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)


def test_absence_form_explains_ambiguous_times(web, me):
    assert "counts as the first time it happens" in me.get("/me/absences?lang=en").text


@pytest.mark.parametrize("case, field, message", [
    ("gap", "starts_at", "does not exist in Norway"),
    ("past", "ends_at", "That time has passed."),
    ("reversed", "ends_at", "The absence must end after it starts."),
    ("too_far", "ends_at", "at most 2 years ahead"),
    ("garbage", "starts_at", "Enter a date and time"),
    ("no_start", "starts_at", "Enter when the absence starts."),
    ("long_note", "note", "Write at most 200 characters"),
])
def test_bad_absences_are_refused(web, me, case, field, message):
    gap = next_clock_change(3)
    start, end, note = local(soon(5), 8), local(soon(6), 8), ""
    if case == "gap":
        start, end = local(gap, 2, 30), local(gap, 10)
    elif case == "past":
        start, end = local(soon(-3), 8), local(soon(-2), 8)
    elif case == "reversed":
        start, end = end, start
    elif case == "too_far":
        end = local(soon(2 * 366 + 2), 8)
    elif case == "garbage":
        start = "next Monday"
    elif case == "no_start":
        start = ""
    elif case == "long_note":
        note = "x" * 201
    response = me.post("/me/absences?lang=en", data={"starts_at": start, "ends_at": end, "note": note})
    assert_refused(response, message)
    assert f'id="{field}-error"' in response.text
    assert fetch(web, Absence) == [] and audit_of(web, "absence.added") == []


def test_an_interpreter_deletes_only_their_own_absences(web, me, them, amina, omar):
    day = soon(10)
    for client in (me, them):
        client.post("/me/absences", data={"starts_at": local(day, 8), "ends_at": local(day, 16)})
    mine, theirs = (fetch(web, Absence, Absence.interpreter_id == i)[0] for i in (amina.id, omar.id))
    their_page = them.get("/me/absences").text
    assert f"/me/absences/{theirs.id}/delete" in their_page and f"/me/absences/{mine.id}/delete" not in their_page
    assert me.post(f"/me/absences/{theirs.id}/delete").status_code == 404
    assert me.post("/me/absences/999999/delete").status_code == 404
    assert len(fetch(web, Absence)) == 2
    assert me.post(f"/me/absences/{mine.id}/delete").status_code == 303
    assert [a.id for a in fetch(web, Absence)] == [theirs.id]
    [entry] = audit_of(web, "absence.deleted")
    assert entry.object_id == str(mine.id) and entry.before["interpreter_id"] == amina.id


# Credentials and evidence -------------------------------------------------------------------------

@dataclass(frozen=True)
class File:
    """A file to upload; made into a fresh stream for each request (the test client closes it)."""

    content: bytes
    name: str
    content_type: str


def upload(content: bytes, name: str = "diploma.pdf", content_type: str = "application/pdf") -> File:
    return File(content, name, content_type)


def form_data(data: dict) -> dict:
    return {k: (io.BytesIO(v.content), v.name, v.content_type) if isinstance(v, File) else v
            for k, v in data.items() if v is not None}


def credential_form(**change):
    data = {"type": "bachelor", "language": "so", "issued_on": "2020-06-15", "valid_until": "",
            "evidence": upload(PDF)}
    data.update(change)
    return form_data(data)


def test_a_good_upload_creates_a_pending_credential(web, me, amina):
    response = me.post("/me/credentials/new", data=credential_form(evidence=upload(PDF, "Vitnemål 2020.pdf")),
                       content_type="multipart/form-data")
    assert response.status_code == 303
    [credential] = fetch(web, Credential, Credential.language_code == "so")
    assert (credential.state, credential.type, credential.interpreter_id) == ("pending", "bachelor", amina.id)
    assert credential.evidence_name == "Vitnemål 2020.pdf" and credential.evidence_type == "application/pdf"
    assert re.fullmatch(r"[0-9a-f]{32}", credential.evidence_ref)
    [path] = stored_files(web)
    assert path.name == credential.evidence_ref and path.read_bytes() == PDF
    assert "static" not in str(path)
    with database(web) as session:  # pending credentials give no category
        assert [q.language_code for q in session.get(Interpreter, amina.id).qualifications] == ["ar"]
    [entry] = audit_of(web, "credential.applied")
    assert entry.after["state"] == "pending" and entry.after["language"] == "so"
    assert "Waiting for verification" in me.get("/me/?lang=en").text


def test_evidence_is_shown_to_its_owner_only_and_every_view_is_audited(web, me, them, amina):
    me.post("/me/credentials/new", data=credential_form(evidence=upload(PNG, "scan.png", "image/png")),
            content_type="multipart/form-data")
    [credential] = fetch(web, Credential, Credential.state == "pending")
    url = f"/me/credentials/{credential.id}/evidence"
    for _ in range(2):
        response = me.get(url)
        assert response.status_code == 200
        assert response.data == PNG
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"].startswith("attachment")
        assert "scan.png" in response.headers["Content-Disposition"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()
    assert them.get(url).status_code == 404
    assert them.get("/me/credentials/999999/evidence").status_code == 404
    entries = audit_of(web, "evidence.viewed")
    assert [(e.actor_id, e.object_id) for e in entries] == [(amina.user_id, str(credential.id))] * 2


def credential_count(app) -> int:
    return len(fetch(app, Credential))


@pytest.mark.parametrize("change, field, message", [
    ({"language": "xx"}, "language", "Unknown language code: xx"),
    ({"language": ""}, "language", "Choose the language the credential is for."),
    ({"type": "tao", "language": "ar"}, "language", "This credential is not for one language."),
    ({"type": "police_certificate", "language": "so"}, "language", "This credential is not for one language."),
    ({"type": "wizard"}, "type", "Choose the kind of credential."),
    ({"issued_on": "2999-01-01"}, "issued_on", "The date of issue cannot be in the future."),
    ({"issued_on": ""}, "issued_on", "Enter the date the credential was issued."),
    ({"issued_on": "15th June"}, "issued_on", "Write the date as YYYY-MM-DD"),
    ({"valid_until": "2019-01-01"}, "valid_until", "The credential cannot run out before it was issued."),
    ({"evidence": upload(NOT_A_PDF, "diploma.pdf", "application/pdf")}, "evidence", "is not a PDF, JPEG or PNG"),
    ({"evidence": upload(b"", "empty.pdf")}, "evidence", "The file is empty."),
    ({"evidence": None}, "evidence", "Attach the evidence"),
])
def test_bad_credential_applications_store_nothing(web, me, change, field, message):
    before = credential_count(web)
    response = me.post("/me/credentials/new?lang=en", data=credential_form(**change),
                       content_type="multipart/form-data")
    assert_refused(response, message)
    assert f'id="{field}-error"' in response.text
    assert credential_count(web) == before
    assert stored_files(web) == []
    assert audit_of(web, "credential.applied") == []


def test_a_tao_credential_needs_no_language(web, me):
    response = me.post("/me/credentials/new", data=credential_form(type="tao", language=""),
                       content_type="multipart/form-data")
    assert response.status_code == 303
    [tao] = fetch(web, Credential, Credential.type == "tao")
    assert tao.language_code is None and tao.state == "pending"


def test_a_file_over_the_limit_but_under_the_request_limit_is_refused(web, me):
    big = b"%PDF-" + b"0" * (web.config["MAX_UPLOAD_MB"] * 1024 * 1024)
    response = me.post("/me/credentials/new?lang=en", data=credential_form(evidence=upload(big)),
                       content_type="multipart/form-data")
    assert_refused(response, "The file is larger than 10 MB.")
    assert stored_files(web) == [] and fetch(web, Credential, Credential.state == "pending") == []


@pytest.mark.parametrize("csrf", [False, True], ids=["form", "csrf-check-first"])
def test_a_50_mb_upload_gets_the_translated_413_page_and_stores_nothing(web, me, csrf):
    web.config["WTF_CSRF_ENABLED"] = csrf  # with CSRF on, the token check reads the body first
    huge = b"%PDF-" + b"0" * (50 * 1024 * 1024)
    response = me.post("/me/credentials/new", data=credential_form(evidence=upload(huge)),
                       content_type="multipart/form-data", headers={"Accept-Language": "nb"})
    assert response.status_code == 413
    assert "Filen er for stor" in response.text  # errors.py's title, in bokmål
    assert stored_files(web) == [] and fetch(web, Credential, Credential.state == "pending") == []


# The public application ---------------------------------------------------------------------------

def application_form(**change):
    data = {
        "name": "Leyla Rahimi", "email": "Leyla@Example.no", "phone": "+47 412 34 567", "gender": "female",
        "county": "46", "municipality": "4601", "birth_date": "1990-04-12",
        "lang1_language": "fa", "lang1_type": "bilingual_test", "lang1_issued_on": "2023-05-01",
        "lang1_valid_until": "", "lang1_evidence": upload(PDF, "tospraktesten.pdf"),
        "lang2_language": "prs", "lang2_type": "basic_course", "lang2_issued_on": "2024-01-10",
        "lang2_evidence": upload(PNG, "grunnemne.png", "image/png"),
        "lang3_language": "", "lang3_type": "", "lang3_issued_on": "",
        "tao_issued_on": "2023-09-01", "tao_evidence": upload(PDF, "tao.pdf"),
        "message": "I also interpret Pashto.",
    }
    data.update(change)
    return form_data(data)


def test_the_application_form_is_public(web, client):
    response = client.get("/apply?lang=en")
    assert response.status_code == 200
    assert "Apply to the Interpreter Register" in response.text
    assert 'enctype="multipart/form-data"' in response.text


def test_an_application_creates_an_inactive_interpreter_and_queues_a_receipt(web, client):
    response = client.post("/apply", data=application_form(), content_type="multipart/form-data")
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply/received")
    receipt = client.get("/apply/received?lang=en").text
    assert "What happens next" in receipt and "leyla@example.no" in receipt
    [person] = fetch(web, Interpreter)
    assert (person.name, person.status, person.email) == ("Leyla Rahimi", "inactive", "leyla@example.no")
    assert (person.phone, person.county_number, person.municipality_number) == ("+47 41 23 45 67", "46", "4601")
    assert person.birth_date == date(1990, 4, 12) and person.publish_contact is False
    assert str(person.register_number) in receipt
    credentials = fetch(web, Credential, order=Credential.id)
    assert [(c.type, c.language_code, c.state) for c in credentials] == [
        ("bilingual_test", "fa", "pending"), ("basic_course", "prs", "pending"), ("tao", None, "pending")]
    assert sorted(p.name for p in stored_files(web)) == sorted(c.evidence_ref for c in credentials)
    [application] = fetch(web, Application)
    assert (application.state, application.interpreter_id) == ("pending", person.id)
    assert application.message == "I also interpret Pashto."
    [mail] = fetch(web, OutboxMessage)
    assert (mail.kind, mail.recipient, mail.state) == ("application_received", "leyla@example.no", "queued")
    [entry] = audit_of(web, "application.submitted")
    assert entry.object_id == str(application.id) and entry.actor_label == "leyla@example.no"
    assert "birth_date" not in str(entry.after)
    # Not listed anywhere public.
    assert f'href="/register/{person.register_number}"' not in client.get("/register?q=Leyla").text
    assert client.get(f"/register/{person.register_number}").status_code == 404


def test_the_receipt_email_is_in_the_applicants_language(web, client):
    client.post("/apply?lang=en", data=application_form(), content_type="multipart/form-data")
    from registry.domain.notifications import render

    [mail] = fetch(web, OutboxMessage)
    assert mail.locale == "en"
    with web.test_request_context():
        subject, body = render(mail)
    assert subject == "We have received your application to the Interpreter Register"
    assert "Persian" in body and "Leyla Rahimi" in body


@pytest.mark.parametrize("change, field, message", [
    ({"lang1_language": "", "lang1_type": "", "lang1_issued_on": "", "lang1_evidence": None,
      "lang2_language": "", "lang2_type": "", "lang2_issued_on": "", "lang2_evidence": None},
     "lang1_language", "Add at least one language"),
    ({"lang1_evidence": None}, "lang1_evidence", "Attach the evidence"),
    ({"lang2_evidence": upload(NOT_A_PDF, "fake.png", "image/png")}, "lang2_evidence", "is not a PDF, JPEG or PNG"),
    ({"lang1_language": "klingon"}, "lang1_language", "Unknown language code"),
    ({"lang1_issued_on": "2999-01-01"}, "lang1_issued_on", "cannot be in the future"),
    ({"tao_evidence": None}, "tao_evidence", "Attach the evidence"),
    ({"birth_date": (date.today() - timedelta(days=365 * 10)).isoformat()}, "birth_date", "at least 18"),
    ({"birth_date": "1910-01-01"}, "birth_date", "the year looks wrong"),
    ({"name": ""}, "name", "Enter your full name."),
    ({"email": ""}, "email", "Enter your email address."),
    ({"phone": "555"}, "phone", "Enter a valid phone number"),
    ({"gender": None}, "gender", "Choose a gender."),
    ({"municipality": "0301"}, "municipality", "Oslo is not in Vestland."),
    ({"message": "x" * 1001}, "message", "Write at most 1000 characters"),
])
def test_a_bad_application_creates_nothing(web, client, change, field, message):
    response = client.post("/apply?lang=en", data=application_form(**change), content_type="multipart/form-data")
    assert_refused(response, message)
    assert f'id="{field}-error"' in response.text
    assert fetch(web, Interpreter) == [] and fetch(web, Application) == [] and fetch(web, OutboxMessage) == []
    assert stored_files(web) == []


def test_applications_are_rate_limited_per_address(web, client):
    web.config["APPLY_RATE_LIMIT"] = "2 per hour"
    try:
        statuses = [client.post("/apply", data={"name": ""}).status_code for _ in range(3)]
    finally:
        web.config.pop("APPLY_RATE_LIMIT")
    assert statuses == [422, 422, 429]
    assert client.get("/apply").status_code == 200


def test_an_applicant_gets_no_login_until_approved(web, client):
    client.post("/apply", data=application_form(), content_type="multipart/form-data")
    assert fetch(web, User) == []
