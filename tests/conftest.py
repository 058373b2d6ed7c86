"""Fixtures: the app on a real database, SQLite always and PostgreSQL when TEST_DATABASE_URL is set.

Each database is built once per test session by the Alembic migrations (the same path production
takes), and emptied of everything but reference data after each test.
"""

import contextvars
import os
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade

from registry import create_app
from registry.extensions import db, limiter
from registry.models.audit import append_only_lifted

# The browser fixtures (one live server, one Chromium for the whole run) serve every test folder.
pytest_plugins = ["tests.browser.fixtures"]

REFERENCE_TABLES = {"counties", "municipalities", "languages", "credential_types", "counters", "alembic_version"}
IN_CI = os.environ.get("CI") == "true"


def _require(what: str, reason: str):
    """Skip locally; in CI a skipped backend or browser is a failure, so nothing passes by not running."""
    if IN_CI:
        pytest.fail(f"{what} must run in CI: {reason}")
    pytest.skip(reason)


def _postgres_url(request) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        _require("PostgreSQL tests", "set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to run them")
    name = f"registry_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        _require("PostgreSQL tests", f"cannot reach {base}: {error}")

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    request.addfinalizer(drop)
    return base.rsplit("/", 1)[0] + "/" + name


def make_app(url: str, **extra):
    config = {"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret-key",
              # Argon2id all the same, with the cheapest parameters: thousands of logins in a test run.
              "PASSWORD_HASH_PROFILE": "CHEAPEST", "MAIL_LOG_ON_QUEUE": False}
    if "postgresql" in url:
        # A test that forgets to commit would otherwise wait for a lock forever.
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": "-c lock_timeout=15000"}}
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "registry.sqlite3")
    return _postgres_url(request)


@pytest.fixture
def postgres_url(request) -> str:
    """An empty PostgreSQL database of its own, for what only PostgreSQL has (planner and storage settings)."""
    return _postgres_url(request)


@pytest.fixture(scope="session")
def migrated_app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def empty_data_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in REFERENCE_TABLES]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # TRUNCATE fires no row triggers, so the append-only audit log can be emptied here.
                conn.exec_driver_sql("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE")
            else:
                # SQLite has no TRUNCATE: the audit log's append-only triggers are lifted for the clean-up only.
                with append_only_lifted(conn):
                    for table in tables:
                        conn.execute(table.delete())
            conn.exec_driver_sql("UPDATE counters SET value = 1000 WHERE name = 'register_number'")
            conn.exec_driver_sql("UPDATE credential_types SET default_validity_years = NULL")


@pytest.fixture
def app(migrated_app):
    yield migrated_app
    empty_data_tables(migrated_app)
    # Rate-limit counters live in memory for the test app; each test starts with none.
    with migrated_app.app_context():
        limiter.reset()


@pytest.fixture
def session(app):
    """The app's database session inside an app context."""
    with app.app_context():
        yield db.session
        db.session.rollback()


class IsolatedClient(FlaskClient):
    """Each request in a context of its own, as in production.

    Flask reuses an already pushed app context for a test request, which would share the test's
    database session and `g` (where Flask-Login caches the user) across requests. Running each
    request in an empty contextvars.Context gives it a fresh app context, session and `g`; the
    test then sees only what requests committed, and requests see only what the test committed.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()
