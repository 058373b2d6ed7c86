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
    # Argon2id parameters by argon2-cffi profile name; rehashed at login when this changes.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Re-enter the password before sensitive changes if it was last entered longer ago than this.
    REAUTH_MINUTES = 10
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "5 per minute; 20 per hour"
    LOGIN_RATE_LIMIT_PER_ADDRESS = "20 per minute; 200 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    INVITATION_VALID_DAYS = 7
    PASSWORD_RESET_VALID_MINUTES = 60
    # Evidence uploads: stored outside static/, at most this size.
    EVIDENCE_DIR = None  # default: instance/evidence
    MAX_UPLOAD_MB = 10
    # Mail: until the delivery job runs, development logs each queued message.
    MAIL_LOG_ON_QUEUE = True


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
    app.config["MAX_CONTENT_LENGTH"] = (app.config["MAX_UPLOAD_MB"] + 1) * 1024 * 1024
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if not app.config.get("EVIDENCE_DIR"):
        app.config["EVIDENCE_DIR"] = os.path.join(app.instance_path, "evidence")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(app.instance_path)
