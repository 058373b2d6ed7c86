"""Bookings: a public body's request for an interpreter at a time, and the offers of open requests."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .account import SECTORS
from .interpreter import CATEGORIES, MODALITIES
from .types import UTCDateTime, in_list, utcnow

STATUSES = ("requested", "open", "confirmed", "declined", "lapsed", "cancelled", "completed")
# Statuses in which a booking holds its interpreter's time: never two overlapping (DESIGN.md), which the database
# itself refuses (migration 0003: an exclusion constraint on PostgreSQL, triggers on SQLite).
HOLDING = ("requested", "confirmed")
HOLDING_SQL = "status IN ('requested', 'confirmed')"
REPORT_STATES = ("awaiting", "reported", "approved", "disputed")
NO_SHOW = ("client", "interpreter")
WARNINGS = ("credential_expires_before_start", "interpreter_not_qualified")


class Booking(db.Model):
    __tablename__ = "bookings"
    __table_args__ = (
        sa.CheckConstraint(in_list("status", STATUSES), name="status"),
        sa.CheckConstraint(in_list("modality", MODALITIES), name="modality"),
        sa.CheckConstraint(in_list("min_category", CATEGORIES), name="min_category"),
        sa.CheckConstraint(in_list("sector", SECTORS), name="sector"),
        sa.CheckConstraint(f"report_state IS NULL OR {in_list('report_state', REPORT_STATES)}", name="report_state"),
        sa.CheckConstraint(f"no_show IS NULL OR {in_list('no_show', NO_SHOW)}", name="no_show"),
        sa.CheckConstraint("ends_at > starts_at", name="end_after_start"),
        sa.CheckConstraint(f"status NOT IN {HOLDING} OR interpreter_id IS NOT NULL", name="holding_has_interpreter"),
        # An interpreter's bookings by time (calendars, lists).
        sa.Index("ix_bookings_interpreter_period", "interpreter_id", "starts_at", "ends_at"),
        # "Is this interpreter free" and the overlap checks look only at slot-holding bookings: a small index
        # answered without the table. SQLite uses it only when the query writes the statuses literally.
        sa.Index("ix_bookings_holding_interpreter_period", "interpreter_id", "starts_at", "ends_at",
                 sqlite_where=sa.text(HOLDING_SQL), postgresql_where=sa.text(HOLDING_SQL)),
        sa.Index("ix_bookings_agency_starts", "agency_id", "starts_at"),
        sa.Index("ix_bookings_status_starts", "status", "starts_at"),
        sa.UniqueConstraint("agency_id", "idempotency_key", name="uq_bookings_agency_idempotency_key"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    agency_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("agencies.id"))
    booker_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    interpreter_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("interpreters.id"))
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    language_code: so.Mapped[str] = so.mapped_column(sa.ForeignKey("languages.code"))
    min_category: so.Mapped[str] = so.mapped_column(sa.String(1))
    modality: so.Mapped[str] = so.mapped_column(sa.String(6))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    sector: so.Mapped[str] = so.mapped_column(sa.String(16))
    address: so.Mapped[str | None] = so.mapped_column(sa.String(300))
    municipality_number: so.Mapped[str | None] = so.mapped_column(sa.ForeignKey("municipalities.number"))
    meeting_url: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # Short on purpose: never the client's name or health information (the form says so).
    description: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    gender_preference: so.Mapped[str | None] = so.mapped_column(sa.String(6))
    reference: so.Mapped[str | None] = so.mapped_column(sa.String(100))
    contact_name: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    contact_phone: so.Mapped[str | None] = so.mapped_column(sa.String(32))
    series_id: so.Mapped[str | None] = so.mapped_column(sa.String(32), index=True)
    # A direct request lapses unanswered at this time.
    respond_by: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    late_cancellation: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    billable: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    cancel_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    warn_credential_expires: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    warn_not_qualified: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    report_state: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    actual_start: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    actual_end: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    travel_minutes: so.Mapped[int | None] = so.mapped_column(sa.Integer)
    dispute_reason: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    no_show: so.Mapped[str | None] = so.mapped_column(sa.String(12))
    reminded_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    idempotency_key: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    request_fingerprint: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agency = so.relationship("Agency")
    booker = so.relationship("User")
    interpreter = so.relationship("Interpreter")

    @property
    def warnings(self) -> list[str]:
        flags = (self.warn_credential_expires, self.warn_not_qualified)
        return [w for w, on in zip(WARNINGS, flags, strict=True) if on]

    @property
    def holds_slot(self) -> bool:
        return self.status in HOLDING


class BookingOffer(db.Model):
    """An open request offered to one qualified, free interpreter."""

    __tablename__ = "booking_offers"

    booking_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("bookings.id", ondelete="CASCADE"), primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("interpreters.id", ondelete="CASCADE"), primary_key=True, index=True)
    offered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    declined_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
