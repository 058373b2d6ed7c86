"""Settings: defaults here, overridden by DATABASE_URL, SECRET_KEY and REGISTRY_* from the environment."""

import os
import secrets
from pathlib import Path


class Defaults:
    """Every setting with its default; README.md lists them all."""

    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # PostgreSQL only: the planner's cost of a random page read for the app's connections (database.py);
    # None leaves the server's own setting (default 4, for spinning disks).
    POSTGRES_RANDOM_PAGE_COST = 1.1
    BABEL_DEFAULT_LOCALE = "nb"
    BABEL_DEFAULT_TIMEZONE = "Europe/Oslo"
    LANGUAGES = ("nb", "nn", "en")
    TIMEZONE = "Europe/Oslo"
    PAGE_SIZE = 25
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    # Proxies in front (load balancer, reverse proxy) whose X-Forwarded-For, -Proto, -Host and -Port are believed:
    # the client's address for rate limits and the audit log, HTTPS for HSTS and links. 0 believes none, so a
    # client cannot set its own address.
    TRUSTED_PROXIES = 0
    # Argon2id parameters by argon2-cffi profile name; rehashed at login when this changes.
    PASSWORD_HASH_PROFILE = "RFC_9106_LOW_MEMORY"
    SESSION_IDLE_MINUTES = 30
    SESSION_ABSOLUTE_HOURS = 12
    # Re-enter the password before sensitive changes if it was last entered longer ago than this.
    REAUTH_MINUTES = 10
    LOGIN_RATE_LIMIT_PER_ACCOUNT = "5 per minute; 20 per hour"
    LOGIN_RATE_LIMIT_PER_ADDRESS = "20 per minute; 200 per hour"
    RATELIMIT_STORAGE_URI = "process-memory://"
    APPLY_RATE_LIMIT = "10 per hour"
    REPORT_RATE_LIMIT = "5 per hour"
    INVITATION_VALID_DAYS = 7
    PASSWORD_RESET_VALID_MINUTES = 60
    # Evidence uploads: stored outside static/, at most this size.
    EVIDENCE_DIR = None  # default: instance/evidence
    MAX_UPLOAD_MB = 10
    # CSV imports wait here between the dry run and the import (default: instance/imports).
    IMPORT_DIR = None
    # Booking rules (registry.domain.booking.Rules).
    BOOKING_MIN_MINUTES = 15
    BOOKING_MAX_HOURS = 12
    BOOKING_RESPOND_HOURS = 24
    BOOKING_LATE_CANCEL_HOURS = 24
    BOOKING_MAX_OFFERS = 200
    BOOKING_MAX_SERIES = 26
    # Also log each message when it is queued (delivery already logs it with MAIL_BACKEND="log").
    MAIL_LOG_ON_QUEUE = False
    # Scheduled jobs (registry/jobs): a crontab line each, in Norwegian time. Nightly jobs stay out of
    # 02:00-03:00, the hour that is skipped or repeated when the clocks change.
    JOB_SCHEDULE_EXPIRE_CREDENTIALS = "15 1 * * *"
    JOB_SCHEDULE_EXPIRY_REMINDERS = "30 7 * * *"
    JOB_SCHEDULE_END_SANCTIONS = "20 1 * * *"
    JOB_SCHEDULE_LAPSE_REQUESTS = "*/5 * * * *"
    JOB_SCHEDULE_CLOSE_BOOKINGS = "7 * * * *"
    JOB_SCHEDULE_DELIVER_OUTBOX = "* * * * *"
    JOB_SCHEDULE_PURGE_PERSONAL_DATA = "30 3 * * *"
    # A run that starts this late is still made (once, however many were missed); later ones are dropped.
    JOB_MISFIRE_GRACE_SECONDS = 3600
    # At start the scheduler catches up a daily or hourly run missed within this many hours, once.
    JOB_CATCH_UP_HOURS = 24
    # A run record still "running" after this long belongs to a process that died; another may take over.
    JOB_RUN_STALE_MINUTES = 60
    # Run records are kept this long (deliver-outbox alone makes 1,440 a day).
    JOB_RUN_KEEP_DAYS = 30
    JOB_EXPIRY_REMINDER_DAYS = (90, 30, 7)
    # The interpreter is reminded to report time this long after a confirmed assignment ended.
    JOB_TIME_REPORT_REMIND_HOURS = 24
    # Delivery of the outbox: "log" (development: each message to the log) or "smtp".
    MAIL_BACKEND = "log"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_USE_TLS = False  # TLS from the start (SMTPS, usually port 465)
    MAIL_USE_STARTTLS = False  # STARTTLS after connecting (usually port 587)
    MAIL_FROM = "Tolkeregisteret <noreply@tolkeregisteret.no>"
    MAIL_TIMEOUT_SECONDS = 30
    MAIL_BATCH_SIZE = 200
    MAIL_MAX_ATTEMPTS = 8
    MAIL_RETRY_BASE_SECONDS = 60
    MAIL_RETRY_MAX_SECONDS = 6 * 3600
    # A message claimed for sending this long ago by a deliverer that never finished is queued again.
    MAIL_CLAIM_STALE_MINUTES = 15
    # Retention of personal data (purge-personal-data), in days.
    RETENTION_BOOKING_TEXT_DAYS = 365
    RETENTION_REJECTED_EVIDENCE_DAYS = 180
    RETENTION_REJECTED_APPLICANT_DAYS = 180
    RETENTION_SESSION_DAYS = 90
    RETENTION_SENT_MAIL_DAYS = 90


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
    proxies = app.config["TRUSTED_PROXIES"]
    if isinstance(proxies, bool) or not isinstance(proxies, int) or not 0 <= proxies <= 10:
        raise ValueError(f"REGISTRY_TRUSTED_PROXIES must be a whole number from 0 to 10, not {proxies!r}")


def behind_proxies(app) -> None:
    """Believe the X-Forwarded-* headers of the TRUSTED_PROXIES nearest proxies (werkzeug's ProxyFix)."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies)
