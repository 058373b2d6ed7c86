"""Settings from the environment: database URLs, the secret key, REGISTRY_* values."""

import pytest

from registry import create_app
from registry.config import normalise_database_url, secret_key


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
