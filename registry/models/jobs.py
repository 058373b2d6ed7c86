"""Scheduled jobs: one record per run (unique per job and period), and the reminders already sent."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

OUTCOMES = ("running", "ok", "failed", "skipped")
TRIGGERS = ("schedule", "manual", "admin")


class JobRun(db.Model):
    """One run of a job. The unique (job, period_key) lets only one process run a job for a period."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("job", "period_key", name="uq_job_runs_job_period_key"),
        sa.CheckConstraint(in_list("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint(in_list("trigger", TRIGGERS), name="trigger"),
        # "The last run of each job" and pruning old runs walk this index.
        sa.Index("ix_job_runs_job_started", "job", "started_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    job: so.Mapped[str] = so.mapped_column(sa.String(40))
    # The period the run is for: the Oslo date of a daily job, the hour, the minute, or "manual:<time>".
    period_key: so.Mapped[str] = so.mapped_column(sa.String(64))
    trigger: so.Mapped[str] = so.mapped_column(sa.String(8), default="schedule")
    # The `now` the job ran as of (a run by hand may be as if at another time).
    as_of: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    outcome: so.Mapped[str] = so.mapped_column(sa.String(8), default="running")
    counts: so.Mapped[dict | None] = so.mapped_column(sa.JSON)
    error: so.Mapped[str | None] = so.mapped_column(sa.Text)
    # Host and process that ran it: tells two schedulers apart.
    worker: so.Mapped[str | None] = so.mapped_column(sa.String(100))


class CredentialReminder(db.Model):
    """A reminder sent (or passed over) for a credential's expiry, once per threshold and expiry date.

    Keyed by the expiry date too, so a credential renewed with a new `valid_until` is reminded again.
    """

    __tablename__ = "credential_reminders"

    credential_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("credentials.id", ondelete="CASCADE"), primary_key=True)
    valid_until: so.Mapped[date] = so.mapped_column(sa.Date, primary_key=True)
    threshold_days: so.Mapped[int] = so.mapped_column(sa.SmallInteger, primary_key=True)
    sent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
