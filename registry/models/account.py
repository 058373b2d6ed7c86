"""Public bodies (agencies), users, their sessions, API tokens and one-time links."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

ROLES = ("registry_admin", "agency_admin", "booker", "interpreter")
SECTORS = ("health", "nav", "child_welfare", "school", "police", "court", "immigration", "municipal", "other")
UI_LANGUAGES = ("nb", "nn", "en")
TOKEN_PURPOSES = ("invitation", "password_reset")


class Agency(db.Model):
    """A public body that books interpreters: a hospital trust, a NAV office, a municipality, a court."""

    __tablename__ = "agencies"
    __table_args__ = (
        sa.CheckConstraint(in_list("sector", SECTORS), name="sector"),
        sa.Index("ix_agencies_name_key_id", "name_key", "id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    orgnr: so.Mapped[str] = so.mapped_column(sa.String(9), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    # The name as searched and listed (register.name_key: case-folded, spaces collapsed, cut to 200 characters), set
    # with the name by accounts.create_agency and agencies.update_agency. Folded here, not by lower() in SQL, which on
    # SQLite folds ASCII only, so that "ålesund" finds "Ålesund kommune" on both databases.
    name_key: so.Mapped[str] = so.mapped_column(sa.String(200))
    sector: so.Mapped[str] = so.mapped_column(sa.String(16), default="other")
    county_number: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("counties.number"))
    invoicing_reference: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    county = so.relationship("County")


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(in_list("role", ROLES), name="role"),
        sa.CheckConstraint(f"locale IS NULL OR {in_list('locale', UI_LANGUAGES)}", name="locale"),
        # Bookers and agency admins belong to an agency; an interpreter's login to their register entry.
        sa.CheckConstraint(
            "(role IN ('agency_admin', 'booker')) = (agency_id IS NOT NULL)", name="agency_role"),
        sa.CheckConstraint("(role = 'interpreter') = (interpreter_id IS NOT NULL)", name="interpreter_role"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # Stored trimmed and lower-cased; the unique index then makes addresses unique case-insensitively.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    role: so.Mapped[str] = so.mapped_column(sa.String(16))
    agency_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("agencies.id"), index=True)
    interpreter_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("interpreters.id"), unique=True)
    locale: so.Mapped[str | None] = so.mapped_column(sa.String(2))
    active: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=True)
    # None until an invited user sets a password.
    password_hash: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    totp_secret: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    totp_enabled: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    # The 30-second step of the last two-factor code used: each code logs in once (RFC 6238, section 5.2).
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_login_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # Bumped to rotate the private calendar feed address (the address is signed, nothing secret is stored).
    calendar_version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1, server_default="1")

    agency = so.relationship("Agency")
    interpreter = so.relationship("Interpreter")

    # Flask-Login
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active and (self.agency is None or self.agency.active)

    def get_id(self) -> str:
        return str(self.id)


class UserSession(db.Model):
    """A login, kept server-side so that logout, timeouts and deactivation really end it."""

    __tablename__ = "user_sessions"

    id: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # When the user last proved their password (re-authentication before sensitive changes).
    authenticated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime, index=True)
    ip: so.Mapped[str | None] = so.mapped_column(sa.String(45))

    user = so.relationship("User")


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(100))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The first characters, shown in lists so a token can be recognised without revealing it.
    prefix: so.Mapped[str] = so.mapped_column(sa.String(12))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user = so.relationship("User")


class OneTimeToken(db.Model):
    """A single-use, time-limited link: an invitation or a password reset. Only its hash is stored."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (sa.CheckConstraint(in_list("purpose", TOKEN_PURPOSES), name="purpose"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: so.Mapped[str] = so.mapped_column(sa.String(16))
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)


class RecoveryCode(db.Model):
    """A single-use two-factor recovery code; only its hash is stored."""

    __tablename__ = "recovery_codes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
