"""The demo register is realistic and deterministic (DESIGN.md, issue: demo data)."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from registry import demo
from registry.domain.clock import oslo_date
from registry.domain.qualification import POLICE_CERTIFICATE_SECTORS, police_certified_on
from registry.domain.sanctions import holding_condition
from registry.models import Booking, Credential, Interpreter, Qualification, Sanction, User


def snapshot(session):
    return session.execute(sa.select(Interpreter.register_number, Interpreter.name, Interpreter.county_number)
                           .order_by(Interpreter.register_number)).all()


def test_demo_register(session):
    today = oslo_date()
    assert demo.load(session, today) == 300
    session.commit()
    count = lambda stmt: session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))  # noqa: E731
    assert count(sa.select(Interpreter.id)) == 300
    assert count(sa.select(Qualification.language_code).distinct()) >= 40
    assert count(sa.select(Interpreter.county_number).distinct()) == 15
    assert set(session.scalars(sa.select(Qualification.category).distinct())) == set("ABCDE")
    expiring = sa.select(Credential.id).where(
        Credential.state == "verified", Credential.valid_until.between(today, today + timedelta(days=90)))
    assert count(expiring) >= 10
    assert count(sa.select(Interpreter.id).where(Interpreter.status == "suspended")) >= 3
    named = {"ar", "ru", "pl", "en", "so", "fa", "prs", "ckb", "es", "tr", "ti", "uk"}
    assert named <= set(session.scalars(sa.select(Qualification.language_code).distinct()))
    assert not demo.is_empty(session)


def test_demo_is_deterministic(app, session):
    from tests.conftest import empty_data_tables

    demo.load(session, oslo_date())
    session.commit()
    first = snapshot(session)
    session.close()
    empty_data_tables(app)
    demo.load(session, oslo_date())
    session.commit()
    assert snapshot(session) == first


def test_demo_bookings_give_the_statistics_something_to_count(session):
    now = datetime.now(UTC)
    demo.load(session, oslo_date())
    demo.load_accounts(session, "CHEAPEST")
    assert demo.load_bookings(session, now) > 800
    session.commit()
    statuses = dict(session.execute(sa.select(Booking.status, sa.func.count()).group_by(Booking.status)).all())
    assert {"completed", "cancelled", "lapsed", "open", "confirmed", "requested"} <= set(statuses)
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking).where(Booking.starts_at > now)) > 50


def test_every_suspended_demo_interpreter_has_the_decision_behind_it(session):
    """The sanctions page lists what is in force and a record shows why; a suspension with no decision behind it
    would be on no one's word (the demo had five such)."""
    today = oslo_date()
    demo.load(session, today)
    demo.load_accounts(session, "CHEAPEST")
    session.commit()
    suspended = set(session.scalars(sa.select(Interpreter.id).where(Interpreter.status == "suspended")))
    holding = session.execute(sa.select(Sanction.interpreter_id, Sanction.kind, User.role)
                              .join(User, User.id == Sanction.decided_by_id).where(holding_condition(today))).all()
    assert len(suspended) >= 3 and sorted(i for i, _, _ in holding) == sorted(suspended)
    assert {(kind, role) for _, kind, role in holding} == {("suspension", "registry_admin")}


def test_demo_bookings_in_sectors_needing_a_police_certificate_have_an_interpreter_holding_one(session):
    """Child welfare and the police may only have an interpreter holding a police certificate valid on the day
    (qualification.POLICE_CERTIFICATE_SECTORS); the demo gave their bookings to anyone."""
    demo.load(session, oslo_date())
    demo.load_accounts(session, "CHEAPEST")
    demo.load_bookings(session, datetime.now(UTC))
    session.commit()
    held = session.execute(sa.select(Booking.id, Booking.interpreter_id, Booking.starts_at).where(
        Booking.interpreter_id.is_not(None), Booking.sector.in_(POLICE_CERTIFICATE_SECTORS))).all()
    uncertified = [b.id for b in held if not police_certified_on(session, [b.interpreter_id], oslo_date(b.starts_at))]
    assert len(held) >= 10 and uncertified == []
