"""Import of exam and course results: a dry run that reports every row and every fault with its line, and an
import that writes all rows in one transaction, or nothing."""

import csv
import io
import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
import time_machine

from registry.models import AuditEntry, Booking, Credential, Interpreter, Qualification
from tests.admin.conftest import confirmed_booking, fresh, messages, oslo
from tests.helpers import interpreter

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
HEADER = "register_number,name,birth_date,type,language,date,valid_until"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def people(session):
    """Amina (authorisation in Arabic), Omar (a basic course waiting), and two people both named Sara Said."""
    amina = interpreter(session, "Amina Ali", email="amina@example.no", birth_date=date(1985, 4, 2), today=NOW.date(),
                        credentials=[("authorisation", "ar", {"valid_until": date(2031, 1, 10),
                                                              "issued_on": date(2026, 1, 10)})])
    omar = interpreter(session, "Omar Osman", email="omar@example.no", birth_date=date(1990, 1, 1), today=NOW.date(),
                       credentials=[("basic_course", "pl", {"state": "pending", "issued_on": date(2026, 5, 5)}),
                                    ("translator", "pl", {"issued_on": date(2025, 1, 1)})])
    for n in range(2):
        interpreter(session, "Sara Said", email=f"sara{n}@example.no", birth_date=date(1988, 8, 8))
    return {"amina": amina.register_number, "omar": omar.register_number, "amina_id": amina.id, "omar_id": omar.id}


def upload(client, text: str | bytes, name="results.csv"):
    data = text.encode() if isinstance(text, str) else text
    response = client.post("/admin/imports", data={"file": (io.BytesIO(data), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 303, response.text
    return response.location


def credential_count(session) -> int:
    return fresh(session).scalar(sa.select(sa.func.count(Credential.id)))


def import_entries(session) -> list[AuditEntry]:
    return fresh(session).scalars(sa.select(AuditEntry).where(AuditEntry.action == "import.completed")).all()


def faults(html: str) -> list[str]:
    part = html.split('class="fault-list"', 1)[1].split("</ul>", 1)[0]
    return [line.strip()[4:-5] for line in part.splitlines() if line.strip().startswith("<li>")]


def bad_files(p) -> dict:
    good = f"{p['amina']},,,bilingual_test,so,2027-01-15,"
    return {
        "encoding": ((HEADER + "\n" + good + "\n" + ",Åse Ås,1970-01-01,tao,,2027-01-15,\n").encode("latin-1"),
                     ["Line 3 is not UTF-8 text. Save the file as CSV UTF-8 and try again."]),
        "missing column": ("register_number,name,birth_date,type,language,date\n" + good[:-1] + "\n",
                           ["Line 1: the column valid_until is missing. The first line must name the columns: "
                            "register_number, name, birth_date, type, language, date, valid_until."]),
        "duplicate row": (f"{HEADER}\n{good}\n{good}\n",
                          ["Line 3 repeats line 2: the same credential for the same person."]),
        "unknown language": (f"{HEADER}\n{good}\n{p['omar']},,,bilingual_test,xx,2027-01-15,\n",
                             ["Line 3: unknown language xx."]),
        "future date": (f"{HEADER}\n{good}\n{p['omar']},,,bilingual_test,so,2027-03-02,\n",
                        ["Line 3: the date of issue 2027-03-02 is in the future."]),
        "unknown register number": (f"{HEADER}\n{good}\n99999,,,tao,,2027-01-15,\n",
                                    ["Line 3: no interpreter has register number 99999."]),
        # "\u00b2" passes str.isdigit, which int() refuses: the upload was a 500.
        "not a register number": (f"{HEADER}\n{good}\n\u00b2,,,tao,,2027-01-15,\n12345678901,,,tao,,2027-01-15,\n",
                                  ["Line 3: the register number \u00b2 is not a number.",
                                   "Line 4: the register number 12345678901 is not a number."]),
        # A NUL was echoed back in "no interpreter is named ..."; a BEL in the type in "unknown type ...".
        "control character": (f"{HEADER}\n{good}\n,Nobody\x00Here,1970-01-01,tao,,2027-01-15,\n"
                              f"{p['omar']},,,t\x07ao,,2027-01-15,\n",
                              ["Line 3 contains characters that are not allowed, such as control characters. "
                               "Remove them and try again.",
                               "Line 4 contains characters that are not allowed, such as control characters. "
                               "Remove them and try again."]),
        "no one by name": (f"{HEADER}\n{good}\n,Nobody Here,1970-01-01,tao,,2027-01-15,\n",
                           ["Line 3: no interpreter is named Nobody Here and born 1970-01-01."]),
        "several by name": (f"{HEADER}\n{good}\n,sara  SAID,08.08.1988,tao,,2027-01-15,\n",
                            ["Line 3: 2 interpreters are named sara  SAID and born 1988-08-08. Give the register "
                             "number."]),
        "several faults": (f"{HEADER}\n{good}\n\n{p['omar']},,,bachelr,ar,2027-01-32,2026-01-01\n"
                           f"{p['omar']},Someone Else,,tao,,2027-01-15,\n",
                           ["Line 4: unknown type bachelr. Use one of authorisation, bachelor, basic_course, "
                            "bilingual_test, translator, tao, police_certificate.",
                            "Line 4: the date of issue 2027-01-32 is not a date. Write it as YYYY-MM-DD or DD.MM.YYYY.",
                            "Line 4: the credential ran out on 2026-01-01; only valid credentials are imported.",
                            f"Line 5: register number {p['omar']} is Omar Osman, not Someone Else."]),
    }


@pytest.mark.parametrize("case", ["encoding", "missing column", "duplicate row", "unknown language", "future date",
                                  "unknown register number", "not a register number", "control character",
                                  "no one by name",
                                  "several by name", "several faults"])
def test_each_fault_is_reported_with_its_line_and_nothing_is_written(client, session, users, login, folders,
                                                                     people, case):
    data, expected = bad_files(people)[case]
    before = credential_count(session)
    login(client, users.admin)
    report = client.get(upload(client, data) + "?lang=en")
    assert report.status_code == 422
    assert faults(report.text) == expected
    assert 'action="/admin/imports/' not in report.text  # no import button
    token = report.request.path.rsplit("/", 1)[1]
    # Importing anyway writes nothing.
    refused = client.post(f"/admin/imports/{token}?lang=en")
    assert refused.status_code == 409 and "Nothing was imported" in refused.text
    assert credential_count(session) == before
    assert import_entries(session) == []
    assert fresh(session).scalar(sa.select(Credential.state).where(
        Credential.interpreter_id == people["omar_id"])) == "pending"


def test_the_dry_run_reports_every_row_and_the_import_writes_them_all(client, session, users, login, folders,
                                                                      people):
    a, o = people["amina"], people["omar"]
    text = "\n".join([
        "Register_Number;Name;Birth_Date;Type;Language;Date;Valid_Until",     # semicolons, any case
        f"{a};;;bilingual_test;so;2027-01-15;",                                # create, no end
        f"{a};Amina Ali;;authorisation;ar;10.01.2026;2032-01-10",              # change valid until
        ";amina ali;1985-04-02;tao;;2026-11-30;2031-11-30",                    # create, found by name
        f"{o};;;basic_course;pl;2026-05-05;2030-05-05",                        # the waiting one is verified
        f"{o};;;translator;pl;2025-01-01;",                                    # already there
    ]) + "\n"
    # A Somali booking of Amina's, marked when her bilingual test had run out; the import brings it back.
    somali = confirmed_booking(session, session.get(Interpreter, people["amina_id"]), users.agency_a, users.booker.id,
                               oslo(date(2027, 3, 9), 10), language="so", warn_not_qualified=True)
    before = credential_count(session)
    login(client, users.admin)
    location = upload(client, "\ufeff" + text, name="Tospråktesten 2027.csv")
    report = client.get(location + "?lang=en")
    assert report.status_code == 200, report.text
    rows = [(cells[0], cells[1]) for cells in _rows(report.text)]
    assert rows == [("2", "New credential"), ("3", "New valid-until date"), ("4", "New credential"),
                    ("5", "Waiting credential verified"), ("6", "Already in the register")]
    assert "Jan 10, 2031 → Jan 10, 2032" in report.text
    assert credential_count(session) == before  # the dry run writes nothing

    full = client.get(location + "/report.csv")
    lines = list(csv.reader(io.StringIO(full.data.decode("utf-8-sig"))))
    assert [line[0] for line in lines[1:]] == ["2", "3", "4", "5", "6"]

    token = location.rsplit("/", 1)[1]
    done = client.post(f"/admin/imports/{token}")
    assert done.status_code == 303
    assert credential_count(session) == before + 2
    held = {(c.type, c.language_code): (c.state, c.valid_until) for c in fresh(session).scalars(
        sa.select(Credential).where(Credential.interpreter_id == people["amina_id"]))}
    assert held == {("authorisation", "ar"): ("verified", date(2032, 1, 10)),
                    ("bilingual_test", "so"): ("verified", None), ("tao", None): ("verified", date(2031, 11, 30))}
    categories = dict(session.execute(sa.select(Qualification.language_code, Qualification.category).where(
        Qualification.interpreter_id == people["amina_id"])).all())
    assert categories == {"ar": "C", "so": "E"}
    assert session.scalar(sa.select(Qualification.category).where(
        Qualification.interpreter_id == people["omar_id"])) == "D"
    assert fresh(session).get(Booking, somali.id).warn_not_qualified is False
    assert {m.recipient for m in messages(session, "booking_requalified")} == {users.booker.email, "amina@example.no"}
    [entry] = import_entries(session)
    assert entry.actor_label == users.admin.email
    assert {k: entry.after[k] for k in ("file", "rows", "create", "verify", "change", "unchanged")} == {
        "file": "Tospråktesten 2027.csv", "rows": 5, "create": 2, "verify": 1, "change": 1, "unchanged": 1}
    # The file is gone once imported: importing it twice is impossible.
    assert client.post(f"/admin/imports/{token}").status_code == 404


def _rows(html: str) -> list[list[str]]:
    import re

    body = html.split('id="rows-caption"', 1)[1].split("</tbody>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)[1:]]


def test_the_types_default_validity_applies_to_new_rows(client, session, users, login, folders, people):
    from registry.models import CredentialType

    session.get(CredentialType, "bilingual_test").default_validity_years = 3
    session.commit()
    login(client, users.admin)
    token = upload(client, f"{HEADER}\n{people['amina']},,,bilingual_test,so,2027-01-15,\n").rsplit("/", 1)[1]
    assert client.post(f"/admin/imports/{token}").status_code == 303
    assert fresh(session).scalar(sa.select(Credential.valid_until).where(Credential.type == "bilingual_test")) == \
        date(2030, 1, 15)


def test_no_file_is_a_clear_422(client, users, login, folders):
    login(client, users.admin)
    response = client.post("/admin/imports?lang=en", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose the CSV file to import." in response.text


def test_an_unknown_upload_is_404(client, users, login, folders):
    login(client, users.admin)
    assert client.get("/admin/imports/" + "0" * 32).status_code == 404
    assert client.get("/admin/imports/../../etc/passwd").status_code == 404
    assert client.post("/admin/imports/not-a-token").status_code == 404


N_PEOPLE = 2500


def test_an_import_of_ten_thousand_rows_succeeds(client, session, users, login, folders):
    first = 5000
    session.execute(sa.insert(Interpreter), [
        dict(register_number=first + n, name=f"Tolk {n}", name_key=f"tolk {n}", gender="female", county_number="03",
             availability="part_time", status="active", created_at=NOW, updated_at=NOW) for n in range(N_PEOPLE)])
    session.commit()
    lines = [HEADER]
    for n in range(N_PEOPLE):
        lines += [f"{first + n},,,bilingual_test,ar,2027-01-15,", f"{first + n},,,bilingual_test,so,2027-01-15,",
                  f"{first + n},,,basic_course,pl,2026-12-01,2031-12-01", f"{first + n},,,tao,,2026-11-01,"]
    assert len(lines) == 10_001
    login(client, users.admin)
    started = time.monotonic()
    location = upload(client, "\n".join(lines) + "\n")
    report = client.get(location + "?lang=en")
    assert report.status_code == 200 and "No errors" in report.text
    done = client.post(location)
    elapsed = time.monotonic() - started
    assert done.status_code == 303
    assert credential_count(session) == 10_000
    counts = dict(fresh(session).execute(sa.select(Qualification.category, sa.func.count()).group_by(
        Qualification.category)).all())
    assert counts == {"E": 2 * N_PEOPLE, "D": N_PEOPLE}
    [entry] = import_entries(session)
    assert entry.after["rows"] == 10_000 and entry.after["create"] == 10_000
    assert elapsed < 60, f"the import took {elapsed:.1f} s"
