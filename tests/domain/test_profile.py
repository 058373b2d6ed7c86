"""The self-service rules without HTTP: profile, hours, absences, credentials, evidence, applications.

Pure rules run once; rules that need the database run on SQLite and PostgreSQL through `session`.
"""

import io
from datetime import UTC, date, datetime, time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from registry.domain import applications, evidence, profile
from registry.domain.errors import InvalidInput, NotFound
from registry.domain.profile import InvalidFields, Period
from registry.models import Absence, Application, AuditEntry, Credential, OutboxMessage, WorkingHours
from tests.helpers import interpreter

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)
PDF = b"%PDF-1.4\n%%EOF\n"
MB = 1024 * 1024


def fields_of(error: InvalidInput) -> list[str]:
    return [e.field for e in profile.errors_of(error)]


def english(message) -> str:
    with force_locale("en"):
        return str(message)


def audit_actions(session) -> list[str]:
    return session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()


# Contact, place, ways of working ------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("91234567", "+47 91 23 45 67"),
    ("912 34 567", "+47 91 23 45 67"),
    ("+47 22 00 00 00", "+47 22 00 00 00"),
    ("0047 91234567", "+47 91 23 45 67"),
    ("+46 70 123 45 67", "+46 70 123 45 67"),
    ("", None),
    ("   ", None),
])
def test_good_phone_numbers(raw, expected):
    assert profile.check_phone(raw) == expected


@pytest.mark.parametrize("raw", ["12", "1234567", "+47 1234", "phone me", "+999 12345678", "9" * 50])
def test_bad_phone_numbers(raw):
    with pytest.raises(InvalidInput) as caught:
        profile.check_phone(raw)
    assert caught.value.field == "phone"


def test_a_required_phone_number_must_be_there():
    with pytest.raises(InvalidInput, match="Enter your phone number"):
        profile.check_phone("", required=True)


@pytest.mark.parametrize("county, municipality, expected", [
    ("03", "0301", ("03", "0301")),
    ("46", "4601", ("46", "4601")),
    ("46", "", ("46", None)),
    ("46", None, ("46", None)),
])
def test_good_places(county, municipality, expected):
    assert profile.check_place(county, municipality) == expected


@pytest.mark.parametrize("county, municipality, field, message", [
    ("", "", "county", "Choose a county."),
    ("99", "", "county", "Unknown county number"),
    ("03", "9999", "municipality", "Unknown municipality number"),
    ("03", "4601", "municipality", "Bergen is not in Oslo."),
    ("46", "0301", "municipality", "Oslo is not in Vestland."),
    ("0301", "", "county", "Unknown county number"),
])
def test_bad_places(county, municipality, field, message):
    with pytest.raises(InvalidInput) as caught:
        profile.check_place(county, municipality)
    assert caught.value.field == field and message in english(caught.value.message)


@pytest.mark.parametrize("values, expected", [
    (["phone", "onsite"], ("onsite", "phone")),
    (["video"], ("video",)),
])
def test_modalities(values, expected):
    assert profile.check_modalities(values) == expected


@pytest.mark.parametrize("values", [[], None, ["onsite", "carrier pigeon"]])
def test_bad_modalities(values):
    with pytest.raises(InvalidInput) as caught:
        profile.check_modalities(values)
    assert caught.value.field == "modalities"


def test_gather_reports_every_failure_in_order():
    def fail(field):
        raise InvalidInput("bad", field)

    with pytest.raises(InvalidFields) as caught:
        profile.gather(a=lambda: fail("a"), b=lambda: 1, c=lambda: fail("c"))
    assert fields_of(caught.value) == ["a", "c"]
    assert profile.gather(a=lambda: 1, b=lambda: "x") == {"a": 1, "b": "x"}


def test_update_profile_changes_and_audits_only_what_changed(session):
    person = interpreter(session, municipality_number="0301")
    actor = SimpleNamespace(id=None, email="amina@example.no")
    values = dict(email="new@example.no", phone="91234567", publish_contact=False, county_number="03",
                  municipality_number="0301", modalities=["onsite", "video", "phone"], availability="part_time")
    changed = profile.update_profile(session, person, actor=actor, **values)
    assert changed == {"email": "new@example.no", "phone": "+47 91 23 45 67"}
    assert profile.update_profile(session, person, actor=actor, **values) == {}
    session.flush()
    entries = session.scalars(sa.select(AuditEntry)).all()
    assert [e.action for e in entries] == ["interpreter.profile_changed"]
    assert entries[0].before == {"email": "amina@example.no", "phone": "+47 91234567"}


def test_update_profile_with_errors_changes_nothing(session):
    person = interpreter(session)
    with pytest.raises(InvalidFields) as caught:
        profile.update_profile(session, person, email="x", phone="1", publish_contact=True, county_number="03",
                               municipality_number="4601", modalities=[], availability="never", actor=None)
    assert fields_of(caught.value) == ["email", "phone", "municipality", "modalities", "availability"]
    assert (person.email, person.publish_contact) == ("amina@example.no", False)
    assert audit_actions(session) == []


# Weekly hours -------------------------------------------------------------------------------------

def test_hours_allow_periods_that_touch():
    rows = profile.check_hours([Period(0, "12:00", "16:00"), Period(0, "08:00", "12:00"), Period(2, None, "")])
    assert rows == [(0, time(8), time(12)), (0, time(12), time(16))]


@pytest.mark.parametrize("periods, fields", [
    ([Period(0, "08:00", "12:00", "a"), Period(0, "11:59", "13:00", "b")], ["b_start"]),
    ([Period(0, "08:00", "18:00", "a"), Period(0, "09:00", "10:00", "b"), Period(0, "11:00", "12:00", "c")],
     ["b_start", "c_start"]),
    ([Period(1, "10:00", "09:00", "a")], ["a_end"]),
    ([Period(1, "10:00", "10:00", "a")], ["a_end"]),
    ([Period(1, "10:00", "", "a")], ["a_end"]),
    ([Period(1, "", "10:00", "a")], ["a_start"]),
    ([Period(1, "25:00", "26:00", "a")], ["a_start", "a_end"]),
    ([Period(7, "08:00", "09:00", "a")], ["a"]),
    # The same times on different days do not overlap.
    ([Period(0, "08:00", "12:00", "a"), Period(1, "08:00", "12:00", "b"), Period(1, "07:00", "06:00", "c")],
     ["c_end"]),
])
def test_bad_hours(periods, fields):
    with pytest.raises(InvalidFields) as caught:
        profile.check_hours(periods)
    assert fields_of(caught.value) == fields


@pytest.mark.parametrize("raw, expected", [("8:00", time(8)), ("08.30", time(8, 30)), ("23:59", time(23, 59)),
                                           ("07:15:00", time(7, 15)), ("", None)])
def test_times(raw, expected):
    assert profile.parse_time(raw, "t") == expected


def test_working_hours_are_replaced_as_a_whole(session):
    person = interpreter(session)
    assert profile.set_working_hours(session, person, [Period(0, "08:00", "16:00"), Period(1, "08:00", "12:00")],
                                     actor=None)
    assert not profile.set_working_hours(session, person, [Period(1, "08:00", "12:00"), Period(0, "08:00", "16:00")],
                                         actor=None)
    assert profile.set_working_hours(session, person, [Period(4, "10:00", "11:00")], actor=None)
    rows = session.scalars(sa.select(WorkingHours)).all()
    assert [(h.weekday, h.start_time, h.end_time) for h in rows] == [(4, time(10), time(11))]
    assert audit_actions(session) == ["interpreter.hours_changed"] * 2


# Absences and Norwegian time ----------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("2027-01-15T08:00", datetime(2027, 1, 15, 7, 0, tzinfo=UTC)),        # winter, UTC+1
    ("2027-06-15 08:00", datetime(2027, 6, 15, 6, 0, tzinfo=UTC)),        # summer, UTC+2
    ("2027-03-28T01:59", datetime(2027, 3, 28, 0, 59, tzinfo=UTC)),       # just before the gap
    ("2027-03-28T03:00", datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),        # just after it
    ("2027-10-31T02:30", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),      # ambiguous: the first, summer time
    ("2027-10-31T03:00", datetime(2027, 10, 31, 2, 0, tzinfo=UTC)),
    ("", None),
])
def test_local_times(raw, expected):
    assert profile.parse_local(raw, "starts_at") == expected


@pytest.mark.parametrize("raw", ["2027-03-28T02:00", "2027-03-28T02:30", "2027-03-28 02:59"])
def test_a_time_in_the_spring_forward_gap_does_not_exist(raw):
    with pytest.raises(InvalidInput, match="does not exist in Norway") as caught:
        profile.parse_local(raw, "starts_at")
    assert caught.value.field == "starts_at"


@pytest.mark.parametrize("raw", ["2027-02-30T08:00", "tomorrow", "15.01.2027 08:00", "2027-01-15T25:00"])
def test_badly_written_times(raw):
    with pytest.raises(InvalidInput, match="Enter a date and time") as caught:
        profile.parse_local(raw, "starts_at")
    assert caught.value.field == "starts_at"


@pytest.mark.parametrize("starts, ends, note, field", [
    ("2027-03-02T08:00", "2027-03-02T08:00", "", "ends_at"),                    # not after the start
    ("2027-02-01T08:00", "2027-03-01T13:00", "", "ends_at"),                    # ends exactly now
    ("2027-03-02T08:00", "2029-03-01T13:01", "", "ends_at"),                    # beyond two years
    ("2027-03-02T08:00", "2027-03-03T08:00", "x" * 201, "note"),
    ("", "2027-03-03T08:00", "", "starts_at"),
])
def test_bad_absences(starts, ends, note, field):
    with pytest.raises(InvalidInput) as caught:
        profile.check_absence(starts, ends, note, NOW)
    assert fields_of(caught.value) == [field]


def test_an_absence_may_have_begun_already_and_reach_two_years_ahead():
    start, end, note = profile.check_absence("2027-02-01T08:00", "2029-03-01T13:00", "  ", NOW)
    assert end == datetime(2029, 3, 1, 12, 0, tzinfo=UTC) and note is None


def test_absences_belong_to_their_interpreter(session):
    amina, omar = interpreter(session), interpreter(session, "Omar Ali")
    absence = profile.add_absence(session, amina, starts="2027-04-01T08:00", ends="2027-04-02T16:00", note="Course",
                                  now=NOW, actor=None)
    with pytest.raises(NotFound):
        profile.delete_absence(session, omar, absence.id, actor=None)
    assert profile.upcoming_absences(session, amina, NOW) == [absence]
    assert profile.upcoming_absences(session, omar, NOW) == []
    profile.delete_absence(session, amina, absence.id, actor=None)
    assert session.scalars(sa.select(Absence)).all() == []
    assert audit_actions(session) == ["absence.added", "absence.deleted"]


# Dates --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("2024-06-30", date(2024, 6, 30)), ("30.06.2024", date(2024, 6, 30)),
                                           ("1.2.2020", date(2020, 2, 1)), ("", None)])
def test_dates(raw, expected):
    assert profile.parse_date(raw, "d") == expected


@pytest.mark.parametrize("raw", ["2024-02-30", "30/06/2024", "June 30", "0001-01-01"])
def test_bad_dates(raw):
    with pytest.raises(InvalidInput):
        profile.parse_date(raw, "d")


# Evidence -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("head, expected", [
    (b"%PDF-1.7 ...", "application/pdf"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"%PDF", None),
    (b"GIF89a", None),
    (b"PK\x03\x04", None),
    (b"<svg xmlns=", None),
    (b"", None),
])
def test_the_type_comes_from_the_content(head, expected):
    assert evidence.detect_type(head) == expected


def upload(content: bytes, name: str = "diploma.pdf") -> evidence.Upload:
    return evidence.Upload(io.BytesIO(content), name)


@pytest.mark.parametrize("ref", ["../secret", "a" * 31, "A" * 32, "g" * 32, "0" * 32 + "/", "/etc/passwd", "", None])
def test_only_random_names_reach_the_file_system(tmp_path, ref):
    with pytest.raises(NotFound):
        evidence.open_file(tmp_path, ref)


def test_stored_evidence_can_be_read_back(tmp_path):
    stored = evidence.store(upload(PDF, "C:\\Users\\amina\\Vitnemål.pdf"), tmp_path / "evidence", MB)
    assert (stored.name, stored.type) == ("Vitnemål.pdf", "application/pdf")
    with evidence.open_file(tmp_path / "evidence", stored.ref) as file:
        assert file.read() == PDF
    evidence.discard(tmp_path / "evidence", [stored.ref])
    with pytest.raises(NotFound):
        evidence.open_file(tmp_path / "evidence", stored.ref)


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty."),
    (b"MZ\x90\x00 not a pdf", "is not a PDF, JPEG or PNG"),
    (b"%PDF-" + b"0" * MB, "larger than 1 MB"),
])
def test_bad_files_are_not_stored(tmp_path, content, message):
    with pytest.raises(InvalidInput, match=message):
        evidence.store(upload(content), tmp_path, MB)
    assert list(tmp_path.iterdir()) == []


def test_clean_names():
    assert evidence.clean_name("../../x/evil\x00name.pdf", "application/pdf") == "evilname.pdf"
    assert evidence.clean_name("", "image/png") == "evidence.png"
    assert len(evidence.clean_name("a" * 300 + ".pdf", "application/pdf")) == 255
    assert evidence.clean_name("a" * 300 + ".pdf", "application/pdf").endswith(".pdf")


@pytest.mark.parametrize("role, interpreter_id, allowed", [
    ("interpreter", 1, True),
    ("interpreter", 2, False),
    ("registry_admin", None, True),
    ("booker", None, False),
    ("agency_admin", None, False),
])
def test_who_may_see_evidence(role, interpreter_id, allowed):
    user = SimpleNamespace(is_authenticated=True, role=role, interpreter_id=interpreter_id)
    assert evidence.may_view(user, SimpleNamespace(interpreter_id=1)) is allowed
    assert evidence.may_view(None, SimpleNamespace(interpreter_id=1)) is False


# Credentials and applications ---------------------------------------------------------------------

def claim(**change) -> applications.CredentialClaim:
    values = dict(type="bachelor", language="so", issued_on="2020-06-15", valid_until="", upload=upload(PDF))
    values.update(change)
    return applications.CredentialClaim(**values)


@pytest.mark.parametrize("change, fields", [
    ({"language": "xx"}, ["language"]),
    ({"language": ""}, ["language"]),
    ({"type": "tao", "language": "ar"}, ["language"]),
    ({"type": "police_certificate", "language": "so"}, ["language"]),
    ({"type": "diploma"}, ["type"]),
    ({"issued_on": "2027-03-02"}, ["issued_on"]),
    ({"issued_on": ""}, ["issued_on"]),
    ({"valid_until": "2020-06-14"}, ["valid_until"]),
    ({"valid_until": "someday", "language": ""}, ["language", "valid_until"]),
])
def test_bad_credentials(session, change, fields):
    with pytest.raises(InvalidInput) as caught:
        applications.check_credential(session, claim(**change), TODAY)
    assert fields_of(caught.value) == fields


def test_good_credentials(session):
    checked = applications.check_credential(session, claim(issued_on="2027-03-01", valid_until="2027-03-01"), TODAY)
    assert (checked.type, checked.language, checked.issued_on) == ("bachelor", "so", TODAY)
    tao = applications.check_credential(session, claim(type="tao", language=""), TODAY)
    assert tao.language is None


def test_applying_for_a_credential_stores_the_evidence_and_waits(session, tmp_path):
    person = interpreter(session, credentials=[("authorisation", "ar")], today=TODAY)
    credential = applications.apply_for_credential(session, person, claim(), today=TODAY, evidence_dir=tmp_path,
                                                   max_bytes=MB, actor=None)
    assert credential.state == "pending" and (tmp_path / credential.evidence_ref).read_bytes() == PDF
    assert [q.language_code for q in person.qualifications] == ["ar"]
    assert audit_actions(session) == ["credential.applied"]


def test_a_refused_credential_stores_no_file(session, tmp_path):
    person = interpreter(session)
    with pytest.raises(InvalidFields) as caught:
        applications.apply_for_credential(session, person, claim(language="xx", upload=upload(b"nope")),
                                          today=TODAY, evidence_dir=tmp_path, max_bytes=MB, actor=None)
    assert fields_of(caught.value) == ["language", "evidence"]
    assert list(tmp_path.iterdir()) == []
    assert session.scalars(sa.select(Credential)).all() == []


@pytest.mark.parametrize("born, ok", [
    ("2009-03-01", True),     # 18 today
    ("2009-03-02", False),    # 18 tomorrow
    ("1927-03-02", True),
    ("1926-03-01", False),
])
def test_birth_dates(born, ok):
    if ok:
        assert applications.check_birth_date(born, TODAY) == date.fromisoformat(born)
    else:
        with pytest.raises(InvalidInput):
            applications.check_birth_date(born, TODAY)


def applicant(**change) -> applications.Applicant:
    values = dict(name="  Leyla   Rahimi ", email="leyla@example.no", phone="41234567", gender="female",
                  county_number="03", municipality_number="", birth_date="1990-04-12", message="")
    values.update(change)
    return applications.Applicant(**values)


def test_an_application_waits_for_the_registry(session, tmp_path):
    rows = [claim(language="fa", type="bilingual_test", prefix="lang1_"),
            applications.CredentialClaim(None, "", "", prefix="lang2_")]
    tao = claim(type="tao", language=None, prefix="tao_")
    application = applications.submit_application(session, applicant(), rows, tao, today=TODAY,
                                                  evidence_dir=tmp_path, max_bytes=MB, locale="nn")
    person = application.interpreter
    assert (person.name, person.status, person.phone) == ("Leyla Rahimi", "inactive", "+47 41 23 45 67")
    assert person.register_number > 1000 and not person.listed
    assert [(c.type, c.state) for c in person.credentials] == [("bilingual_test", "pending"), ("tao", "pending")]
    assert len(list(tmp_path.iterdir())) == 2
    [mail] = session.scalars(sa.select(OutboxMessage)).all()
    assert (mail.kind, mail.locale, mail.params["languages"]) == ("application_received", "nn", ["fa"])
    assert audit_actions(session) == ["application.submitted"]


def test_an_application_needs_a_language_and_names_every_fault(session, tmp_path):
    rows = [applications.CredentialClaim(None, "", "", prefix="lang1_")]
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(session, applicant(name="", gender="x"), rows, None, today=TODAY,
                                        evidence_dir=tmp_path, max_bytes=MB)
    assert fields_of(caught.value) == ["name", "gender", "lang1_language"]
    assert session.scalars(sa.select(Application)).all() == []
    assert list(tmp_path.iterdir()) == []


def test_the_same_credential_twice_is_refused(session, tmp_path):
    rows = [claim(prefix="lang1_"), claim(prefix="lang2_")]
    with pytest.raises(InvalidFields) as caught:
        applications.submit_application(session, applicant(), rows, None, today=TODAY, evidence_dir=tmp_path,
                                        max_bytes=MB)
    assert fields_of(caught.value) == ["lang2_language"]


def test_files_are_removed_when_the_application_fails_after_storing(session, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(applications, "create_interpreter", broken)
    with pytest.raises(RuntimeError):
        applications.submit_application(session, applicant(), [claim(prefix="lang1_")], None, today=TODAY,
                                        evidence_dir=tmp_path, max_bytes=MB)
    assert list(tmp_path.iterdir()) == []
