"""Helpers for the job tests: Norwegian times, bookings made directly, running a job as the scheduler would."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from registry.database import writing
from registry.domain.times import to_utc
from registry.jobs import runner
from registry.jobs.context import Context
from registry.jobs.registry import get
from registry.models import Booking, OutboxMessage
from tests.helpers import user


def oslo(day: date, hh: int = 12, mm: int = 0) -> datetime:
    """A Norwegian wall-clock time as an aware UTC datetime."""
    return to_utc(datetime.combine(day, time(hh, mm)), "t", fold=0)


def run_direct(app, session, name: str, now: datetime) -> dict:
    """The job's function itself, with the clock frozen at `now`, committed like the runner does."""
    with time_machine.travel(now, tick=False), writing():
        ctx = Context(session, now, app.config)
        counts = get(name).run(ctx)
        session.commit()
        for action in ctx.after_commit:
            action()
    return counts


def run_job(session, name: str, now: datetime, trigger: str = "schedule") -> runner.RunResult:
    """Through the runner (run record, lock), with the clock frozen at `now`."""
    with time_machine.travel(now, tick=False):
        return runner.run(session, name, now, trigger=trigger)


def messages(session, kind: str | None = None) -> list[OutboxMessage]:
    session.rollback()
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        stmt = stmt.where(OutboxMessage.kind == kind)
    return session.scalars(stmt).all()


def make_booking(session, booker, interpreter, starts_at: datetime, *, min_category="C", language="ar",
                 status="confirmed", hours=1, sector="health", **fields) -> Booking:
    """A booking row as the booking domain leaves it (made directly: the jobs only read and change it)."""
    booking = Booking(agency_id=booker.agency_id, booker_id=booker.id, interpreter_id=interpreter.id if interpreter
                      else None, status=status, language_code=language, min_category=min_category, modality="video",
                      starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), sector=sector,
                      meeting_url="https://meet.example/abc", description="Samtale om oppfølging",
                      contact_name=booker.name, created_at=starts_at - timedelta(days=30),
                      updated_at=starts_at - timedelta(days=30), **fields)
    session.add(booking)
    session.commit()
    return booking


@pytest.fixture
def booker(session):
    return user(session, "booker@helse.example", name="Bo Bestiller", locale="en")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)
