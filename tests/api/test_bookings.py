"""Booking through the API: find, book (direct and open), idempotency, follow, cancel, answer, report, approve."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from registry.api import bookings as api_bookings
from registry.database import listening
from registry.extensions import db
from registry.models import ApiToken, Booking, BookingOffer, Credential, OutboxMessage
from tests.api.conftest import NOW, TUESDAY, booking_body, oslo, problem_of, rfc
from tests.helpers import plans, write_lock_probe


def book(api, as_="booker", **changes) -> dict:
    response = api.post("/bookings", booking_body(**changes), as_=as_)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def count(session) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(Booking))


# Finding ----------------------------------------------------------------------------------------

def availability(api, as_="booker", **params):
    query = {"language": "ar", "min_category": "C", "modality": "video", "start": rfc(oslo(TUESDAY, 10)),
             "end": rfc(oslo(TUESDAY, 11)), **params}
    return api.client.get("/api/v1/availability", query_string={k: v for k, v in query.items() if v is not None},
                          headers=api.headers(as_))


def test_availability_ranks_qualified_free_interpreters(api, world):
    body = availability(api).get_json()
    assert [(i["name"], i["category"]) for i in body["items"]] == [("Amina Ali", "A"), ("Omar Osman", "C")]
    assert body["items"][0] == {"register_number": str(world.amina), "name": "Amina Ali", "county": "03",
                                "category": "A", "credential_expires_before_start": False}
    assert [i["name"] for i in availability(api, min_category="B").get_json()["items"]] == ["Amina Ali"]
    onsite = availability(api, modality="onsite", municipality="4601").get_json()["items"]
    assert [i["name"] for i in onsite] == ["Omar Osman"]  # on site: the municipality's county
    assert [i["name"] for i in availability(api, gender="male").get_json()["items"]] == ["Omar Osman"]
    evening = availability(api, start=rfc(oslo(TUESDAY, 17)), end=rfc(oslo(TUESDAY, 18))).get_json()
    assert evening["items"] == []


def test_availability_leaves_out_the_booked(api, world):
    book(api, interpreter=str(world.amina))
    assert [i["name"] for i in availability(api).get_json()["items"]] == ["Omar Osman"]


def test_availability_pages(api, world):
    first = availability(api, limit=1).get_json()
    second = availability(api, limit=1, cursor=first["next_cursor"]).get_json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["Amina Ali", "Omar Osman"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize("params, field", [
    ({"start": None}, "start"),
    ({"start": "2027-03-02T10:00:00"}, "start"),
    ({"start": rfc(NOW - timedelta(hours=1)), "end": rfc(NOW + timedelta(hours=1))}, "start"),
    ({"end": rfc(oslo(TUESDAY, 10, 5))}, "end"),
    ({"language": "zz"}, "language"),
    ({"modality": "fax"}, "modality"),
    ({"municipality": "9999", "modality": "onsite"}, "municipality"),
    ({"county": "99", "modality": "onsite"}, "county"),
    ({"sector": "space"}, "sector"),
])
def test_bad_availability_parameters_are_400(api, world, params, field):
    problem = problem_of(availability(api, **params), 400)
    assert [e["field"] for e in problem["errors"]] == [field]


def test_only_bookers_may_search_availability(api):
    problem_of(availability(api, as_=None), 401)
    problem_of(availability(api, as_="interpreter"), 403)
    problem_of(availability(api, as_="admin"), 403)
    assert availability(api, as_="agency_admin").status_code == 200


# Booking ------------------------------------------------------------------------------------------

def test_a_direct_request_holds_the_slot(api, session, world):
    response = api.post("/bookings", booking_body(interpreter=str(world.amina), reference="PAS-42"), as_="booker")
    assert response.status_code == 201
    made = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/bookings/{made['id']}")
    assert made["status"] == "requested"
    assert made["interpreter"] == {"register_number": str(world.amina), "name": "Amina Ali"}
    assert made["agency"] == {"orgnr": "990993122", "name": "Sykehuset Aust HF"}
    assert made["start"] == "2027-03-02T10:00:00+01:00" and made["end"] == "2027-03-02T11:00:00+01:00"
    assert made["reference"] == "PAS-42" and made["warnings"] == [] and made["late_cancellation"] is False
    assert made["respond_by"] == "2027-03-01T21:00:00+01:00"
    assert made["contact"]["name"] == "Bo Bestiller"
    followed = api.client.get(response.headers["Location"], headers=api.headers("booker")).get_json()
    assert followed == made
    problem = problem_of(api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="agency_admin"), 409)
    assert "Amina Ali" in problem["detail"]
    assert count(session) == 1


def test_times_in_summer_come_back_with_the_summer_offset(api, world):
    made = book(api, start="2027-06-01T08:00:00Z", end="2027-06-01T09:00:00Z")
    assert made["start"] == "2027-06-01T10:00:00+02:00"


def test_an_open_request_is_offered_to_every_qualified_free_interpreter(api, session, world):
    made = book(api)
    assert made["status"] == "open" and made["interpreter"] is None
    session.rollback()
    offered = set(session.scalars(sa.select(BookingOffer.interpreter_id).where(BookingOffer.booking_id == made["id"])))
    assert offered == {world.amina_id, world.omar_id}


@pytest.mark.parametrize("changes, status, field", [
    ({"interpreter": "999999"}, 422, "interpreter"),
    ({"modality": "onsite"}, 422, "address"),
    ({"meeting_url": "http://insecure.example"}, 422, "meeting_url"),
    ({"min_category": "A", "language": "so"}, 201, None),  # open: nobody qualifies, still recorded as open
    ({"start": "2027-03-02T10:00:00+01:00", "end": "2027-03-02T10:05:00+01:00"}, 422, "end"),
    ({"interpreter": "1001x"}, 422, "interpreter"),
    ({"interpreter": 1001}, 422, "interpreter"),
])
def test_booking_refusals(api, world, changes, status, field):
    response = api.post("/bookings", booking_body(**changes), as_="booker")
    assert response.status_code == status, response.get_data(as_text=True)
    if field:
        assert field in [e["field"] for e in response.get_json()["errors"]]


def test_child_welfare_and_police_find_and_book_only_interpreters_with_a_police_certificate(api, world, session):
    session.add(Credential(interpreter_id=world.amina_id, type="police_certificate", language_code=None,
                           state="verified", issued_on=NOW.date() - timedelta(days=30)))
    session.commit()
    for sector in ("child_welfare", "police"):
        assert [i["name"] for i in availability(api, sector=sector).get_json()["items"]] == ["Amina Ali"]
    assert [i["name"] for i in availability(api, sector="health").get_json()["items"]] == ["Amina Ali", "Omar Osman"]
    before = count(session)
    problem = problem_of(api.post("/bookings", booking_body(interpreter=str(world.omar), sector="police"),
                                  as_="booker"), 409)
    assert problem["detail"] == ("Assignments in this sector need a police certificate valid on the day, and Omar "
                                 "Osman does not hold one.")
    assert count(session) == before
    assert book(api, interpreter=str(world.amina), sector="police")["status"] == "requested"
    # The document names the sectors in the reader's language, from the rule's one list.
    for language, named in (("en", "Child welfare and Police"), ("nb", "Barnevern og Politi")):
        document = api.get("/openapi.json", language=language).get_json()
        (sector,) = [p for p in document["paths"]["/availability"]["get"]["parameters"] if p["name"] == "sector"]
        assert f"({named})" in sector["description"]


def test_an_unqualified_or_busy_interpreter_is_409(api, world):
    problem_of(api.post("/bookings", booking_body(interpreter=str(world.omar), min_category="A"), as_="booker"), 409)
    problem_of(api.post("/bookings", booking_body(interpreter=str(world.omar), start=rfc(oslo(TUESDAY, 17)),
                                                  end=rfc(oslo(TUESDAY, 18))), as_="booker"), 409)


# Idempotency ------------------------------------------------------------------------------------

def test_the_same_idempotency_key_and_body_returns_the_same_booking(api, session, world):
    headers = {"Idempotency-Key": "order-123"}
    first = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="booker", headers=headers)
    again = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="booker", headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true" and again.headers["Location"] == first.headers["Location"]
    # The same request from the same agency's other user is the same booking too.
    also = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="agency_admin", headers=headers)
    assert also.status_code == 200 and also.get_json()["id"] == first.get_json()["id"]
    assert count(session) == 1


def test_the_same_key_with_another_body_is_422(api, session, world):
    headers = {"Idempotency-Key": "order-123"}
    assert api.post("/bookings", booking_body(), as_="booker", headers=headers).status_code == 201
    problem = problem_of(api.post("/bookings", booking_body(reference="other"), as_="booker", headers=headers), 422)
    assert problem["type"].endswith("#problem-idempotency-key-reused")
    assert count(session) == 1


def test_keys_are_per_agency(api, session, world):
    headers = {"Idempotency-Key": "order-123"}
    assert api.post("/bookings", booking_body(), as_="booker", headers=headers).status_code == 201
    assert api.post("/bookings", booking_body(), as_="booker_b", headers=headers).status_code == 201
    assert count(session) == 2


def test_a_bad_idempotency_key_is_400(api, world):
    problem = problem_of(api.post("/bookings", booking_body(), as_="booker", headers={"Idempotency-Key": "x" * 201}),
                         400)
    assert problem["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("direct", [True, False])
def test_a_duplicate_that_loses_the_race_gets_the_winners_booking(api, session, world, monkeypatch, direct):
    """Two requests with one key at once: both see no booking, both book; the database lets one win
    (the unique key, or the interpreter's slot), and the loser answers with the winner's booking."""
    headers = {"Idempotency-Key": "race-1"}
    body = booking_body(interpreter=str(world.amina) if direct else None)
    winner = api.post("/bookings", body, as_="booker", headers=headers)
    original = api_bookings._booked_with
    calls = []

    def late_look(key):
        calls.append(key)
        return None if len(calls) == 1 else original(key)  # the first look happens before the winner commits

    monkeypatch.setattr(api_bookings, "_booked_with", late_look)
    loser = api.post("/bookings", body, as_="booker", headers=headers)
    assert (winner.status_code, loser.status_code) == (201, 200), loser.get_data(as_text=True)
    assert loser.get_json()["id"] == winner.get_json()["id"] and len(calls) == 2
    assert count(session) == 1


# Following ------------------------------------------------------------------------------------------

def test_lists_show_only_the_agencys_bookings_and_page(api, world):
    mine = [book(api, start=rfc(oslo(TUESDAY, h)), end=rfc(oslo(TUESDAY, h + 1)))["id"] for h in (9, 11, 13)]
    book(api, as_="booker_b")
    seen, cursor = [], None
    while True:
        body = api.get("/bookings?limit=2" + (f"&cursor={cursor}" if cursor else ""), as_="agency_admin").get_json()
        seen += [b["id"] for b in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == mine
    window = f"from={rfc(oslo(TUESDAY, 10))}&to={rfc(oslo(TUESDAY, 12))}".replace("+", "%2B")
    assert [b["id"] for b in api.get("/bookings?" + window, as_="booker").get_json()["items"]] == [mine[1]]
    assert api.get("/bookings?status=cancelled", as_="booker").get_json()["items"] == []
    problem_of(api.get("/bookings?status=lost", as_="booker"), 400)
    problem_of(api.get("/bookings?from=yesterday", as_="booker"), 400)


def _statements(session, request) -> tuple[int, list[int]]:
    """How many statements a request ran, and the ids of the bookings it listed."""
    seen = []
    with listening(session.get_bind(), before_cursor_execute=lambda *args: seen.append(args[2])):
        body = request().get_json()
    return len(seen), [b["id"] for b in body["items"]]


def test_a_list_reads_its_interpreters_and_bodies_at_once_not_one_by_one(api, session, world):
    """A page of bookings costs the same statements whether they are with one interpreter or several, for one public
    body or several: the API's agency list was 27 statements for a page of 25 bookings with 25 interpreters."""
    with_amina = book(api, interpreter=str(world.amina), start=rfc(oslo(TUESDAY, 9)), end=rfc(oslo(TUESDAY, 10)))
    agency_list = lambda: api.get("/bookings", as_="booker")  # noqa: E731
    mine = lambda: api.get("/me/bookings", as_="interpreter")  # noqa: E731
    agency_list(), mine()  # each token's first use is also written down (last_used_at), apart
    alone, listed = _statements(session, agency_list)
    assert listed == [with_amina["id"]]
    own_alone, listed = _statements(session, mine)
    assert listed == [with_amina["id"]]
    with_omar = book(api, interpreter=str(world.omar), start=rfc(oslo(TUESDAY, 13)), end=rfc(oslo(TUESDAY, 14)))
    for_body_b = book(api, as_="booker_b", interpreter=str(world.amina), start=rfc(oslo(TUESDAY, 15)),
                      end=rfc(oslo(TUESDAY, 16)))
    assert _statements(session, agency_list) == (alone, [with_amina["id"], with_omar["id"]])
    assert _statements(session, mine) == (own_alone, [with_amina["id"], for_body_b["id"]])


def test_a_status_is_looked_for_among_the_agencys_own_bookings(api, session, world):
    """Without statistics SQLite read every booking in the country with the status (ix_bookings_status_starts), in
    start order, to find the agency's: 17-32 ms a page on the bench data. It reads the agency's own instead, on
    PostgreSQL as its statistics say."""
    from registry.domain.booking import agency_bookings

    made = [book(api, start=rfc(oslo(TUESDAY, h)), end=rfc(oslo(TUESDAY, h + 1)))["id"] for h in (9, 11)]
    other = book(api, as_="booker_b")["id"]
    for booking_id, as_ in ((made[1], "booker"), (other, "booker_b")):
        assert api.post(f"/bookings/{booking_id}/cancel", {}, as_=as_).status_code == 200
    listed = [b["id"] for b in api.get("/bookings?status=cancelled", as_="booker").get_json()["items"]]
    assert listed == [made[1]]
    if session.get_bind().dialect.name == "sqlite":
        agency = session.scalar(sa.select(Booking.agency_id).where(Booking.id == made[1]))
        plan, = plans(session, lambda: agency_bookings(session, agency, status="cancelled", limit=25), "FROM bookings")
        assert "ix_bookings_agency_starts" in plan and "ix_bookings_status_starts" not in plan, plan


def test_another_agencys_booking_is_404(api, world):
    made = book(api, as_="booker_b")
    problem_of(api.get(f"/bookings/{made['id']}", as_="booker"), 404)
    problem_of(api.post(f"/bookings/{made['id']}/cancel", {}, as_="booker"), 404)
    problem_of(api.get("/bookings/0", as_="booker"), 404)
    assert api.get(f"/bookings/{made['id']}", as_="booker_b").status_code == 200


def test_an_interpreter_sees_bookings_assigned_or_offered_to_them_only(api, world):
    direct = book(api, interpreter=str(world.omar))
    assert api.get(f"/bookings/{direct['id']}", as_="interpreter2").status_code == 200
    problem_of(api.get(f"/bookings/{direct['id']}", as_="interpreter"), 404)
    problem_of(api.get(f"/bookings/{direct['id']}", as_="admin"), 403)


def test_an_offer_another_took_or_that_closed_is_gone_for_the_others(api, world):
    """The web shows the others only that it was taken; the API told them who took it, and everything after."""
    made = book(api, reference="ward 7", contact_name="Kari Nordmann")
    assert api.get(f"/bookings/{made['id']}", as_="interpreter").get_json()["contact"]["name"] == "Kari Nordmann"
    api.post(f"/bookings/{made['id']}/accept", as_="interpreter2")
    response = api.get(f"/bookings/{made['id']}", as_="interpreter")
    problem = problem_of(response, 410)
    assert "another interpreter took" in problem["detail"]
    assert problem["type"].endswith("#problem-gone")
    for private in ("Omar", str(world.omar), "ward 7", "Kari"):
        assert private not in response.get_data(as_text=True)
    assert api.get(f"/bookings/{made['id']}", as_="interpreter2").get_json()["status"] == "confirmed"

    closed = book(api, start=rfc(oslo(TUESDAY, 13)), end=rfc(oslo(TUESDAY, 14)))
    api.post(f"/bookings/{closed['id']}/cancel", {"reason": "The patient went home"}, as_="booker")
    response = api.get(f"/bookings/{closed['id']}", as_="interpreter", language="nb")
    assert problem_of(response, 410)["detail"] == "Dette oppdraget er ikke lenger åpent."
    assert "went home" not in response.get_data(as_text=True)


# Cancelling ------------------------------------------------------------------------------------

def test_cancel(api, world):
    made = book(api, interpreter=str(world.amina))
    response = api.post(f"/bookings/{made['id']}/cancel", {"reason": "The patient was discharged"}, as_="booker")
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "cancelled"
    assert body["cancel_reason"] == "The patient was discharged" and body["late_cancellation"] is False
    problem_of(api.post(f"/bookings/{made['id']}/cancel", as_="booker"), 409)
    problem_of(api.post(f"/bookings/{made['id']}/cancel", as_="interpreter"), 403)


def test_cancel_without_a_body_and_late_cancellation(api, world):
    made = book(api, interpreter=str(world.amina), start=rfc(NOW + timedelta(hours=3)),
                end=rfc(NOW + timedelta(hours=4)))
    assert api.post(f"/bookings/{made['id']}/accept", as_="interpreter").get_json()["status"] == "confirmed"
    body = api.client.post(f"/api/v1/bookings/{made['id']}/cancel", headers=api.headers("booker")).get_json()
    assert body["status"] == "cancelled" and body["late_cancellation"] is True and body["billable"] is True


# Interpreters answer -----------------------------------------------------------------------------

def test_accept_and_decline_a_direct_request(api, world):
    first = book(api, interpreter=str(world.amina))
    second = book(api, interpreter=str(world.amina), start=rfc(oslo(TUESDAY, 13)), end=rfc(oslo(TUESDAY, 14)))
    assert api.post(f"/bookings/{first['id']}/accept", as_="interpreter").get_json()["status"] == "confirmed"
    assert api.post(f"/bookings/{second['id']}/decline", as_="interpreter").get_json()["status"] == "declined"
    problem_of(api.post(f"/bookings/{second['id']}/accept", as_="interpreter"), 409)
    problem_of(api.post(f"/bookings/{first['id']}/accept", as_="interpreter2"), 404)
    problem_of(api.post(f"/bookings/{first['id']}/accept", as_="booker"), 403)


def test_an_open_request_goes_to_the_first_who_accepts(api, world):
    made = book(api)
    offers = api.get("/me/offers", as_="interpreter2").get_json()
    assert [b["id"] for b in offers["items"]] == [made["id"]] and offers["next_cursor"] is None
    won = api.post(f"/bookings/{made['id']}/accept", as_="interpreter2").get_json()
    assert won["status"] == "confirmed" and won["interpreter"]["register_number"] == str(world.omar)
    problem = problem_of(api.post(f"/bookings/{made['id']}/accept", as_="interpreter"), 409)
    assert "another interpreter" in problem["detail"]
    assert api.get("/me/offers", as_="interpreter").get_json()["items"] == []


def test_withdraw_reopens_the_booking(api, world):
    made = book(api, interpreter=str(world.amina))
    api.post(f"/bookings/{made['id']}/accept", as_="interpreter")
    body = api.post(f"/bookings/{made['id']}/withdraw", as_="interpreter").get_json()
    assert body["status"] == "open" and body["interpreter"] is None
    problem_of(api.post(f"/bookings/{made['id']}/withdraw", as_="interpreter"), 404)  # no longer theirs
    assert [b["id"] for b in api.get("/me/offers", as_="interpreter2").get_json()["items"]] == [made["id"]]


def test_my_bookings(api, world):
    made = [book(api, interpreter=str(world.amina), start=rfc(oslo(TUESDAY, h)), end=rfc(oslo(TUESDAY, h + 1)))
            for h in (9, 11, 13)]
    book(api, interpreter=str(world.omar))
    first = api.get("/me/bookings?limit=2", as_="interpreter").get_json()
    rest = api.get(f"/me/bookings?limit=2&cursor={first['next_cursor']}", as_="interpreter").get_json()
    assert [b["id"] for b in first["items"] + rest["items"]] == [b["id"] for b in made]
    assert rest["next_cursor"] is None
    problem_of(api.get("/me/bookings", as_="booker"), 403)


# Time report and approval -------------------------------------------------------------------------

def test_report_time_then_approve(api, world):
    made = book(api, interpreter=str(world.amina), start=rfc(NOW + timedelta(hours=2)),
                end=rfc(NOW + timedelta(hours=3)))
    api.post(f"/bookings/{made['id']}/accept", as_="interpreter")
    report = {"actual_start": rfc(NOW + timedelta(hours=2)), "actual_end": rfc(NOW + timedelta(hours=3, minutes=20))}
    problem_of(api.post(f"/bookings/{made['id']}/time-report", report, as_="interpreter"), 409)  # not over yet
    problem_of(api.post(f"/bookings/{made['id']}/approve-time", as_="booker"), 409)  # nothing reported
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        problem = problem_of(api.post(f"/bookings/{made['id']}/time-report",
                                      {**report, "actual_end": "2027-03-01T11:20:00"}, as_="interpreter"), 422)
        assert problem["errors"][0]["field"] == "actual_end"
        problem_of(api.post(f"/bookings/{made['id']}/time-report", {**report, "travel_minutes": 30},
                            as_="interpreter"), 422)  # video: no travel time
        body = api.post(f"/bookings/{made['id']}/time-report", report, as_="interpreter").get_json()
        assert body["time_report"] == {"state": "reported", "actual_start": "2027-03-01T10:00:00+01:00",
                                       "actual_end": "2027-03-01T11:20:00+01:00", "travel_minutes": None,
                                       "dispute_reason": None}
        problem_of(api.post(f"/bookings/{made['id']}/approve-time", as_="interpreter"), 403)
        problem_of(api.post(f"/bookings/{made['id']}/approve-time", as_="booker_b"), 404)
        approved = api.post(f"/bookings/{made['id']}/approve-time", as_="booker").get_json()
        assert approved["status"] == "completed" and approved["time_report"]["state"] == "approved"
        assert approved["billable"] is True


def told(session, kind: str) -> list[int]:
    session.rollback()
    return [m.params["booking_id"] for m in session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == kind))]


def test_dispute_the_reported_time_then_approve_the_new_report(api, world, session):
    """The web had dispute and no-show; a hospital's system booking through the API had to switch to the web."""
    made = book(api, interpreter=str(world.amina), start=rfc(NOW + timedelta(hours=2)),
                end=rfc(NOW + timedelta(hours=3)))
    api.post(f"/bookings/{made['id']}/accept", as_="interpreter")
    dispute = f"/bookings/{made['id']}/dispute-time"
    problem_of(api.post(dispute, {"reason": "Ended at 10:00"}, as_="booker"), 409)  # nothing reported yet
    report = {"actual_start": rfc(NOW + timedelta(hours=2)), "actual_end": rfc(NOW + timedelta(hours=3, minutes=20))}
    with time_machine.travel(NOW + timedelta(hours=5), tick=False):
        api.post(f"/bookings/{made['id']}/time-report", report, as_="interpreter")
        assert problem_of(api.post(dispute, {}, as_="booker"), 422)["errors"][0]["field"] == "reason"
        assert problem_of(api.post(dispute, {"reason": "   "}, as_="booker"), 422)["errors"][0]["field"] == "reason"
        problem_of(api.post(dispute, {"reason": "x" * 501}, as_="booker"), 422)
        problem_of(api.post(dispute, {"reason": "Ended at 10:00"}, as_="interpreter"), 403)
        problem_of(api.post(dispute, {"reason": "Ended at 10:00"}, as_="booker_b"), 404)
        assert told(session, "time_disputed") == []
        body = api.post(dispute, {"reason": "Ended at 10:00"}, as_="booker").get_json()
        assert (body["status"], body["time_report"]["state"], body["time_report"]["dispute_reason"]) == (
            "confirmed", "disputed", "Ended at 10:00")
        assert told(session, "time_disputed") == [made["id"]]
        problem_of(api.post(dispute, {"reason": "Again"}, as_="booker"), 409)  # nothing newly reported
        again = {**report, "actual_end": rfc(NOW + timedelta(hours=3))}
        assert api.post(f"/bookings/{made['id']}/time-report", again, as_="interpreter").get_json()[
            "time_report"]["state"] == "reported"
        approved = api.post(f"/bookings/{made['id']}/approve-time", as_="booker").get_json()
        assert (approved["status"], approved["time_report"]["actual_end"]) == ("completed", "2027-03-01T11:00:00+01:00")


@pytest.mark.parametrize("party, billable", [("client", True), ("interpreter", False)])
def test_record_a_no_show(api, world, session, party, billable):
    made = book(api, interpreter=str(world.amina), start=rfc(NOW + timedelta(hours=2)),
                end=rfc(NOW + timedelta(hours=3)))
    no_show = f"/bookings/{made['id']}/no-show"
    with time_machine.travel(NOW + timedelta(hours=2, minutes=30), tick=False):
        problem_of(api.post(no_show, {"party": party}, as_="booker"), 409)  # never confirmed
    api.post(f"/bookings/{made['id']}/accept", as_="interpreter")
    problem_of(api.post(no_show, {"party": party}, as_="booker"), 409)  # not started yet
    with time_machine.travel(NOW + timedelta(hours=2, minutes=30), tick=False):
        assert problem_of(api.post(no_show, {"party": "nobody"}, as_="booker"), 422)["errors"][0]["field"] == "party"
        problem_of(api.post(no_show, {}, as_="booker"), 422)
        problem_of(api.post(no_show, {"party": party}, as_="interpreter"), 403)
        problem_of(api.post(no_show, {"party": party}, as_="booker_b"), 404)
        body = api.post(no_show, {"party": party}, as_="booker").get_json()
        assert (body["status"], body["no_show"], body["billable"]) == ("completed", party, billable)
        problem_of(api.post(no_show, {"party": party}, as_="booker"), 409)  # recorded once
    assert told(session, "no_show_recorded") == ([made["id"]] if party == "interpreter" else [])


@pytest.mark.parametrize("direct", [True, False])
def test_concurrent_duplicates_book_once(app, session, world, direct):
    """Four requests with one Idempotency-Key at the same moment: one booking, one 201, the others 200."""
    import threading

    body = booking_body(interpreter=str(world.amina) if direct else None)
    headers = {"Authorization": f"Bearer {world.tokens['booker']}", "Idempotency-Key": "same-moment"}
    start, statuses, ids = threading.Barrier(4), [], set()

    def post():
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/bookings", json=body, headers=headers)
        statuses.append(response.status_code)
        ids.add(response.get_json().get("id"))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 200, 200, 201] and len(ids) == 1
    assert count(session) == 1


@pytest.mark.parametrize("keys", [True, False])
def test_concurrent_requests_for_one_slot_give_one_booking_and_409s(app, session, world, keys):
    """Lost races answer 409, never 500, with or without (different) idempotency keys."""
    import threading

    start, statuses = threading.Barrier(4), []

    def post(n):
        client = app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens['booker']}"}
        if keys:
            headers["Idempotency-Key"] = f"key-{n}"
        start.wait()
        body = booking_body(interpreter=str(world.amina), reference=f"R{n}")
        statuses.append(client.post("/api/v1/bookings", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201, 409, 409, 409]
    assert count(session) == 1


def test_someone_elses_booking_is_404_whatever_the_body(api, world):
    made = book(api, interpreter=str(world.amina))
    problem_of(api.post(f"/bookings/{made['id']}/time-report", {}, as_="interpreter2"), 404)
    problem_of(api.post(f"/bookings/{made['id']}/cancel", {"reason": 5}, as_="booker_b"), 404)
    problem_of(api.post(f"/bookings/{made['id']}/time-report", {}, as_="interpreter"), 422)


# The token and SQLite's write lock ---------------------------------------------------------------------

@pytest.mark.parametrize("reads", ["FROM api_tokens", "JOIN users ON users.interpreter_id = interpreters.id"],
                         ids=["token", "interpreter"])
def test_a_booking_reads_its_token_and_interpreter_before_it_takes_sqlites_write_lock(api, app, world, reads):
    """On SQLite a write transaction holds the one write lock from its BEGIN, so whatever it reads first keeps every
    other writer waiting. A direct booking reads its token, then finds its interpreter with their address and checks
    that they are active, qualified and work this way (booking.choose), each in a read transaction of its own; then
    it checks the slot is free and books in a write transaction: a second connection can take the write lock while
    the token and the interpreter are read. On PostgreSQL, where writers do not queue at BEGIN, all is one
    transaction."""
    assert api.get("/bookings", as_="booker").status_code == 200  # the token's use is recorded: nothing to write
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    with write_lock_probe(engine, reads) as seen:
        response = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="booker")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert seen.others == (["could write"] if sqlite else [])
    assert len(seen.read_in) == 1 and len(seen.booked_in) == 1
    # The transaction the token was read in (counted by BEGIN) is, or is not, the one the booking is written in.
    assert (seen.read_in[0] == seen.booked_in[0]) is not sqlite


def test_a_booking_with_a_token_unused_for_a_while_records_its_use_and_books(api, session, world):
    # The token's last use is written apart (every five minutes at most), before the booking's own transaction.
    token_of_booker = sa.select(ApiToken).where(ApiToken.user_id == world.user_ids["booker"])
    session.execute(sa.update(ApiToken).where(ApiToken.user_id == world.user_ids["booker"])
                    .values(last_used_at=NOW - timedelta(hours=1)))
    session.commit()
    response = api.post("/bookings", booking_body(interpreter=str(world.amina)), as_="booker")
    assert response.status_code == 201, response.get_data(as_text=True)
    session.rollback()
    assert session.scalar(token_of_booker).last_used_at == NOW
    made = session.get(Booking, response.get_json()["id"])
    assert made.status == "requested" and made.booker_id == world.user_ids["booker"]
