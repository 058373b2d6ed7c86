"""Column types shared by the models."""

from datetime import UTC, datetime

import sqlalchemy as sa


class UTCDateTime(sa.TypeDecorator):
    """A point in time, stored as UTC and always returned timezone-aware.

    SQLite has no time zone type, so naive values would come back; this keeps every datetime in the
    program aware and in UTC whichever database is underneath.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def in_list(column: str, values) -> str:
    """SQL text for a CHECK constraint that keeps `column` within `values`."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"
