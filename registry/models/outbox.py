"""Notifications: written in the same transaction as the change that causes them, delivered by a job."""

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

OUTBOX_STATES = ("queued", "sending", "sent", "failed")


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (
        sa.CheckConstraint(in_list("state", OUTBOX_STATES), name="state"),
        # The deliverer takes due messages in order.
        sa.Index("ix_outbox_state_next_attempt", "state", "next_attempt_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    # One message per event: the same event queued twice is one row (nothing sent twice).
    event_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(64))
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    locale: so.Mapped[str] = so.mapped_column(sa.String(2), default="nb")
    params: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    state: so.Mapped[str] = so.mapped_column(sa.String(8), default="queued")
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    claimed_by: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    claimed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text)
