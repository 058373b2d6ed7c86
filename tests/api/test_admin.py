"""Registry administrators: enter interpreters, verified credentials and sanctions through the API."""

import sqlalchemy as sa

from registry.models import AuditEntry, Booking, Interpreter, WorkingHours
from tests.api.conftest import booking_body, problem_of

NEW = {"name": "Nadia Noor", "gender": "female", "county": "03", "municipality": "0301", "email": "nadia@example.no",
       "phone": "912 34 567", "modalities": ["video", "onsite"], "availability": "part_time", "publish_contact": True}


def create(api, **changes):
    response = api.post("/admin/interpreters", {**NEW, **changes}, as_="admin")
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_create_an_interpreter_with_the_default_hours(api, session):
    response = create(api)
    body = response.get_json()
    number = body["register_number"]
    assert number.isdigit() and response.headers["Location"].endswith(f"/api/v1/admin/interpreters/{number}")
    assert body["name"] == "Nadia Noor" and body["status"] == "active" and body["listed"] is False
    assert body["phone"] == "+47 91 23 45 67" and body["modalities"] == ["onsite", "video"]
    assert body["working_hours"] == [{"weekday": d, "start": "08:00", "end": "16:00"} for d in range(5)]
    assert body["languages"] == [] and body["credentials"] == [] and body["sanctions"] == []
    assert api.client.get(response.headers["Location"], headers=api.headers("admin")).get_json() == body
    session.rollback()
    assert session.scalar(sa.select(AuditEntry.action).where(AuditEntry.object_type == "interpreter")) == \
        "interpreter.registered"


def test_create_with_working_hours_or_none(api, session):
    hours = [{"weekday": 5, "start": "10:00", "end": "14:00"}, {"weekday": 0, "start": "08:30", "end": "12:00"}]
    body = create(api, working_hours=hours).get_json()
    assert body["working_hours"] == [{"weekday": 0, "start": "08:30", "end": "12:00"},
                                     {"weekday": 5, "start": "10:00", "end": "14:00"}]
    none = create(api, email="other@example.no", working_hours=[]).get_json()
    assert none["working_hours"] == []


def test_create_reports_every_fault(api, session):
    """First the shape of the body, then the register's rules: each step names every field at fault."""
    body = {**NEW, "gender": "robot", "modalities": [],
            "working_hours": [{"weekday": 1, "start": "12:00", "end": "11:00"}, {"weekday": 9, "start": "x"}]}
    problem = problem_of(api.post("/admin/interpreters", body, as_="admin"), 422)
    assert {e["field"] for e in problem["errors"]} == {
        "gender", "modalities", "working_hours[1].weekday", "working_hours[1].start", "working_hours[1].end"}
    body = {**NEW, "name": " ", "email": "nope", "municipality": "4601",
            "working_hours": [{"weekday": 1, "start": "12:00", "end": "11:00"}]}
    problem = problem_of(api.post("/admin/interpreters", body, as_="admin"), 422)
    assert {e["field"] for e in problem["errors"]} == {"name", "email", "municipality", "working_hours[0].end"}
    problem = problem_of(api.post("/admin/interpreters", {**NEW, "county": "99"}, as_="admin"), 422)
    assert [e["field"] for e in problem["errors"]] == ["county"]
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Interpreter)) == 2  # the world's two


def test_a_credential_makes_the_interpreter_listed_and_searchable(api, session, world):
    number = create(api).get_json()["register_number"]
    assert api.get(f"/register/{number}").status_code == 404
    response = api.post(f"/admin/interpreters/{number}/credentials",
                        {"type": "authorisation", "language": "ar", "issued_on": "2020-06-15"}, as_="admin")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["credential"]["state"] == "verified" and body["credential"]["valid_until"] is None
    assert body["credential"]["verified_at"] == "2027-03-01T08:00:00+01:00"
    assert body["languages"] == [{"code": "ar", "name": "Arabic", "category": "C"}]
    tao = api.post(f"/admin/interpreters/{number}/credentials",
                   {"type": "bachelor", "language": "ar", "issued_on": "2021-06-15", "valid_until": "2031-06-14"},
                   as_="admin").get_json()
    assert tao["languages"] == [{"code": "ar", "name": "Arabic", "category": "A"}]
    found = api.get("/register?q=nadia").get_json()["items"]
    assert [(i["register_number"], i["languages"][0]["category"]) for i in found] == [(number, "A")]
    record = api.get(f"/admin/interpreters/{number}", as_="admin").get_json()
    assert record["listed"] is True and [c["type"] for c in record["credentials"]] == ["authorisation", "bachelor"]
    # Bookable at once, in the default hours.
    assert api.post("/bookings", booking_body(interpreter=number), as_="booker").status_code == 201


def test_credential_refusals(api, world):
    number = create(api).get_json()["register_number"]
    path = f"/admin/interpreters/{number}/credentials"
    for body, field in (({"type": "authorisation", "issued_on": "2020-01-01"}, "language"),
                        ({"type": "tao", "language": "ar", "issued_on": "2020-01-01"}, "language"),
                        ({"type": "authorisation", "language": "ar", "issued_on": "2030-01-01"}, "issued_on"),
                        ({"type": "authorisation", "language": "ar", "issued_on": "2020-01-01",
                          "valid_until": "2019-01-01"}, "valid_until"),
                        ({"type": "authorisation", "language": "ar", "issued_on": "2020-01-01",
                          "valid_until": "2027-02-28"}, "valid_until"),  # already run out
                        ({"type": "authorisation", "language": "zz", "issued_on": "2020-01-01"}, "language"),
                        ({"type": "degree", "language": "ar", "issued_on": "2020-01-01"}, "type"),
                        ({"type": "authorisation", "language": "ar", "issued_on": "01.01.2020"}, "issued_on")):
        problem = problem_of(api.post(path, body, as_="admin"), 422)
        assert [e["field"] for e in problem["errors"]] == [field], body
    same = {"type": "tao", "issued_on": "2020-01-01"}
    assert api.post(path, same, as_="admin").status_code == 201
    problem_of(api.post(path, same, as_="admin"), 409)
    problem_of(api.post("/admin/interpreters/999999/credentials", same, as_="admin"), 404)


def test_a_suspension_unlists_the_interpreter_and_flags_their_bookings(api, session, world):
    made = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="booker").get_json()
    response = api.post(f"/admin/interpreters/{world.amina}/sanctions",
                        {"kind": "suspension", "reason": "Case 2027/14 is being examined.", "starts_on": "2027-03-01"},
                        as_="admin")
    assert response.status_code == 201, response.get_data(as_text=True)
    sanction = response.get_json()
    assert sanction["kind"] == "suspension" and sanction["decided_on"] == "2027-03-01" and sanction["ends_on"] is None
    assert sanction["state"] == "holding"
    assert api.get(f"/register/{world.amina}").status_code == 404
    assert api.get(f"/verify/{world.amina}?language=ar").get_json()["qualified"] is False
    flagged = api.get(f"/bookings/{made['id']}", as_="booker").get_json()
    assert flagged["warnings"] == ["interpreter_not_qualified"]
    record = api.get(f"/admin/interpreters/{world.amina}", as_="admin").get_json()
    assert record["status"] == "suspended" and [s["kind"] for s in record["sanctions"]] == ["suspension"]
    # An exclusion is stronger; a warning changes nothing.
    api.post(f"/admin/interpreters/{world.amina}/sanctions",
             {"kind": "exclusion", "reason": "Decided.", "starts_on": "2027-03-01", "ends_on": "2028-02-29",
              "serious_breach": True}, as_="admin")
    api.post(f"/admin/interpreters/{world.amina}/sanctions",
             {"kind": "warning", "reason": "Also late.", "starts_on": "2027-03-01"}, as_="admin")
    record = api.get(f"/admin/interpreters/{world.amina}", as_="admin").get_json()
    assert record["status"] == "excluded"
    assert [(s["kind"], s["state"]) for s in record["sanctions"]] == [
        ("warning", "counting"), ("exclusion", "holding"), ("suspension", "holding")]
    session.rollback()
    assert session.get(Booking, made["id"]).warn_not_qualified is True


def test_sanction_refusals(api, world):
    path = f"/admin/interpreters/{world.omar}/sanctions"
    for body, field in (({"kind": "warning", "reason": "x", "starts_on": "2027-03-01", "ends_on": "2027-04-01"},
                         "ends_on"),
                        ({"kind": "suspension", "reason": "x", "starts_on": "2027-04-01"}, "starts_on"),
                        ({"kind": "exclusion", "reason": "x", "starts_on": "2027-01-01", "ends_on": "2026-12-01"},
                         "starts_on"),  # before it was decided (today)
                        ({"kind": "exclusion", "reason": "x", "decided_on": "2027-01-01", "starts_on": "2027-01-01",
                          "ends_on": "2026-12-01"}, "ends_on"),
                        ({"kind": "warning", "reason": "x", "decided_on": "2027-04-01", "starts_on": "2027-03-01"},
                         "decided_on"),
                        ({"kind": "report", "reason": "x", "starts_on": "2027-03-01"}, "kind"),
                        ({"kind": "warning", "reason": "", "starts_on": "2027-03-01"}, "reason"),
                        # An exclusion needs three warnings that count, or a serious breach; nothing else has one.
                        ({"kind": "exclusion", "reason": "x", "starts_on": "2027-03-01"}, "serious_breach"),
                        ({"kind": "exclusion", "reason": "x", "starts_on": "2027-03-01", "serious_breach": "yes"},
                         "serious_breach"),
                        ({"kind": "suspension", "reason": "x", "starts_on": "2027-03-01", "serious_breach": True},
                         "serious_breach")):
        problem = problem_of(api.post(path, body, as_="admin"), 422)
        assert [e["field"] for e in problem["errors"]] == [field], body
    assert api.get(f"/register/{world.omar}").status_code == 200
    problem_of(api.post("/admin/interpreters/abc/sanctions", {"kind": "warning", "reason": "x",
                                                              "starts_on": "2027-03-01"}, as_="admin"), 404)


def test_only_registry_admins(api, world):
    for role in ("booker", "agency_admin", "interpreter"):
        problem_of(api.post("/admin/interpreters", NEW, as_=role), 403)
        problem_of(api.get(f"/admin/interpreters/{world.amina}", as_=role), 403)
    problem_of(api.post("/admin/interpreters", NEW), 401)
    problem_of(api.get("/admin/interpreters/999999", as_="admin"), 404)


def test_default_hours_make_a_working_week(session, world):
    from datetime import time

    from registry.domain.admin_records import DEFAULT_HOURS

    assert [(p.weekday, p.start, p.end) for p in DEFAULT_HOURS] == [(d, time(8), time(16)) for d in range(5)]
    assert session.scalar(sa.select(sa.func.count()).select_from(WorkingHours)) == 10


def test_a_credential_without_an_end_gets_the_types_default_validity(api, session, world):
    from registry.models import CredentialType

    session.get(CredentialType, "authorisation").default_validity_years = 5
    session.commit()
    number = create(api).get_json()["register_number"]
    made = api.post(f"/admin/interpreters/{number}/credentials",
                    {"type": "authorisation", "language": "ar", "issued_on": "2024-02-29"}, as_="admin").get_json()
    assert made["credential"]["valid_until"] == "2029-02-28"
