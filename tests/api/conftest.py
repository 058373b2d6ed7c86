"""The API world: two agencies, one user of each role with an API token, bookable interpreters, frozen time.

    def test_something(api, world):
        response = api.get("/bookings", as_="booker")

`api` sends JSON with a bearer token (as_= a key of world.tokens, or None for no token) and English
messages unless told otherwise. Time stands still at NOW (Monday 1 March 2027, 08:00 in Oslo).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from registry.domain import accounts
from registry.domain.times import to_utc
from registry.extensions import limiter
from registry.models import WorkingHours
from tests.helpers import interpreter

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
TUESDAY = date(2027, 3, 2)
ORGNR_A = "990993122"
ORGNR_B = "966240423"
A = [("authorisation", "ar"), ("bachelor", "ar")]
C = [("authorisation", "ar"), ("authorisation", "so")]


def oslo(day: date, hh: int, mm: int = 0) -> datetime:
    return to_utc(datetime.combine(day, time(hh, mm)), "start")


def rfc(moment: datetime) -> str:
    return moment.isoformat()


@dataclass(frozen=True)
class World:
    tokens: dict
    agency_a: int
    agency_b: int
    amina: int  # register numbers
    omar: int
    amina_id: int
    omar_id: int
    user_ids: dict


def working(session, person, days=range(5), start=time(8), end=time(16)):
    for day in days:
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=start, end_time=end))


def make_world(session) -> World:
    """Committed: agencies A and B, users of every role with tokens, two interpreters working Mon-Fri 8-16."""
    amina = interpreter(session, "Amina Ali", credentials=A, today=NOW.date(), email="amina@example.no",
                        publish_contact=True)
    omar = interpreter(session, "Omar Osman", credentials=C, today=NOW.date(), email="omar@example.no",
                       gender="male", county="46", municipality_number="4601")
    working(session, amina)
    working(session, omar)
    agency_a = accounts.create_agency(session, ORGNR_A, "Sykehuset Aust HF", "health", "03")
    agency_b = accounts.create_agency(session, ORGNR_B, "NAV Vest", "nav", "46")
    users = {
        "admin": accounts.create_user(session, "admin@imdi.no", "Ada Admin", "registry_admin"),
        "agency_admin": accounts.create_user(session, "leder@aust.no", "Lea Leder", "agency_admin", agency=agency_a),
        "booker": accounts.create_user(session, "bestiller@aust.no", "Bo Bestiller", "booker", agency=agency_a),
        "booker_b": accounts.create_user(session, "bestiller@vest.no", "Ben Vest", "booker", agency=agency_b),
        "interpreter": accounts.create_user(session, "amina@example.no", "Amina Ali", "interpreter",
                                            interpreter=amina),
        "interpreter2": accounts.create_user(session, "omar@example.no", "Omar Osman", "interpreter",
                                             interpreter=omar),
    }
    tokens = {key: accounts.create_api_token(session, user, "test")[1] for key, user in users.items()}
    world = World(tokens, agency_a.id, agency_b.id, amina.register_number, omar.register_number, amina.id, omar.id,
                  {key: user.id for key, user in users.items()})
    session.commit()  # and no transaction left open, so requests and the test do not lock each other out
    return world


@pytest.fixture
def frozen():
    traveller = time_machine.travel(NOW, tick=False)
    traveller.start()
    yield NOW
    traveller.stop()


@pytest.fixture
def api_config(app):
    """A rate limit no test reaches by accident; restored afterwards."""
    saved = app.config.get("API_RATE_LIMIT")
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    with app.app_context():
        limiter.reset()
    yield app
    if saved is None:
        app.config.pop("API_RATE_LIMIT", None)
    else:
        app.config["API_RATE_LIMIT"] = saved


@pytest.fixture
def world(session, frozen, api_config) -> World:
    return make_world(session)


class Api:
    """JSON requests to /api/v1 with a token from the world."""

    def __init__(self, client, tokens: dict):
        self.client, self.tokens = client, tokens

    def headers(self, as_, language="en", extra=None) -> dict:
        headers = {"Accept-Language": language}
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.tokens.get(as_, as_)}"
        headers.update(extra or {})
        return headers

    def get(self, path, as_=None, language="en", headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self.headers(as_, language, headers), **kwargs)

    def post(self, path, json=None, as_=None, language="en", headers=None, **kwargs):
        return self.client.post("/api/v1" + path, json=json, headers=self.headers(as_, language, headers), **kwargs)


@pytest.fixture
def api(client, world) -> Api:
    return Api(client, world.tokens)


def booking_body(**changes) -> dict:
    """A valid request for Tuesday 10:00-11:00 by video, in Arabic, category C or better."""
    body = {"language": "ar", "min_category": "C", "modality": "video", "start": rfc(oslo(TUESDAY, 10)),
            "end": rfc(oslo(TUESDAY, 11)), "sector": "health", "meeting_url": "https://meet.example/abc"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def problem_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
