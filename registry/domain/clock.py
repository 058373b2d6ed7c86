"""Time: stored in UTC, the register's dates are dates in Europe/Oslo."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def now() -> datetime:
    return datetime.now(UTC)


def oslo_date(moment: datetime | None = None) -> date:
    """The calendar date in Norway at `moment` (default: now)."""
    return (moment or now()).astimezone(OSLO).date()
