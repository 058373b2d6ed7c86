"""Every route of the app against every role: who gets in, who is refused, and how.

Each view declares who may use it (registry/access.py). This test walks app.url_map, so a new route is
covered the moment it exists, and fails for a route that declares nothing. For every route and role
the expected answer follows from the declaration and from who owns the object in the URL:

- a role the route does not admit: 403 (an anonymous visitor is sent to log in; the API answers 401);
- an admitted role opening someone else's object (another interpreter, another agency): 404;
- an admitted role on its own object, or on a route without objects: anything but 401, 403 and 5xx,
  and never a redirect to the login page.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine

from registry.access import rule_of
from registry.domain import accounts
from registry.domain import booking as b
from registry.models import Absence, Application, Credential, OutboxMessage, Sanction, UserSession, WorkingHours
from tests.helpers import interpreter

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
ROLES = ("anonymous", "interpreter", "other_interpreter", "booker", "other_agency_admin", "registry_admin")
ROLE_OF = {"interpreter": "interpreter", "other_interpreter": "interpreter", "booker": "booker",
           "other_agency_admin": "agency_admin", "registry_admin": "registry_admin"}
# Who owns the object an URL argument names, in the world below. Registry admins reach everything
# under /admin; anyone else admitted but not owning it gets 404.
OWNERS = {
    "booking_id": {"booker", "interpreter"},
    "credential_id": {"interpreter"},
    "absence_id": {"interpreter"},
    "token_id": {"booker"},
    "user_id": set(),          # the booker of agency X: only X's agency admin (not among the roles) owns it
    "agency_id": set(),
    "register_number": None,   # public numbers: no owner
    "id": {"booker", "interpreter"},  # the API's booking id
}


@dataclass
class World:
    users: dict
    values: dict
    tokens: dict


@pytest.fixture
def frozen(app):
    app.config["WTF_CSRF_ENABLED"] = False
    with time_machine.travel(NOW, tick=False):
        yield
    app.config["WTF_CSRF_ENABLED"] = True


def build_world(session) -> World:
    """Two interpreters, two public bodies, one user of each role, and objects owned by some of them."""
    amina = interpreter(session, "Amina Ali", credentials=[("authorisation", "ar")], today=NOW.date(),
                        email="amina@example.no")
    omar = interpreter(session, "Omar Osman", credentials=[("authorisation", "ar")], today=NOW.date(),
                       email="omar@example.no")
    for person in (amina, omar):
        for day in range(7):
            session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=time(0),
                                     end_time=time(23, 59)))
    agency_x = accounts.create_agency(session, "974760673", "Sykehuset X", "health", "03")
    agency_y = accounts.create_agency(session, "889640782", "NAV Y", "nav", "46")
    admin = accounts.create_user(session, "admin@imdi.example", "Ada", "registry_admin")
    admin.totp_secret, admin.totp_enabled = pyotp.random_base32(), True
    users = {
        "interpreter": accounts.create_user(session, "amina@example.no", "Amina", "interpreter", interpreter=amina),
        "other_interpreter": accounts.create_user(session, "omar@example.no", "Omar", "interpreter",
                                                  interpreter=omar),
        "booker": accounts.create_user(session, "booker@x.example", "Bo", "booker", agency=agency_x),
        "other_agency_admin": accounts.create_user(session, "admin@y.example", "Yr", "agency_admin",
                                                   agency=agency_y),
        "registry_admin": admin,
    }
    session.commit()
    start = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
    made = b.request_direct(session, users["booker"], amina.register_number, b.Details(
        language="ar", min_category="C", modality="video", starts_at=start, ends_at=start + timedelta(hours=1),
        sector="health"), NOW, b.Rules())
    credential = Credential(interpreter_id=amina.id, type="basic_course", language_code="pl", state="pending",
                            issued_on=date(2026, 1, 1))
    absence = Absence(interpreter_id=amina.id, starts_at=NOW + timedelta(days=10), ends_at=NOW + timedelta(days=11))
    session.add_all([credential, absence])
    applicant = interpreter(session, "Ny Søker", status="inactive", email="ny@example.no")
    application = Application(interpreter_id=applicant.id, state="pending")
    suspension = Sanction(interpreter_id=amina.id, kind="suspension", reason="Saken pågår",
                          decided_on=date(2027, 2, 1), starts_on=date(2027, 2, 1), decided_by_id=admin.id)
    session.add_all([application, suspension])
    token, _ = accounts.create_api_token(session, users["booker"], "x")
    # The API takes bearer tokens, not the session cookie.
    bearer = {role: accounts.create_api_token(session, user, "matrix")[1] for role, user in users.items()}
    session.commit()
    message = session.scalars(sa.select(OutboxMessage)).first()
    values = {"application_id": application.id, "sanction_id": suspension.id, "key": "bookings_by_language",
              "message_id": message.id, "booking_id": made.id, "id": made.id, "credential_id": credential.id,
              "absence_id": absence.id,
              "token_id": token.id, "user_id": users["booker"].id, "agency_id": agency_x.id,
              "register_number": amina.register_number, "token": "not-a-real-token", "name": "deliver-outbox",
              "filename": "css/app.css", "week": 0, "code": "tao"}
    return World({role: user.id for role, user in users.items()}, values, bearer)


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_who_may_use_it(app):
    undeclared = sorted({rule.endpoint for rule, _ in routes(app)
                         if rule_of(app.view_functions[rule.endpoint]) is None})
    assert undeclared == [], f"routes without an access rule: {undeclared}"


def url_for_rule(rule, values) -> str:
    missing = set(rule.arguments) - set(values)
    assert not missing, f"the access matrix needs a value for {missing} in {rule.rule}"
    return rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1]


def as_role(app, session, world, role, api: bool):
    """A test client logged in as `role`: a bearer token for the API, else a fresh server-side session."""
    client = app.test_client()
    if role == "anonymous":
        return client
    if api:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world.tokens[role]}"
        return client
    sid = secrets.token_urlsafe(16)
    session.add(UserSession(id=sid, user_id=world.users[role], created_at=NOW, last_seen_at=NOW,
                            authenticated_at=NOW))
    session.commit()
    with client.session_transaction() as s:
        s["_user_id"], s["sid"], s["_fresh"] = str(world.users[role]), sid, True
    return client


# Refusals that are the rule, not the access declaration: a registry admin may not turn two-factor off.
SPECIAL = {("auth.two_factor_disable", "registry_admin"): "403"}
# Routes whose object exists only inside a flow the matrix does not walk (the QR code of a two-factor
# set-up begun in the session; a made-up link token; an evidence file never uploaded): 404 is admitted.
FLOW_ONLY = {"auth.two_factor_qr"}


def expected(rule, role, admitted) -> str:
    api = rule.rule.startswith("/api/")
    if (rule.endpoint, role) in SPECIAL:
        return SPECIAL[(rule.endpoint, role)]
    if admitted == "public":
        return "public"
    if role == "anonymous":
        return "401" if api else "login"
    if ROLE_OF[role] not in admitted:
        return "403"
    owned = [arg for arg in rule.arguments if OWNERS.get(arg) is not None]
    if owned and not (role == "registry_admin" and rule.rule.startswith("/admin")):
        if any(role not in OWNERS[arg] for arg in owned):
            return "404"
    return "in"


def verdict(response) -> str:
    if response.status_code >= 500:
        return "5xx"
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return "login"
    return "in"


SAFE = {"GET"}  # HEAD and OPTIONS are not walked (routes() leaves them out)


def test_access_matrix(app, session, client, frozen):
    from tests.conftest import IsolatedClient, empty_data_tables

    app.test_client_class = IsolatedClient
    failures = []
    world = None
    # The reading routes first, all in one world; then a fresh world for every route that may write, so one role's
    # POST never changes what the next route meets.
    for rule, method in sorted(routes(app), key=lambda route: route[1] not in SAFE):
        admitted = rule_of(app.view_functions[rule.endpoint])
        if admitted is None:
            continue  # reported by the test above
        if world is None or method not in SAFE:
            session.close()
            empty_data_tables(app)
            world = build_world(session)
        url = url_for_rule(rule, world.values)
        for role in ROLES:
            want = expected(rule, role, admitted)
            api = rule.rule.startswith("/api/")
            got = verdict(as_role(app, session, world, role, api).open(url, method=method))
            # "in" means admitted: any answer but a refusal. A 404 is also fine where the world holds no
            # such object on purpose (a made-up link token, an evidence file never uploaded), but never
            # where a refusal is expected.
            ok = got == want or (want == "in" and got == "404" and (
                "token" in rule.arguments or rule.endpoint.endswith("evidence") or rule.endpoint in FLOW_ONLY))
            # A public page may send anyone on (the two-factor step sends a visitor without a pending
            # login back to the login page) or not find a made-up object; it never refuses.
            ok = ok or (want == "public" and got in ("in", "login", "404"))
            if not ok:
                failures.append(f"{method} {rule.rule} as {role}: expected {want}, got {got}")
            session.rollback()
    assert not failures, "\n".join(failures)
    assert len({rule.rule for rule, _ in routes(app)}) > 100  # the walk really covered the app
