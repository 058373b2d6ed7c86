"""Settings: defaults here, overridden by DATABASE_URL, SECRET_KEY and REGISTRY_* from the environment."""

import os
import secrets
from pathlib import Path


class Defaults:
    """Every setting with its default; README.md lists them all."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    LANGUAGES = ("nb", "nn", "en")
    TIMEZONE = "Europe/Oslo"
    PAGE_SIZE = 25
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    # A credential type's default validity in years; None means no end date unless one is entered.
    CREDENTIAL_DEFAULT_VALIDITY_YEARS: dict = {}


def normalise_database_url(url: str) -> str:
    """Accept the usual URL forms and always drive PostgreSQL with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment; in development a random one kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def load(app, overrides: dict | None) -> None:
    """Fill app.config from defaults, the environment and explicit overrides (tests)."""
    app.config.from_object(Defaults)
    default_db = "sqlite:///" + os.path.join(app.instance_path, "registry.sqlite3")
    app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", default_db)
    app.config.from_prefixed_env("REGISTRY")
    if overrides:
        app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)
