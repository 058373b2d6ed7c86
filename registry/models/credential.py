"""Credentials: what an interpreter has proven, with evidence, validity and a state."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

PER_LANGUAGE_TYPES = ("authorisation", "bachelor", "basic_course", "bilingual_test", "translator")
GENERAL_TYPES = ("tao", "police_certificate")
CREDENTIAL_TYPES = PER_LANGUAGE_TYPES + GENERAL_TYPES
STATES = ("pending", "verified", "rejected", "expired", "revoked")
APPLICATION_STATES = ("pending", "approved", "rejected")


class CredentialType(db.Model):
    """Per type settings the registry admin edits: the default validity of a new credential."""

    __tablename__ = "credential_types"
    __table_args__ = (sa.CheckConstraint(in_list("code", CREDENTIAL_TYPES), name="code"),)

    code: so.Mapped[str] = so.mapped_column(sa.String(24), primary_key=True)
    default_validity_years: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger)


class Credential(db.Model):
    __tablename__ = "credentials"
    __table_args__ = (
        sa.CheckConstraint(in_list("state", STATES), name="state"),
        sa.CheckConstraint("valid_until IS NULL OR valid_until >= issued_on", name="valid_after_issue"),
        sa.CheckConstraint(
            f"({in_list('type', GENERAL_TYPES)} AND language_code IS NULL) OR "
            f"({in_list('type', PER_LANGUAGE_TYPES)} AND language_code IS NOT NULL)",
            name="language_per_type",
        ),
        # The expiry job finds due credentials by state and date.
        sa.Index("ix_credentials_state_valid_until", "state", "valid_until"),
        # Categories are derived from an interpreter's verified credentials (many interpreters at once).
        sa.Index("ix_credentials_interpreter_state", "interpreter_id", "state"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("interpreters.id", ondelete="CASCADE"))
    type: so.Mapped[str] = so.mapped_column(sa.ForeignKey("credential_types.code"))
    language_code: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("languages.code"))
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending")
    issued_on: so.Mapped[date] = so.mapped_column(sa.Date)
    valid_until: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # The evidence file's storage key (a random name under instance/evidence), original name and type.
    evidence_ref: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    evidence_name: so.Mapped[str | None] = so.mapped_column(sa.String(255))
    evidence_type: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # The registry admin who verified or rejected it.
    verified_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    verified_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    interpreter = so.relationship("Interpreter", back_populates="credentials")


class Application(db.Model):
    """A person's application to join the register; their credentials wait as `pending` beside it."""

    __tablename__ = "applications"
    __table_args__ = (sa.CheckConstraint(in_list("state", APPLICATION_STATES), name="state"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("interpreters.id", ondelete="CASCADE"), unique=True)
    state: so.Mapped[str] = so.mapped_column(sa.String(10), default="pending", index=True)
    message: so.Mapped[str | None] = so.mapped_column(sa.Text)
    submitted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decision_reason: so.Mapped[str | None] = so.mapped_column(sa.Text)

    interpreter = so.relationship("Interpreter")
