"""end-sanctions: suspensions and time-limited exclusions that have ended are lifted, and interpreters
with nothing else holding become active again (registry.domain.sanctions.lift_ended).

Warnings older than five years stop counting by a rule about dates (sanctions.warnings_counting), so
there is nothing to store for them; this job only reports how many warnings count for anyone today.
"""

import sqlalchemy as sa

from ..domain import sanctions
from ..models import Sanction
from .context import Context


def run(ctx: Context) -> dict[str, int]:
    counts = sanctions.lift_ended(ctx.session, ctx.now, ctx.today)
    counts["warnings_counting"] = ctx.session.scalar(
        sa.select(sa.func.count(Sanction.id)).where(sanctions.counting_warning_condition(ctx.today)))
    return counts
