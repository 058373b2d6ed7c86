"""Behind a load balancer: the X-Forwarded-* headers are believed from REGISTRY_TRUSTED_PROXIES proxies, and only
then. Without it, every client behind the balancer shared one address (one login limit for the whole country) and
HTTPS was never seen (no HSTS, http:// links); with it unset, a client cannot give itself another address."""

import pytest
import sqlalchemy as sa

from registry.extensions import db
from registry.models import AuditEntry
from tests.conftest import make_app
from tests.helpers import user

BALANCER = {"REMOTE_ADDR": "10.0.0.2"}


@pytest.fixture
def behind_balancer(app):
    """The app as deployed behind one load balancer, on the test database."""
    proxied = make_app(app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1, WTF_CSRF_ENABLED=False)
    yield proxied
    with proxied.app_context():
        db.engine.dispose()


def failed_login(client, email: str, address: str):
    return client.post("/login", data={"email": email, "password": "wrong password!"}, environ_base=BALANCER,
                       headers={"X-Forwarded-For": address})


def test_the_login_limit_counts_each_client_behind_the_balancer(behind_balancer, session):
    client = behind_balancer.test_client()
    for n in range(20):
        assert failed_login(client, f"person{n}@example.no", "203.0.113.7").status_code == 401
    assert failed_login(client, "someone@example.no", "203.0.113.7").status_code == 429
    assert failed_login(client, "someone@example.no", "198.51.100.4").status_code == 401  # another client


def test_without_trusted_proxies_a_client_cannot_choose_its_address(app, session):
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        client = app.test_client()
        for n in range(20):
            failed_login(client, f"person{n}@example.no", f"203.0.113.{n}")
        assert failed_login(client, "someone@example.no", "198.51.100.4").status_code == 429
        assert "Strict-Transport-Security" not in client.get(
            "/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_the_audit_log_and_https_see_the_client(behind_balancer, session):
    user(session, "booker@example.no")
    session.commit()
    client = behind_balancer.test_client()
    response = client.post("/login", data={"email": "booker@example.no", "password": "correct horse battery staple"},
                           environ_base=BALANCER, headers={"X-Forwarded-For": "203.0.113.9",
                                                           "X-Forwarded-Proto": "https"})
    assert response.status_code == 302
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    session.rollback()
    assert session.scalar(sa.select(AuditEntry.ip).where(AuditEntry.action == "login.succeeded")) == "203.0.113.9"
    plain = client.get("/healthz", environ_base=BALANCER, headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


@pytest.mark.parametrize("value", [-1, 11, "one", True, 1.5])
def test_a_wrong_number_of_proxies_stops_the_start_with_its_reason(value):
    with pytest.raises(ValueError, match="REGISTRY_TRUSTED_PROXIES must be a whole number from 0 to 10"):
        make_app("sqlite://", TRUSTED_PROXIES=value)
