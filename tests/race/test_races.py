"""Real races: the app in 4 gunicorn worker processes, 16 simultaneous requests, exactly one winner.

On SQLite the writers serialise on BEGIN IMMEDIATE and the overlap triggers; on PostgreSQL the
exclusion constraint decides. Either way the losers get 409, never 500, and the database holds no
overlap afterwards.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
import sqlalchemy as sa

from registry.domain import accounts
from registry.domain.clock import OSLO
from registry.models import Booking, WorkingHours
from tests.helpers import interpreter, user

ROOT = Path(__file__).resolve().parents[2]
RACERS = 16


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(app):
    """gunicorn with 4 workers on the test database."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="race-test",
               REGISTRY_PASSWORD_HASH_PROFILE="CHEAPEST", REGISTRY_MAIL_LOG_ON_QUEUE="false")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--workers", "4", "--bind", f"127.0.0.1:{port}",
         "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def call(base: str, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body or {}).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                              "Accept-Language": "en"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def all_at_once(jobs) -> list:
    """Run the callables in threads released together by a barrier; their results in order."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(n, job):
        barrier.wait()
        try:
            results[n] = job()
        except Exception as error:  # noqa: BLE001 - reported in the assertion, not lost in a thread
            results[n] = (repr(error), {})

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def next_tuesday_10() -> datetime:
    today = datetime.now(OSLO).date()
    day = today + timedelta(days=(1 - today.weekday()) % 7 + 7)
    return datetime.combine(day, clock_time(10), tzinfo=OSLO)


def always_working(session, person):
    for day in range(7):
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=clock_time(0),
                                 end_time=clock_time(23, 59)))
    session.commit()


def holding_overlaps(session) -> int:
    one, two = sa.orm.aliased(Booking), sa.orm.aliased(Booking)
    return session.scalar(sa.select(sa.func.count()).select_from(one).join(two, sa.and_(
        one.interpreter_id == two.interpreter_id, one.id < two.id,
        one.status.in_(("requested", "confirmed")), two.status.in_(("requested", "confirmed")),
        one.starts_at < two.ends_at, two.starts_at < one.ends_at)))


def test_sixteen_bookers_one_slot(session, server):
    booker = user(session, "booker@helse.example")
    _, token = accounts.create_api_token(session, booker, "race")
    session.commit()
    person = interpreter(session, "Amina Ali", credentials=[("authorisation", "ar")], today=datetime.now(OSLO).date())
    always_working(session, person)
    register_number, person_id = person.register_number, person.id
    start = next_tuesday_10()

    def book(n):
        begin = start + timedelta(minutes=5 * n)  # every request overlaps every other
        return lambda: call(server, "POST", "/api/v1/bookings", token, {
            "language": "ar", "min_category": "C", "modality": "video", "sector": "health",
            "start": begin.isoformat(), "end": (begin + timedelta(hours=2)).isoformat(),
            "interpreter": str(register_number)})

    results = all_at_once([book(n) for n in range(RACERS)])
    statuses = [status for status, _ in results]
    assert sorted(statuses, key=str) == [201] + [409] * (RACERS - 1), results
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.interpreter_id == person_id, Booking.status == "requested")) == 1
    assert holding_overlaps(session) == 0


def test_sixteen_interpreters_one_open_request(session, server):
    booker = user(session, "booker@helse.example")
    _, booker_token = accounts.create_api_token(session, booker, "race")
    tokens = []
    today = datetime.now(OSLO).date()
    for n in range(RACERS):
        person = interpreter(session, f"Tolk {n:02d}", credentials=[("authorisation", "ar")], today=today,
                             email=f"tolk{n}@example.no")
        always_working(session, person)
        login = user(session, f"tolk{n}@example.no", role="interpreter", person=person)
        tokens.append(accounts.create_api_token(session, login, "race")[1])
    session.commit()
    start = next_tuesday_10()
    status, made = call(server, "POST", "/api/v1/bookings", booker_token, {
        "language": "ar", "min_category": "C", "modality": "video", "sector": "health",
        "start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()})
    assert status == 201 and made["status"] == "open"
    results = all_at_once([
        (lambda t=t: call(server, "POST", f"/api/v1/bookings/{made['id']}/accept", t)) for t in tokens])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (RACERS - 1), statuses
    session.rollback()
    winner = session.get(Booking, made["id"])
    assert winner.status == "confirmed" and winner.interpreter_id is not None


def test_one_interpreter_sixteen_overlapping_open_requests(session, server):
    """The losers are told why in words for the interpreter, whichever check stopped them: the free-time check, or
    the database (on PostgreSQL the exclusion constraint, or a deadlock when two acceptances each wait for the
    other's row there, which must be a 409 too). They were told "The interpreter was booked by someone else"."""
    booker = user(session, "booker@helse.example")
    _, booker_token = accounts.create_api_token(session, booker, "race")
    person = interpreter(session, "Amina Ali", credentials=[("authorisation", "ar")], today=datetime.now(OSLO).date(),
                         email="amina@example.no")
    always_working(session, person)
    login = user(session, "amina@example.no", role="interpreter", person=person)
    _, token = accounts.create_api_token(session, login, "race")
    session.commit()
    person_id = person.id
    start = next_tuesday_10()
    made = []
    for n in range(RACERS):
        begin = start + timedelta(minutes=5 * n)  # every request overlaps every other
        status, body = call(server, "POST", "/api/v1/bookings", booker_token, {
            "language": "ar", "min_category": "C", "modality": "video", "sector": "health",
            "start": begin.isoformat(), "end": (begin + timedelta(hours=2)).isoformat()})
        assert status == 201 and body["status"] == "open", body
        made.append(body["id"])
    results = all_at_once([
        (lambda n=n: call(server, "POST", f"/api/v1/bookings/{n}/accept", token)) for n in made])
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [409] * (RACERS - 1), results
    for _, body in results:
        assert body["status"] == "confirmed" or body["detail"] in (
            "You took or were booked for another assignment at this time a moment ago, so you cannot take this one.",
            "Amina Ali is not free at that time: outside working hours, absent or already booked."), body
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.interpreter_id == person_id, Booking.status == "confirmed")) == 1
    assert holding_overlaps(session) == 0
