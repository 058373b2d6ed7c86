"""lapse-requests: direct requests unanswered past their deadline lapse, freeing the interpreter's time, and
open requests no one took before they started lapse too; the booker is told (registry.domain.booking.lapse_due).
A lapsed request is no longer `requested` or `open`, so a second run lapses nothing more."""

from ..domain import booking
from .context import Context


def run(ctx: Context) -> dict[str, int]:
    return {"lapsed": booking.lapse_due(ctx.session, ctx.now)}
