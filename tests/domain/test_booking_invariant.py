"""Property: whatever bookers and interpreters do, in any order, no interpreter holds two overlapping slots."""

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.domain import booking as b
from registry.domain.errors import DomainError
from registry.models import Booking, WorkingHours
from tests.helpers import interpreter, user

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
RULES = b.Rules()
PEOPLE = 3

# One step: (operation, interpreter index, quarter-hour offset from tomorrow 08:00, length in quarters, pick)
steps = st.lists(st.tuples(
    st.sampled_from(["direct", "open", "accept", "decline", "cancel", "withdraw"]),
    st.integers(0, PEOPLE - 1), st.integers(0, 24), st.integers(1, 8), st.integers(0, 1000),
), min_size=1, max_size=25)


def overlaps(session) -> list:
    one, two = sa.orm.aliased(Booking), sa.orm.aliased(Booking)
    return session.execute(sa.select(one.id, two.id).where(
        one.interpreter_id == two.interpreter_id, one.id < two.id,
        one.status.in_(("requested", "confirmed")), two.status.in_(("requested", "confirmed")),
        one.starts_at < two.ends_at, two.starts_at < one.ends_at)).all()


@pytest.fixture
def world(session):
    with time_machine.travel(NOW, tick=False):
        booker = user(session, "booker@helse.example")
        people, logins = [], []
        for n in range(PEOPLE):
            person = interpreter(session, f"Tolk {n}", credentials=[("authorisation", "ar")], today=NOW.date(),
                                 email=f"tolk{n}@example.no")
            for day in range(7):
                session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=time(0),
                                         end_time=time(23, 59)))
            people.append(person)
            logins.append(user(session, f"tolk{n}@example.no", role="interpreter", person=person))
        session.commit()
    return booker, people, logins


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=steps)
def test_no_interpreter_is_ever_double_booked(session, world, script):
    booker, people, logins = world
    base = NOW + timedelta(days=1, hours=1)
    with time_machine.travel(NOW, tick=False):
        for op, who, offset, quarters, pick in script:
            start = base + timedelta(minutes=15 * offset)
            details = b.Details(language="ar", min_category="C", modality="video", starts_at=start,
                                ends_at=start + timedelta(minutes=15 * quarters), sector="health")
            ids = session.scalars(sa.select(Booking.id).order_by(Booking.id)).all()
            target = ids[pick % len(ids)] if ids else None
            try:
                if op == "direct":
                    b.request_direct(session, booker, people[who].register_number, details, NOW, RULES)
                elif op == "open":
                    b.create_open(session, booker, details, NOW, RULES)
                elif target is None:
                    continue
                elif op == "accept":
                    b.accept(session, logins[who], target, NOW, RULES)
                elif op == "decline":
                    b.decline(session, logins[who], target, NOW)
                elif op == "cancel":
                    b.cancel(session, booker, target, None, NOW, RULES)
                elif op == "withdraw":
                    b.withdraw(session, logins[who], target, NOW, RULES)
                session.commit()
            except DomainError:
                session.rollback()
            assert overlaps(session) == []
