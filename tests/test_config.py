"""Settings from the environment: database URLs, the secret key, REGISTRY_* values."""

import pytest
import sqlalchemy as sa

from registry import create_app
from registry.config import normalise_database_url, secret_key
from registry.extensions import db


@pytest.mark.parametrize("given, expected", [
    ("postgres://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
    ("postgresql://u@h/d", "postgresql+psycopg://u@h/d"),
    ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ("sqlite:////tmp/x.sqlite3", "sqlite:////tmp/x.sqlite3"),
])
def test_database_url_forms(given, expected):
    assert normalise_database_url(given) == expected


def test_development_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = secret_key(str(tmp_path))
    assert len(first) >= 40
    assert secret_key(str(tmp_path)) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", "postgres://someone@db.example/registry")
    monkeypatch.setenv("REGISTRY_PAGE_SIZE", "50")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://someone@db.example/registry"
    assert app.config["PAGE_SIZE"] == 50


def test_postgresql_connections_plan_for_a_database_in_memory(postgres_url):
    """The app's PostgreSQL connections use random_page_cost 1.1 unless told otherwise; None leaves the server's."""
    from tests.conftest import make_app

    for setting, expected in ((1.1, "1.1"), (2, "2"), (None, "server")):
        app = make_app(postgres_url, POSTGRES_RANDOM_PAGE_COST=setting)
        with app.app_context():
            shown = db.session.scalar(sa.text("SHOW random_page_cost"))
            server = db.session.scalar(sa.text("SELECT boot_val FROM pg_settings WHERE name = 'random_page_cost'"))
            assert shown == (server if expected == "server" else expected)
            db.session.remove()
            db.engine.dispose()


def test_the_operators_pgoptions_still_reach_the_apps_connections(postgres_url, monkeypatch):
    """libpq reads PGOPTIONS only when a connection is given no options, and the app gives its random_page_cost as
    one: the operator's session settings (a statement timeout, say) had been dropped without a word."""
    from tests.conftest import make_app

    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=4321 -c lock_timeout=1234")
    shown = {}
    # With no options of its own (make_app gives the tests' lock timeout as one), and then with them, which libpq
    # takes instead of PGOPTIONS, as it always does.
    for given in ({}, {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c lock_timeout=15000"}}}):
        app = make_app(postgres_url, **({"SQLALCHEMY_ENGINE_OPTIONS": {}} | given))
        with app.app_context():
            shown[bool(given)] = [db.session.scalar(sa.text(f"SHOW {name}"))
                                  for name in ("statement_timeout", "lock_timeout", "random_page_cost")]
            db.session.remove()
            db.engine.dispose()
    assert shown == {False: ["4321ms", "1234ms", "1.1"], True: ["0", "15s", "1.1"]}


@pytest.mark.parametrize("bad", [0, -1, "fast", 1000])
def test_a_bad_random_page_cost_stops_the_app_at_start(tmp_path, bad):
    from tests.conftest import make_app

    with pytest.raises(ValueError, match="POSTGRES_RANDOM_PAGE_COST must be a number above 0"):
        make_app("sqlite:///" + str(tmp_path / "x.sqlite3"), POSTGRES_RANDOM_PAGE_COST=bad)
