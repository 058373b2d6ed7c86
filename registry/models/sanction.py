"""Sanctions (tolkeloven §§ 19-21): reports, written warnings, suspensions and exclusions, kept as history."""

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .types import UTCDateTime, in_list, utcnow

SANCTION_KINDS = ("report", "warning", "suspension", "exclusion")
# The kinds that stop an interpreter from working while they hold; the strongest decides the status.
RESTRICTING = {"exclusion": "excluded", "suspension": "suspended"}


class Sanction(db.Model):
    """One decision about an interpreter, with its reason, date and who decided.

    `starts_on` and `ends_on` are Europe/Oslo dates; `ends_on` is the last day the sanction holds (None: for
    good). A sanction lifted early, or lifted by the job the day after `ends_on`, has `lifted_at`.
    """

    __tablename__ = "sanctions"
    __table_args__ = (
        sa.CheckConstraint(in_list("kind", SANCTION_KINDS), name="kind"),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
        # The end-sanctions job finds sanctions that have run out by kind and end date.
        sa.Index("ix_sanctions_kind_ends_on", "kind", "ends_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    interpreter_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("interpreters.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(12))
    reason: so.Mapped[str] = so.mapped_column(sa.Text)
    decided_on: so.Mapped[date] = so.mapped_column(sa.Date)
    starts_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    ends_on: so.Mapped[date | None] = so.mapped_column(sa.Date)
    # An exclusion decided for one serious breach, rather than after three warnings (tolkeloven).
    serious_breach: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False, server_default=sa.false())
    decided_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    lifted_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # None when the job lifted it because it ran out.
    lifted_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    interpreter = so.relationship("Interpreter")
    decided_by = so.relationship("User", foreign_keys=[decided_by_id], viewonly=True)
