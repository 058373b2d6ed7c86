"""Logins for web tests: one user of each role, and a helper that logs a test client in.

    def test_something(client, users, login):
        login(client, users.booker)
        assert client.get("/account").status_code == 200

`users` holds plain snapshots (Person), not ORM objects, so a test can use them across requests
without worrying about which database session loaded them.
"""

from dataclasses import dataclass
from types import SimpleNamespace

import pyotp
import pytest

from registry.domain import accounts
from registry.extensions import limiter
from tests.helpers import interpreter, totp_code

PASSWORD = "correct horse battery staple"
ORGNR_A = "990993122"
ORGNR_B = "966240423"


@dataclass(frozen=True)
class Person:
    id: int
    email: str
    name: str
    role: str
    agency_id: int | None
    totp_secret: str | None
    password: str = PASSWORD


def person(user) -> Person:
    return Person(user.id, user.email, user.name, user.role, user.agency_id,
                  user.totp_secret if user.totp_enabled else None)


@pytest.fixture
def web_config(app):
    """Cheap password hashing and no CSRF tokens for the test client; restored afterwards."""
    keys = ("PASSWORD_HASH_PROFILE", "WTF_CSRF_ENABLED")
    saved = {key: app.config.get(key) for key in keys}
    app.config.update(PASSWORD_HASH_PROFILE="CHEAPEST", WTF_CSRF_ENABLED=False)
    with app.app_context():
        limiter.reset()  # login rate limits count per address across tests otherwise
    yield app
    app.config.update(saved)
    with app.app_context():
        limiter.reset()


def make_user(session, email: str, name: str, role: str, password: str = PASSWORD, **links):
    """A user with a password, through the real domain functions (not committed)."""
    user = accounts.create_user(session, email, name, role, **links)
    accounts.set_password(user, password, "CHEAPEST")
    return user


@pytest.fixture
def users(session, web_config):
    """Agencies A and B, and one user of each role (committed):

    admin (registry admin, two-factor on), agency_admin and booker of A, other_admin (agency admin of B),
    booker_b (booker of B), interpreter and interpreter2 (interpreters with logins).
    """
    first = interpreter(session, "Tolk Første", email="tolk1@example.no")
    second = interpreter(session, "Tolk Andre", email="tolk2@example.no")
    agency_a = accounts.create_agency(session, ORGNR_A, "Sykehuset Aust HF", "health", "03")
    agency_b = accounts.create_agency(session, ORGNR_B, "NAV Vest", "nav", "46")
    admin = make_user(session, "admin@imdi.no", "Ada Admin", "registry_admin")
    admin.totp_secret, admin.totp_enabled = pyotp.random_base32(), True
    made = {
        "admin": admin,
        "agency_admin": make_user(session, "leder@aust.no", "Lea Leder", "agency_admin", agency=agency_a),
        "booker": make_user(session, "bestiller@aust.no", "Bo Bestiller", "booker", agency=agency_a),
        "other_admin": make_user(session, "leder@vest.no", "Vera Vest", "agency_admin", agency=agency_b),
        "booker_b": make_user(session, "bestiller@vest.no", "Ben Vest", "booker", agency=agency_b),
        "interpreter": make_user(session, "tolk1@example.no", "Tolk Første", "interpreter", interpreter=first),
        "interpreter2": make_user(session, "tolk2@example.no", "Tolk Andre", "interpreter", interpreter=second),
    }
    session.commit()
    return SimpleNamespace(agency_a=agency_a.id, agency_b=agency_b.id,
                           **{key: person(user) for key, user in made.items()})


def log_in(client, who: Person, password: str | None = None):
    """Log `client` in as `who` through /login (and /login/code with a fresh TOTP code when two-factor is on)."""
    response = client.post("/login", data={"email": who.email, "password": password or who.password})
    if who.totp_secret:
        assert response.status_code == 302 and "/login/code" in response.location, response.text
        response = client.post("/login/code", data={"code": totp_code(who.totp_secret)})
    assert response.status_code == 302, response.text
    return response


@pytest.fixture
def login(web_config):
    """log_in(client, person, password=None) as a fixture."""
    return log_in
