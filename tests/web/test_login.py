"""Logging in and out: sessions, timeouts, two-factor codes, rate limits, reset links, CSRF."""

import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from argon2 import PasswordHasher, profiles

from registry.domain import accounts
from registry.models import AuditEntry, OneTimeToken, OutboxMessage, User, UserSession
from tests.helpers import PASSWORD, totp_code, user


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def log_in(client, email, password=PASSWORD, **kw):
    return client.post("/login", data={"email": email, "password": password}, **kw)


def test_login_and_logout(client, session, no_csrf):
    booker = user(session)
    response = log_in(client, "booker@example.no")
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/account").status_code == 302  # back to the login page
    assert session.scalar(sa.select(UserSession.ended_at).where(UserSession.user_id == booker.id)) is not None


def test_a_logged_out_cookie_does_not_come_back(client, session, no_csrf):
    user(session)
    log_in(client, "booker@example.no")
    stolen = client.get_cookie("session").value
    client.post("/logout")
    client.set_cookie("session", stolen)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("email", [" Booker@Example.NO ", "BOOKER@example.no", "booker@example.no\t"])
def test_email_case_and_spaces_do_not_matter_at_login(client, session, no_csrf, email):
    user(session)
    assert log_in(client, email).status_code == 302


def test_unknown_email_and_wrong_password_look_the_same(client, session, no_csrf, monkeypatch):
    user(session)
    verified = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):
            verified.append(1)
            return super().verify(hash, password)

    monkeypatch.setitem(accounts._hashers, "CHEAPEST", CountingHasher.from_parameters(profiles.CHEAPEST))
    unknown = log_in(client, "nobody@example.no", "whatever password")
    wrong = log_in(client, "booker@example.no", "whatever password")
    assert unknown.status_code == wrong.status_code == 401
    strip = lambda html: re.sub(r'name="csrf_token"[^>]*|value="[^"]*"', "", html)  # noqa: E731
    assert strip(unknown.text) == strip(wrong.text)
    # Both paths run one Argon2 verification, so they take about the same time.
    assert len(verified) == 2
    failures = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "login.failed")
                               .order_by(AuditEntry.id)).all()
    assert [f.actor_label for f in failures] == ["nobody@example.no", "booker@example.no"]


def test_deactivated_user_cannot_log_in_and_is_logged_out(client, session, no_csrf):
    booker = user(session)
    log_in(client, "booker@example.no")
    session.execute(sa.update(User).where(User.id == booker.id).values(active=False))
    session.commit()
    assert client.get("/account").status_code == 302
    assert log_in(client, "booker@example.no").status_code == 401


def test_login_starts_a_new_session(client, session, no_csrf):
    user(session)
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
    log_in(client, "booker@example.no")
    with client.session_transaction() as s:
        assert "planted" not in s and s["sid"]


def test_idle_and_absolute_timeouts(app, client, session, no_csrf):
    user(session)
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        log_in(client, "booker@example.no")
        for _ in range(24):  # active every 29 minutes: never idle, but past the absolute limit at last
            clock.shift(timedelta(minutes=29))
            assert client.get("/account").status_code == 200
        clock.shift(timedelta(minutes=29))  # 12 h 6 min after login
        assert client.get("/account").status_code == 302
    with time_machine.travel(start + timedelta(days=1), tick=False) as clock:
        log_in(client, "booker@example.no")
        clock.shift(timedelta(minutes=31))
        assert client.get("/account").status_code == 302


def test_registry_admin_must_set_up_two_factor(client, session, no_csrf):
    admin = user(session, "admin@imdi.example", role="registry_admin")
    log_in(client, "admin@imdi.example")
    response = client.get("/admin/agencies")
    assert response.status_code == 302 and response.location.endswith("/account/two-factor")
    assert client.get("/account/two-factor").status_code == 200
    with client.session_transaction() as s:
        secret = s["totp_setup"]
    bad = client.post("/account/two-factor", data={"code": "000000"})
    assert bad.status_code == 422
    good = client.post("/account/two-factor", data={"code": totp_code(secret)})
    assert good.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", good.text)
    assert len(codes) == 10
    assert client.get("/admin/agencies").status_code == 200
    session.refresh(admin)
    assert admin.totp_enabled

    client.post("/logout")
    assert log_in(client, "admin@imdi.example").location.startswith("/login/code")
    assert client.post("/login/code", data={"code": "123456"}).status_code == 401
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 302
    client.post("/logout")
    log_in(client, "admin@imdi.example")
    assert client.post("/login/code", data={"code": codes[0]}).status_code == 401  # used once already
    assert client.post("/login/code", data={"code": totp_code(secret)}).status_code == 302


def test_registry_admin_cannot_turn_two_factor_off(client, session, no_csrf):
    secret = pyotp.random_base32()
    user(session, "admin@imdi.example", role="registry_admin", totp_secret=secret, totp_enabled=True)
    log_in(client, "admin@imdi.example")
    client.post("/login/code", data={"code": totp_code(secret)})
    assert client.post("/account/two-factor/disable", data={"current": PASSWORD}).status_code == 403


def test_a_two_factor_code_logs_in_once(client, session, no_csrf):
    """A code seen over a shoulder, with the password, could log in again while the app still showed it."""
    secret = pyotp.random_base32()
    user(session, "admin@imdi.example", role="registry_admin", totp_secret=secret, totp_enabled=True)
    code = totp_code(secret)
    log_in(client, "admin@imdi.example")
    assert client.post("/login/code", data={"code": code}).status_code == 302
    client.post("/logout")
    log_in(client, "admin@imdi.example")
    assert client.post("/login/code", data={"code": code}).status_code == 401
    assert client.post("/login/code", data={"code": totp_code(secret)}).status_code == 302  # the next one


def test_codes_at_the_second_step_are_limited_per_account(app, client, session, no_csrf):
    """Someone who has the password could try codes from many addresses; the limit per address alone let them."""
    secret = pyotp.random_base32()
    user(session, "admin@imdi.example", role="registry_admin", totp_secret=secret, totp_enabled=True)
    totp = pyotp.TOTP(secret)
    valid = {totp.at(time.time() + step * 30) for step in (-2, -1, 0, 1, 2)}
    wrong = next(code for code in (f"{n:06d}" for n in range(10)) if code not in valid)
    assert log_in(client, "admin@imdi.example").location.startswith("/login/code")
    for n in range(5):
        assert client.post("/login/code", data={"code": wrong},
                           environ_base={"REMOTE_ADDR": f"10.0.1.{n}"}).status_code == 401
    response = client.post("/login/code", data={"code": totp.now()}, environ_base={"REMOTE_ADDR": "10.0.1.99"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0

    # Another account at its second step is not held back.
    other_secret = pyotp.random_base32()
    user(session, "admin2@imdi.example", role="registry_admin", totp_secret=other_secret, totp_enabled=True)
    other = app.test_client()
    assert log_in(other, "admin2@imdi.example").location.startswith("/login/code")
    assert other.post("/login/code", data={"code": totp_code(other_secret)}).status_code == 302


def test_login_is_rate_limited_per_account(client, session, no_csrf):
    user(session)
    for n in range(5):
        assert log_in(client, "booker@example.no", "wrong password!", environ_base={"REMOTE_ADDR": f"10.0.0.{n}"}
                      ).status_code == 401
    # From yet another address, and with the right password: the account is resting.
    response = log_in(client, "booker@example.no", environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0


def test_login_is_rate_limited_per_address(client, session, no_csrf):
    for n in range(20):
        log_in(client, f"person{n}@example.no", "wrong password!")
    response = log_in(client, "someone.else@example.no", "wrong password!")
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_password_reset_link_is_single_use_and_time_limited(client, session, no_csrf):
    booker = user(session)
    assert client.post("/password/forgot", data={"email": "Booker@Example.no "}).status_code == 302
    assert client.post("/password/forgot", data={"email": "nobody@example.no"}).status_code == 302
    message = session.scalars(sa.select(OutboxMessage)).one()
    assert message.recipient == "booker@example.no" and message.kind == "password_reset"
    link = message.params["link"]
    path = link[link.index("/password/reset/"):]
    assert client.post(path, data={"password": "x" * 11, "confirm": "x" * 11}).status_code == 422
    new = "a brand new long password"
    assert client.post(path, data={"password": new, "confirm": new}).status_code == 302
    assert client.post(path, data={"password": new, "confirm": new}).status_code == 409
    assert log_in(client, "booker@example.no", new).status_code == 302
    # An expired link.
    client.post("/logout")
    client.post("/password/forgot", data={"email": "booker@example.no"})
    token = session.scalars(sa.select(OneTimeToken).where(OneTimeToken.used_at.is_(None))).one()
    link = session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().params["link"]
    with time_machine.travel(token.expires_at + timedelta(seconds=1)):
        response = client.post(link[link.index("/password/"):], data={"password": "x" * 20, "confirm": "x" * 20})
    assert response.status_code == 409
    assert log_in(client, "booker@example.no", new).status_code == 302
    assert accounts.digest(link.rsplit("/", 1)[1]) == token.token_hash  # only the hash is stored
    assert booker.id


def test_unknown_reset_link_is_404(client):
    assert client.get("/password/reset/not-a-real-token").status_code == 404


def test_password_change_needs_the_current_password(client, session, no_csrf):
    user(session)
    log_in(client, "booker@example.no")
    new = "another long password"
    refused = client.post("/account/password", data={"current": "wrong one", "password": new, "confirm": new})
    assert refused.status_code == 422
    assert client.post("/account/password", data={"current": PASSWORD, "password": new, "confirm": new}
                       ).status_code == 302
    client.post("/logout")
    assert log_in(client, "booker@example.no").status_code == 401
    assert log_in(client, "booker@example.no", new).status_code == 302


def test_forms_refuse_a_missing_or_forged_csrf_token(client, session):
    user(session)
    assert log_in(client, "booker@example.no").status_code == 400
    assert client.post("/login", data={"email": "booker@example.no", "password": PASSWORD,
                                       "csrf_token": "forged"}).status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_login_with_csrf_token_from_the_form(client, session):
    user(session)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": "booker@example.no", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_session_cookie_is_http_only_and_same_site(client, session, no_csrf):
    user(session)
    response = log_in(client, "booker@example.no")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_open_redirect_is_refused(client, session, no_csrf):
    user(session)
    response = client.post("/login?next=https://evil.example/", data={"email": "booker@example.no",
                                                                       "password": PASSWORD})
    assert response.location == "/bookings/"  # the booker's home, not the foreign site


def test_api_tokens_are_created_shown_once_and_revoked(client, session, no_csrf):
    booker = user(session)
    log_in(client, "booker@example.no")
    page = client.post("/account/tokens", data={"name": "Patient system"}).text
    value = re.search(r"(tr_[A-Za-z0-9_-]{20,})", page).group(1)
    assert accounts.user_for_api_token(session, value, datetime.now(UTC)).id == booker.id
    session.commit()  # it noted the token's use
    token_id = session.scalar(sa.text("SELECT id FROM api_tokens"))
    assert value not in client.get("/account").text
    session.rollback()  # end the test's read transaction to see what the request committed
    client.post(f"/account/tokens/{token_id}/revoke")
    session.rollback()
    assert accounts.user_for_api_token(session, value, datetime.now(UTC)) is None
