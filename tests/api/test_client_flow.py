"""A client written from /api/v1/openapi.json alone: it knows operation ids, and takes paths and methods
from the document. An administrator registers an interpreter with credentials; they appear in the public
register; a booker finds and books (direct and open), follows and cancels; interpreters accept and report
time; the booker approves it."""

from datetime import timedelta

import time_machine

from tests.api.conftest import NOW, rfc


class DocumentClient:
    def __init__(self, test_client, tokens):
        self.http, self.tokens = test_client, tokens
        document = test_client.get("/api/v1/openapi.json").get_json()
        base = document["servers"][0]["url"]
        self.operations = {op["operationId"]: (method, base + path)
                           for path, item in document["paths"].items() for method, op in item.items()}

    def call(self, operation_id, as_=None, body=None, query=None, expect=200, **path_values):
        method, path = self.operations[operation_id]
        for name, value in path_values.items():
            path = path.replace("{" + name + "}", str(value))
        headers = {"Accept-Language": "en"}
        if as_:
            headers["Authorization"] = "Bearer " + self.tokens[as_]
        response = self.http.open(path, method=method.upper(), json=body, query_string=query, headers=headers)
        assert response.status_code == expect, (operation_id, response.get_data(as_text=True))
        return response.get_json() if response.is_json else response


def test_a_client_from_the_document_alone(client, world):
    api = DocumentClient(client, world.tokens)

    # An administrator registers an interpreter and a credential; the register shows them at once.
    made = api.call("createInterpreter", "admin", expect=201, body={
        "name": "Hodan Warsame", "gender": "female", "county": "03", "municipality": "0301",
        "email": "hodan@example.no", "modalities": ["video", "phone"], "availability": "full_time",
        "publish_contact": False})
    number = made["register_number"]
    for credential in ({"type": "authorisation", "language": "so", "issued_on": "2019-05-01"},
                       {"type": "bachelor", "language": "so", "issued_on": "2018-06-20"}):
        recorded = api.call("addCredential", "admin", body=credential, expect=201, register_number=number)
    assert recorded["languages"] == [{"code": "so", "name": "Somali", "category": "A"}]
    found = api.call("searchRegister", query={"language": "so", "min_category": "A"})["items"]
    assert [i["register_number"] for i in found] == [number]
    assert api.call("verifyInterpreter", register_number=number, query={"language": "so"})["category"] == "A"

    # A booker finds the best free interpreter for a slot and books them directly.
    start, end = NOW + timedelta(hours=2), NOW + timedelta(hours=3)  # Monday 10:00-11:00 in Oslo
    slot = {"language": "so", "min_category": "C", "modality": "video", "start": rfc(start), "end": rfc(end)}
    candidates = api.call("findAvailable", "booker", query=slot)["items"]
    assert [c["register_number"] for c in candidates] == [number, str(world.omar)]
    booking = api.call("createBooking", "booker", expect=201, body={
        **slot, "interpreter": number, "sector": "health", "meeting_url": "https://meet.example/so-1"})
    assert booking["status"] == "requested"
    assert api.call("getBooking", "booker", id=booking["id"])["interpreter"]["register_number"] == number
    listed = api.call("listBookings", "booker", query={"status": "requested"})
    assert [b["id"] for b in listed["items"]] == [booking["id"]] and listed["next_cursor"] is None
    # ...changes plans, and cancels it.
    cancelled = api.call("cancelBooking", "booker", body={"reason": "Moved"}, id=booking["id"])
    assert cancelled["status"] == "cancelled" and cancelled["late_cancellation"] is False

    # A direct request to Amina: she accepts, works, reports her time; the booker approves it.
    direct = api.call("createBooking", "booker", expect=201, body={
        "language": "ar", "min_category": "B", "modality": "video", "start": rfc(start), "end": rfc(end),
        "interpreter": str(world.amina), "sector": "nav", "reference": "NAV-77"})
    assert [b["id"] for b in api.call("listMyBookings", "interpreter")["items"]] == [direct["id"]]
    assert api.call("acceptBooking", "interpreter", id=direct["id"])["status"] == "confirmed"
    with time_machine.travel(end + timedelta(minutes=30), tick=False):
        reported = api.call("reportTime", "interpreter", id=direct["id"], body={
            "actual_start": rfc(start), "actual_end": rfc(end + timedelta(minutes=15))})
        assert reported["time_report"]["state"] == "reported"
        completed = api.call("approveTime", "booker", id=direct["id"])
    assert completed["status"] == "completed"
    assert api.call("getBooking", "booker", id=direct["id"])["time_report"]["state"] == "approved"

    # An open request: offered to Omar (Amina is busy then), who takes it.
    open_request = api.call("createBooking", "booker", expect=201, body={
        "language": "ar", "min_category": "C", "modality": "phone", "start": rfc(start), "end": rfc(end),
        "sector": "municipal"})
    assert open_request["status"] == "open" and open_request["interpreter"] is None
    offers = api.call("listMyOffers", "interpreter2")["items"]
    assert [o["id"] for o in offers] == [open_request["id"]]
    taken = api.call("acceptBooking", "interpreter2", id=open_request["id"])
    assert taken["status"] == "confirmed" and taken["interpreter"]["register_number"] == str(world.omar)
    assert api.call("getBooking", "booker", id=open_request["id"])["status"] == "confirmed"
