"""What holds for every operation: tokens, roles, problem+json errors, limits, language, times, no cookies."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from registry.domain import accounts
from registry.extensions import db, limiter
from registry.models import ApiToken, AuditEntry, Booking, User
from tests.api.conftest import booking_body, problem_of
from tests.helpers import rollbacks


def test_no_token_is_401_with_a_bearer_challenge(api):
    response = api.get("/bookings")
    problem_of(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer tr_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "tr_x"])
def test_a_bad_token_is_401(api, header):
    response = api.client.get("/api/v1/bookings", headers={"Authorization": header})
    problem_of(response, 401)
    assert "Bearer" in response.headers["WWW-Authenticate"]


def test_a_revoked_token_or_an_inactive_user_is_401(api, session, world):
    assert api.get("/bookings", as_="booker").status_code == 200
    session.execute(sa.update(ApiToken).where(ApiToken.user_id == world.user_ids["booker"]).values(
        revoked_at=sa.func.now()))
    session.execute(sa.update(User).where(User.id == world.user_ids["booker_b"]).values(active=False))
    session.commit()
    for who in ("booker", "booker_b"):
        response = api.get("/bookings", as_=who)
        problem_of(response, 401)
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_logged_in_session_cookie_does_not_authenticate(api, app, client, session, world):
    """The web login's cookie means nothing to the API: no token, 401; and no cookie is set back."""
    booker = session.get(User, world.user_ids["booker"])
    accounts.set_password(booker, "correct horse battery staple", "CHEAPEST")
    session.commit()
    app.config.update(WTF_CSRF_ENABLED=False, PASSWORD_HASH_PROFILE="CHEAPEST")
    try:
        login = client.post("/login", data={"email": "bestiller@aust.no", "password": "correct horse battery staple"})
    finally:
        app.config.update(WTF_CSRF_ENABLED=True)
    assert login.status_code == 302
    assert client.get("/account").status_code == 200  # logged in on the web
    response = client.get("/api/v1/bookings?lang=en")
    problem_of(response, 401)
    assert "Set-Cookie" not in response.headers


def test_no_cookie_is_ever_set_under_the_api(api):
    response = api.get("/languages?lang=nn")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Content-Language"] == "nn"


def test_a_role_that_may_not_is_403_and_audited(api, session, world):
    problem_of(api.get("/me/offers", as_="booker"), 403)
    problem_of(api.post("/bookings", booking_body(), as_="interpreter"), 403)
    problem_of(api.post("/admin/interpreters", {}, as_="agency_admin"), 403)
    session.rollback()
    refused = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "access.refused")
                              .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.object_id) for e in refused] == [
        (world.user_ids["booker"], "/api/v1/me/offers"), (world.user_ids["interpreter"], "/api/v1/bookings"),
        (world.user_ids["agency_admin"], "/api/v1/admin/interpreters")]
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_post_needs_no_csrf_token(api, app):
    """CSRF protection is on for the app (the test config leaves it on); the API is exempt."""
    assert app.config.get("WTF_CSRF_ENABLED", True)
    assert api.post("/bookings", booking_body(), as_="booker").status_code == 201


def test_unknown_address_and_method_are_problems(api):
    problem_of(api.get("/no-such-thing"), 404)
    problem_of(api.get("/bookings/abc", as_="booker"), 404)
    response = api.client.delete("/api/v1/bookings")
    problem_of(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_pages_outside_the_api_still_get_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_unparseable_json_is_400_and_a_body_not_json_is_415(api):
    response = api.post("/bookings", as_="booker", data="{not json", headers={"Content-Type": "application/json"})
    assert problem_of(response, 400)["type"].endswith("#problem-invalid-json")
    response = api.post("/bookings", as_="booker", data="language=ar", content_type="application/x-www-form-urlencoded")
    problem_of(response, 415)
    response = api.post("/bookings", as_="booker", data='{"a": NaN}', content_type="application/json")
    problem_of(response, 400)
    deep = "[" * 100_000 + "]" * 100_000
    problem_of(api.post("/bookings", as_="booker", data=deep, content_type="application/json"), 400)


def test_a_body_over_one_megabyte_is_413(api):
    body = json.dumps({**booking_body(), "description": "x" * (1024 * 1024)})
    problem_of(api.post("/bookings", as_="booker", data=body, content_type="application/json"), 413)


def test_validation_is_422_with_every_field_at_fault(api, session):
    body = booking_body(language=7, modality="fax", start="2027-03-02T10:00:00", sector=None, extra=True)
    problem = problem_of(api.post("/bookings", body, as_="booker"), 422)
    assert problem["type"].endswith("#problem-validation-error")
    fields = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(fields) == {"language", "modality", "start", "sector", "extra"}
    assert "offset" in fields["start"]
    assert fields["sector"] == "This field is required."
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_domain_rules_give_422_for_a_body_and_400_for_a_query(api):
    problem = problem_of(api.post("/bookings", booking_body(language="zz"), as_="booker"), 422)
    assert problem["errors"] == [{"field": "language", "message": "Unknown language code: zz"}]
    problem = problem_of(api.get("/register?language=zz"), 400)
    assert problem["errors"] == [{"field": "language", "message": "Unknown language code: zz"}]


def test_messages_come_in_the_request_language(api):
    """Accept-Language, negotiated as on the web (no counts as bokmål); the default is bokmål."""
    english = problem_of(api.get("/register?language=zz", language="en"), 400)
    bokmal = problem_of(api.get("/register?language=zz", language="no;q=0.9, de"), 400)
    default = problem_of(api.get("/register?language=zz", language=""), 400)
    assert english["detail"] == "Unknown language code: zz"
    assert bokmal["detail"] == default["detail"] != english["detail"]
    names = {i["code"]: i["name"] for i in api.get("/languages", language="nn").get_json()["items"]}
    assert names["ar"] == "arabisk"


def test_control_characters_in_parameters_are_400(api):
    problem_of(api.get("/register?q=a%00b"), 400)
    problem = problem_of(api.post("/bookings", booking_body(description="a\x00b"), as_="booker"), 422)
    assert problem["errors"][0]["field"] == "description"


def test_times_out_of_range_are_refused_not_crashed(api):
    problem = problem_of(api.post("/bookings", booking_body(start="9999-12-31T23:59:59-12:00"), as_="booker"), 422)
    assert problem["errors"][0]["field"] == "start"
    problem_of(api.get("/bookings?from=0001-01-01T00:00:00%2B14:00", as_="booker"), 400)


def test_ids_too_large_for_the_database_are_not_found(api):
    problem_of(api.get("/bookings/99999999999999999999", as_="booker"), 404)
    problem_of(api.get("/register/99999999999999999999"), 404)
    problem_of(api.post("/bookings", booking_body(interpreter="99999999999"), as_="booker"), 422)


def test_rate_limit_is_429_with_retry_after(api, app):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    with app.app_context():
        limiter.reset()
    assert [api.get("/bookings", as_="booker").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("/bookings", as_="booker")
    problem_of(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    # Counted per token: another token is not held back.
    assert api.get("/bookings", as_="agency_admin").status_code == 200


def test_an_unexpected_error_is_a_500_problem(api, app, monkeypatch):
    from registry.domain import booking

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(booking, "agency_bookings", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        problem = problem_of(api.get("/bookings", as_="booker"), 500)
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert "boom" not in json.dumps(problem)


def test_answers_with_a_token_are_not_cached(api):
    assert api.get("/bookings", as_="booker").headers["Cache-Control"] == "no-store"
    assert api.get("/languages").headers.get("Cache-Control") != "no-store"


def test_a_token_unused_for_a_while_is_recorded_on_a_read_without_a_rollback(api, app, session, world, frozen):
    """A GET writes the token's last use apart. The read it began ends with COMMIT, not ROLLBACK: psycopg forgets
    every prepared statement on ROLLBACK, and this happens on a token's first request every five minutes."""
    session.execute(sa.update(ApiToken).where(ApiToken.user_id == world.user_ids["booker"])
                    .values(last_used_at=frozen - timedelta(hours=1)))
    session.commit()
    with app.app_context():
        engine = db.engine
    with rollbacks(engine) as seen:
        assert api.get("/bookings", as_="booker").status_code == 200
    assert seen == []
    session.rollback()
    token = session.scalar(sa.select(ApiToken).where(ApiToken.user_id == world.user_ids["booker"]))
    assert token.last_used_at == frozen


def test_token_use_is_recorded(api, session, world):
    assert api.get("/languages", as_="booker").status_code == 200
    assert api.get("/bookings", as_="booker").status_code == 200
    session.rollback()
    token = session.scalar(sa.select(ApiToken).where(ApiToken.user_id == world.user_ids["booker"]))
    assert token.last_used_at is not None
    assert accounts.user_for_api_token(session, world.tokens["booker"], token.last_used_at).id == token.user_id
