"""When an interpreter works: weekly hours (Europe/Oslo wall-clock) and absences."""

from datetime import datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, utcnow


class WorkingHours(db.Model):
    __tablename__ = "working_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("end_time > start_time", name="end_after_start"),
        # "Does this interpreter work then?" is answered from the index alone.
        sa.Index("ix_working_hours_interpreter_weekday", "interpreter_id", "weekday", "start_time", "end_time"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("interpreters.id", ondelete="CASCADE"))
    weekday: so.Mapped[int] = so.mapped_column(sa.SmallInteger)  # 0 = Monday
    start_time: so.Mapped[time] = so.mapped_column(sa.Time)
    end_time: so.Mapped[time] = so.mapped_column(sa.Time)


class Absence(db.Model):
    __tablename__ = "absences"
    __table_args__ = (
        sa.CheckConstraint("ends_at > starts_at", name="end_after_start"),
        sa.Index("ix_absences_interpreter_period", "interpreter_id", "starts_at", "ends_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("interpreters.id", ondelete="CASCADE"))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    note: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
