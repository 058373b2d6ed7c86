"""expire-credentials: the boundary day, idempotence, categories, flagged bookings, notices, scale."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from registry.domain import notifications, work_queue
from registry.models import Agency, AuditEntry, Booking, Credential, Interpreter, OutboxMessage, Qualification
from tests.helpers import interpreter, user
from tests.jobs.conftest import make_booking, messages, oslo, run_direct

LAST_DAY = date(2027, 1, 31)  # valid through this day, Norwegian time


def categories(session, person) -> dict:
    session.rollback()
    return dict(session.execute(sa.select(Qualification.language_code, Qualification.category)
                                .where(Qualification.interpreter_id == person.id)).all())


def states(session) -> list[str]:
    session.rollback()
    return session.scalars(sa.select(Credential.state).order_by(Credential.id)).all()


@pytest.fixture
def amina(session):
    """Category A in Arabic; the bachelor's degree runs out after LAST_DAY, leaving C."""
    person = interpreter(session, "Amina Ali", email="amina@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar"), ("bachelor", "ar", {"valid_until": LAST_DAY})])
    user(session, "amina@example.no", role="interpreter", person=person, locale="en")
    return person


def test_a_credential_is_valid_through_its_last_day_and_expires_the_next(app, session, amina):
    late_on_last_day = oslo(LAST_DAY, 23, 30)
    assert run_direct(app, session, "expire-credentials", late_on_last_day)["expired"] == 0
    assert states(session) == ["verified", "verified"] and categories(session, amina) == {"ar": "A"}

    # 00:05 on 1 February in Norway is still 31 January in UTC: the Norwegian date decides.
    just_after = oslo(LAST_DAY + timedelta(days=1), 0, 5)
    assert just_after.date() == LAST_DAY
    counts = run_direct(app, session, "expire-credentials", just_after)
    assert counts == {"expired": 1, "renewed": 0, "interpreters": 1, "bookings_flagged": 0, "notified": 1}
    assert states(session) == ["verified", "expired"]
    assert categories(session, amina) == {"ar": "C"}

    notice = messages(session, "credential_expired")
    assert [m.recipient for m in notice] == ["amina@example.no"]
    subject, body = render(app, notice[0])
    assert subject == "Your credential has expired"
    assert "Bachelor's degree in interpreting (Arabic), valid through January 31, 2027" in body
    assert "Arabic: C" in body


def render(app, message):
    with app.app_context():
        return notifications.render(message)


def test_running_twice_changes_nothing_more(app, session, amina, booker):
    make_booking(session, booker, amina, oslo(date(2027, 2, 10), 10), min_category="B")
    day_after = oslo(date(2027, 2, 1), 1, 15)
    first = run_direct(app, session, "expire-credentials", day_after)
    assert first == {"expired": 1, "renewed": 0, "interpreters": 1, "bookings_flagged": 1, "notified": 1}
    outbox, audit = count(session, OutboxMessage), count(session, AuditEntry)

    for later in (day_after, day_after + timedelta(hours=1), day_after + timedelta(days=3)):
        again = run_direct(app, session, "expire-credentials", later)
        assert again == {"expired": 0, "renewed": 0, "interpreters": 0, "bookings_flagged": 0, "notified": 0}
    assert (count(session, OutboxMessage), count(session, AuditEntry)) == (outbox, audit)
    assert states(session) == ["verified", "expired"]


def count(session, model) -> int:
    session.rollback()
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_an_expiry_below_a_bookings_category_flags_it_and_tells_booker_and_interpreter(app, session, amina, booker):
    needs_b = make_booking(session, booker, amina, oslo(date(2027, 2, 10), 10), min_category="B")
    needs_c = make_booking(session, booker, amina, oslo(date(2027, 2, 11), 10), min_category="C")
    past = make_booking(session, booker, amina, oslo(date(2027, 1, 20), 10), min_category="A")
    requested = make_booking(session, booker, amina, oslo(date(2027, 2, 12), 10), min_category="A",
                             status="requested", respond_by=oslo(date(2027, 2, 2), 10))

    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))

    assert counts["bookings_flagged"] == 2
    session.rollback()
    flagged = {b.id: b.warn_not_qualified for b in session.scalars(sa.select(Booking))}
    assert flagged == {needs_b.id: True, needs_c.id: False, past.id: False, requested.id: True}
    assert session.get(Booking, needs_b.id).warnings == ["interpreter_not_qualified"]
    # One message to the booker listing both; the interpreter's are in her notice of the expiry.
    (to_booker,) = messages(session, "booking_flagged")
    assert to_booker.recipient == "booker@helse.example"
    assert [x["booking_id"] for x in to_booker.params["bookings"]] == [needs_b.id, requested.id]
    (notice,) = messages(session, "credential_expired")
    assert [x["booking_id"] for x in notice.params["bookings"]] == [needs_b.id, requested.id]
    subject, body = render(app, notice)
    assert "You no longer hold the category or police certificate these 2 coming assignments need." in body
    assert f"Booking {needs_b.id}: Arabic, " in body and f"Booking {requested.id}: Arabic, " in body

    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "booking.flagged_not_qualified")
                              .order_by(AuditEntry.id)).all()
    assert [int(e.object_id) for e in entries] == [needs_b.id, requested.id]
    assert all(e.actor_label == "system" and e.object_type == "booking" for e in entries)
    # The entry holds the change (the warning, nothing else about the booking changed), whose it is, and why.
    assert entries[0].before == {"warn_not_qualified": False}
    assert entries[0].after == {"warn_not_qualified": True, "interpreter_id": amina.id, "note": "credential expired"}


def test_a_police_certificate_that_expires_flags_only_the_bookings_whose_sector_needs_one(app, session, booker):
    """A police certificate counts for no category, but child welfare and police need one: its expiry flags those
    bookings and no other, and the interpreter's notice lists them. A new one, verified, clears them."""
    omar = interpreter(session, "Omar Osman", email="omar@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar"), ("police_certificate", None, {"valid_until": LAST_DAY})])
    user(session, "omar@example.no", role="interpreter", person=omar, locale="en")
    welfare = make_booking(session, booker, omar, oslo(date(2027, 2, 10), 10), sector="child_welfare")
    police = make_booking(session, booker, omar, oslo(date(2027, 2, 11), 10), sector="police")
    health = make_booking(session, booker, omar, oslo(date(2027, 2, 12), 10), sector="health")

    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))

    assert counts == {"expired": 1, "renewed": 0, "interpreters": 1, "bookings_flagged": 2, "notified": 1}
    assert categories(session, omar) == {"ar": "C"}
    flagged = {b.id: b.warn_not_qualified for b in session.scalars(sa.select(Booking))}
    assert flagged == {welfare.id: True, police.id: True, health.id: False}
    (notice,) = messages(session, "credential_expired")
    assert [x["booking_id"] for x in notice.params["bookings"]] == [welfare.id, police.id]
    (to_booker,) = messages(session, "booking_flagged")
    assert [x["booking_id"] for x in to_booker.params["bookings"]] == [welfare.id, police.id]

    admin = user(session, "admin@imdi.no", role="registry_admin")
    renewal = Credential(interpreter_id=omar.id, type="police_certificate", language_code=None, state="pending",
                         issued_on=date(2027, 2, 1))
    session.add(renewal)
    session.commit()
    work_queue.approve_credential(session, admin, renewal.id, "", oslo(date(2027, 2, 2), 9))
    session.commit()
    flagged = {b.id: b.warn_not_qualified for b in session.scalars(sa.select(Booking))}
    assert flagged == {welfare.id: False, police.id: False, health.id: False}


def test_each_booker_gets_one_message_listing_their_flagged_bookings(app, session, amina, booker):
    """Three bookings lose their interpreter in one night: the booker gets one message listing the three."""
    omar = interpreter(session, "Omar Osman", email="omar@example.no", today=date(2027, 1, 1), credentials=[
        ("bachelor", "ar", {"valid_until": LAST_DAY})])
    other = user(session, "other@helse.example", name="Olav Annen", locale="nb",
                 agency=session.get(Agency, booker.agency_id))
    made = [make_booking(session, booker, amina, oslo(date(2027, 2, 10), 10), min_category="A"),
            make_booking(session, booker, omar, oslo(date(2027, 2, 9), 10), min_category="C"),
            make_booking(session, booker, amina, oslo(date(2027, 2, 11), 10), min_category="B"),
            make_booking(session, other, omar, oslo(date(2027, 2, 12), 10), min_category="D")]

    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))

    assert counts == {"expired": 2, "renewed": 0, "interpreters": 2, "bookings_flagged": 4, "notified": 2}
    digests = {m.recipient: m for m in messages(session, "booking_flagged")}
    assert set(digests) == {"booker@helse.example", "other@helse.example"}
    mine = digests["booker@helse.example"]
    # By start time, whoever the interpreter.
    assert [x["booking_id"] for x in mine.params["bookings"]] == [made[1].id, made[0].id, made[2].id]
    agency = session.get(Agency, booker.agency_id).name
    assert {x["agency"] for x in mine.params["bookings"]} == {agency}
    subject, body = render(app, mine)
    assert subject == "3 bookings have an interpreter who no longer qualifies"
    assert body.startswith("Hello Bo Bestiller,")
    assert ("The interpreters of these 3 coming assignments no longer hold the category or police certificate they "
            "need, or may not take assignments now.") in body
    assert all(f"Booking {b.id}: Arabic, " in body for b in made[:3])
    assert sum(line.startswith("Booking ") for line in body.splitlines()) == 3
    assert body.count(f"Public body: {agency}") == 3
    subject, body = render(app, digests["other@helse.example"])
    assert subject == "Tolken er ikke lenger kvalifisert for en bestilling"
    assert f"Bestilling {made[3].id}: arabisk" in body

    # A second run tells nobody anything again.
    again = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 2, 15))
    assert again["bookings_flagged"] == 0
    assert len(messages(session)) == 4


def test_a_renewed_credential_expires_quietly(app, session, amina, booker):
    """The old row of a credential renewed in time expires, and nothing else changes: no category, no booking, no
    message. The interpreter knew; the renewal is what they did about it."""
    renewal = Credential(interpreter_id=amina.id, type="bachelor", language_code="ar", state="verified",
                         issued_on=date(2027, 1, 15), valid_until=date(2032, 1, 31))
    session.add(renewal)
    session.commit()
    booking = make_booking(session, booker, amina, oslo(date(2027, 2, 10), 10), min_category="A")

    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))

    assert counts == {"expired": 1, "renewed": 1, "interpreters": 0, "bookings_flagged": 0, "notified": 0}
    assert states(session) == ["verified", "expired", "verified"]
    assert categories(session, amina) == {"ar": "A"}
    assert session.get(Booking, booking.id).warn_not_qualified is False
    assert messages(session) == []


@pytest.mark.parametrize("renewal", [
    {"issued_on": date(2027, 2, 2)},  # not valid yet
    {"state": "pending"},  # not verified
    {"language_code": "so"},  # another language
    {"valid_until": date(2027, 1, 31)},  # runs out too
])
def test_only_a_valid_verified_credential_of_the_same_type_and_language_renews(app, session, amina, renewal):
    values = dict(interpreter_id=amina.id, type="bachelor", language_code="ar", state="verified",
                  issued_on=date(2027, 1, 15), valid_until=date(2032, 1, 31)) | renewal
    session.add(Credential(**values))
    session.commit()
    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))
    assert (counts["renewed"], counts["interpreters"], counts["notified"]) == (0, 1, 1)
    assert categories(session, amina)["ar"] == "C"


def test_the_notice_lists_only_what_was_not_renewed(app, session, booker):
    person = interpreter(session, "Sara Said", email="sara@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "so", {"valid_until": LAST_DAY}), ("authorisation", "so"),
        ("basic_course", "ti", {"valid_until": LAST_DAY})])
    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))
    assert counts == {"expired": 2, "renewed": 1, "interpreters": 1, "bookings_flagged": 0, "notified": 1}
    (notice,) = messages(session, "credential_expired")
    assert notice.params["credentials"] == [{"type": "basic_course", "language": "ti", "valid_until": "2027-01-31"}]
    assert notice.params["bookings"] == []
    assert categories(session, person) == {"so": "C"}
    subject, body = render(app, notice)
    assert "coming assignment" not in body


def test_a_message_queued_before_the_lists_still_renders(app, session):
    """Messages queued with one booking's fields, before the lists came, are delivered as they were."""
    old = OutboxMessage(event_key="booking_flagged:1:x", kind="booking_flagged", recipient="a@example.no",
                        locale="en", params={"name": "Bo", "booking_id": 7, "language": "ar", "modality": "video",
                                             "starts_at": "2027-02-10T09:00:00+00:00",
                                             "ends_at": "2027-02-10T10:00:00+00:00", "agency": "Helse"})
    subject, body = render(app, old)
    assert subject == "The interpreter no longer qualifies for a booking"
    assert "Booking 7: Arabic, " in body and "Public body: Helse" in body


def test_an_expiry_that_keeps_the_category_flags_nothing(app, session, booker):
    # Bachelor alone gives B; the authorisation running out leaves B (A needs both).
    omar = interpreter(session, "Omar Osman", email="omar@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar", {"valid_until": LAST_DAY}), ("bachelor", "ar")])
    booking = make_booking(session, booker, omar, oslo(date(2027, 2, 10), 10), min_category="B")

    counts = run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))

    assert counts == {"expired": 1, "renewed": 0, "interpreters": 1, "bookings_flagged": 0, "notified": 1}
    assert categories(session, omar) == {"ar": "B"}
    assert session.get(Booking, booking.id).warn_not_qualified is False
    assert messages(session, "booking_flagged") == []


def test_only_verified_credentials_expire(app, session):
    person = interpreter(session, "Sara Said", email="sara@example.no", today=date(2027, 1, 1), credentials=[
        ("basic_course", "so", {"state": "pending", "valid_until": date(2026, 12, 31)}),
        ("bilingual_test", "so", {"state": "rejected", "valid_until": date(2026, 12, 31)}),
        ("tao", None, {"state": "revoked", "valid_until": date(2026, 12, 31)}),
        ("translator", "so", {"valid_until": None})])
    assert run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1)))["expired"] == 0
    assert states(session) == ["pending", "rejected", "revoked", "verified"]
    assert session.get(Interpreter, person.id).status == "active"


def test_a_credential_cannot_end_before_it_was_issued(session):
    person = interpreter(session, "Lina Lund", email="lina@example.no")
    session.add(Credential(interpreter_id=person.id, type="tao", state="verified", issued_on=date(2027, 1, 10),
                           valid_until=date(2027, 1, 9)))
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()
    session.rollback()
    assert session.scalar(sa.select(sa.func.count(Credential.id))) == 0


def test_the_notice_goes_in_the_interpreters_language(app, session):
    """Without a login the register's address is used, in bokmål; with one, the login's language."""
    person = interpreter(session, "Nils Nord", email="nils@example.no", today=date(2027, 1, 1), credentials=[
        ("tao", None, {"valid_until": LAST_DAY}), ("bilingual_test", "ti")])
    run_direct(app, session, "expire-credentials", oslo(date(2027, 2, 1)))
    (notice,) = messages(session, "credential_expired")
    assert (notice.recipient, notice.locale) == ("nils@example.no", "nb")
    subject, body = render(app, notice)
    assert body.startswith("Hei Nils Nord,")
    assert "31. januar 2027" in body
    assert categories(session, person) == {}


def test_expiring_credentials_of_thousands_of_interpreters_at_once(app, session):
    """Set-based, in chunks: 15,000 credentials of 3,000 interpreters, half of the interpreters lose some at once.
    (How fast, at 1,000,000 credentials, is the benchmark's to measure: bench/, `make bench`.)"""
    today = date(2027, 2, 1)
    interpreters = [dict(register_number=100_000 + n, name=f"Tolk {n}", name_key=f"tolk {n}", gender="female",
                         email=f"tolk{n}@example.no", county_number="03", availability="part_time", status="active")
                    for n in range(3_000)]
    insert = session.connection().execute
    insert(Interpreter.__table__.insert(), interpreters)
    ids = session.scalars(sa.select(Interpreter.id).order_by(Interpreter.id)).all()
    rows = []
    for n, interpreter_id in enumerate(ids):
        ends = date(2027, 1, 31) if n % 2 else date(2028, 1, 31)
        for type, language in (("authorisation", "ar"), ("bachelor", "ar"), ("basic_course", "so"),
                               ("bilingual_test", "ti"), ("tao", None)):
            rows.append(dict(interpreter_id=interpreter_id, type=type, language_code=language, state="verified",
                             issued_on=date(2020, 1, 1), valid_until=ends if type == "bachelor" or n % 4 == 1
                             else None))
    insert(Credential.__table__.insert(), rows)
    held = (("ar", "A", 1), ("so", "D", 4), ("ti", "E", 5))
    insert(Qualification.__table__.insert(), [dict(interpreter_id=i, language_code=language, category=category,
                                                   rank=rank) for i in ids for language, category, rank in held])
    session.commit()
    assert session.scalar(sa.select(sa.func.count(Credential.id))) == 15_000

    counts = run_direct(app, session, "expire-credentials", datetime(2027, 2, 1, 0, 30, tzinfo=UTC))

    expiring = sum(1 for r in rows if r["valid_until"] and r["valid_until"] < today)
    assert counts["expired"] == expiring and counts["interpreters"] == 1_500
    session.rollback()
    by_category = dict(session.execute(sa.select(Qualification.category, sa.func.count()).where(
        Qualification.language_code == "ar").group_by(Qualification.category)).all())
    # Every other interpreter lost the bachelor's degree (A -> C); those with n % 4 == 1 lost everything in Arabic.
    assert by_category == {"A": 1_500, "C": 750}
