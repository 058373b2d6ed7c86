"""Booking rules and state changes, run directly on the domain functions (no HTTP), on both databases."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask_babel import force_locale

from registry.database import listening
from registry.domain import booking as b
from registry.domain import notifications, qualification
from registry.domain.availability import availability_of, find_available
from registry.domain.booker import search_slot
from registry.domain.errors import Conflict, InvalidInput, NotFound
from registry.domain.times import AmbiguousTime, to_utc
from registry.models import Absence, AuditEntry, Booking, BookingOffer, Credential, OutboxMessage, WorkingHours
from tests.helpers import interpreter, user

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
RULES = b.Rules()
A = [("authorisation", "ar"), ("bachelor", "ar")]
C = [("authorisation", "ar")]


def oslo(day: date, hh: int, mm: int = 0, fold: int | None = None) -> datetime:
    return to_utc(datetime.combine(day, time(hh, mm)), "start", fold)


TUESDAY = date(2027, 3, 2)


def details(start=None, end=None, **kw) -> b.Details:
    start = start or oslo(TUESDAY, 10)
    values = dict(language="ar", min_category="C", modality="video", starts_at=start,
                  ends_at=end or start + timedelta(hours=1), sector="health")
    values.update(kw)
    return b.Details(**values)


def working(session, person, days=range(7), start=time(0, 0), end=time(23, 59)):
    for day in days:
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=start, end_time=end))
    session.commit()


@pytest.fixture
def world(session):
    """A booker of one agency, a booker of another, and two qualified interpreters with logins."""
    clock = time_machine.travel(NOW, tick=False)
    clock.start()
    booker = user(session, "booker@helse.example")
    other_agency_booker = user(session, "booker@nav.example", agency=_agency(session))
    amina = interpreter(session, "Amina Ali", credentials=A, today=NOW.date(), email="amina@example.no")
    omar = interpreter(session, "Omar Osman", credentials=C, today=NOW.date(), email="omar@example.no",
                       gender="male")
    working(session, amina, days=range(5), start=time(8), end=time(16))
    working(session, omar, days=range(5), start=time(8), end=time(16))
    amina_login = user(session, "amina@example.no", role="interpreter", person=amina)
    omar_login = user(session, "omar@example.no", role="interpreter", person=omar)
    yield dict(booker=booker, other=other_agency_booker, amina=amina, omar=omar, amina_login=amina_login,
               omar_login=omar_login)
    clock.stop()


def _agency(session):
    from registry.domain.accounts import create_agency

    return create_agency(session, "889640782", "NAV Testby", "nav", "03")


def test_direct_request_writes_to_the_interpreters_login_in_its_language(session, world):
    """The request is told where the interpreter reads it: their login's address and language, not the address
    in the register (read with the interpreter, register.by_number_with_contact)."""
    world["omar"].email = "omar.register@example.no"
    world["omar_login"].locale = "nn"
    working(session, world["omar"])
    made = b.request_direct(session, world["booker"], world["omar"].register_number, details(), NOW, RULES)
    session.commit()
    message = session.scalars(sa.select(OutboxMessage)).one()
    assert (message.kind, message.recipient, message.locale, message.user_id) == (
        "booking_requested", "omar@example.no", "nn", world["omar_login"].id)
    assert message.params["booking_id"] == made.id


def _suspend(session, amina):
    amina.status = "suspended"


def _stop_video(session, amina):
    amina.offers_video = False


def _lose_the_category(session, amina):
    session.execute(sa.update(Credential).where(Credential.interpreter_id == amina.id).values(state="revoked"))
    qualification.recompute(session, [amina.id], NOW.date())


@pytest.mark.parametrize("change", [_suspend, _stop_video, _lose_the_category])
def test_a_change_between_choosing_and_booking_is_still_refused(session, world, change):
    """The API chooses the interpreter in a transaction of its own before the booking's (booking.choose; on SQLite
    outside the write lock). What changes in between is refused by the check made when booking, and nothing is
    booked or sent."""
    chosen = b.choose(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    session.commit()
    change(session, world["amina"])
    session.commit()
    with pytest.raises(Conflict):
        b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES,
                         chosen=chosen)
    session.rollback()
    assert session.scalars(sa.select(Booking)).all() == [] and session.scalars(sa.select(OutboxMessage)).all() == []


def test_direct_request_to_an_interpreter_without_any_address_is_booked_untold(session, world):
    quiet = interpreter(session, "Ali Quiet", credentials=A, today=NOW.date(), email=None)
    working(session, quiet)
    made = b.request_direct(session, world["booker"], quiet.register_number, details(), NOW, RULES)
    session.commit()
    assert made.status == "requested" and made.interpreter_id == quiet.id
    assert session.scalars(sa.select(OutboxMessage)).all() == []


def test_direct_request_holds_the_slot_and_tells_the_interpreter(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    session.commit()
    assert made.status == "requested" and made.interpreter_id == world["amina"].id
    assert made.respond_by == NOW + timedelta(hours=13)  # half of the 26 hours left before the start
    message = session.scalars(sa.select(OutboxMessage)).one()
    assert message.kind == "booking_requested" and message.recipient == "amina@example.no"
    assert session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_type == "booking")).all() == [
        "booking.requested"]
    # The slot is held: a second request for an overlapping time is refused.
    with pytest.raises(Conflict):
        b.request_direct(session, world["booker"], world["amina"].register_number,
                         details(start=oslo(TUESDAY, 10, 30)), NOW, RULES)


def test_respond_by_is_shorter_when_the_start_is_near(session, world):
    soon = NOW + timedelta(hours=4)
    assert b.respond_by(soon, NOW, RULES) == NOW + timedelta(hours=2)


def test_back_to_back_is_allowed(session, world):
    register_number = world["amina"].register_number
    b.request_direct(session, world["booker"], register_number, details(), NOW, RULES)
    b.request_direct(session, world["booker"], register_number,
                     details(start=oslo(TUESDAY, 11), end=oslo(TUESDAY, 12)), NOW, RULES)
    b.request_direct(session, world["booker"], register_number,
                     details(start=oslo(TUESDAY, 9), end=oslo(TUESDAY, 10)), NOW, RULES)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 3


@pytest.mark.parametrize("change, error, field", [
    (dict(min_category="A"), Conflict, "interpreter"),                      # Omar is C
    (dict(language="pl"), Conflict, "interpreter"),                         # a language he lacks
    (dict(starts_at=oslo(TUESDAY, 17), ends_at=oslo(TUESDAY, 18)), Conflict, "start"),   # outside hours
    (dict(starts_at=oslo(date(2027, 3, 6), 10), ends_at=oslo(date(2027, 3, 6), 11)), Conflict, "start"),  # Saturday
    (dict(ends_at=oslo(TUESDAY, 9)), InvalidInput, "end"),                  # end before start
    (dict(ends_at=oslo(TUESDAY, 10, 10)), InvalidInput, "end"),             # too short
    (dict(starts_at=oslo(TUESDAY, 1), ends_at=oslo(TUESDAY, 13, 30)), InvalidInput, "end"),  # too long
    (dict(starts_at=NOW - timedelta(hours=1), ends_at=NOW + timedelta(hours=1)), InvalidInput, "start"),  # past
    (dict(language="zz"), InvalidInput, "language"),
    (dict(min_category="Z"), InvalidInput, "min_category"),
    (dict(modality="fax"), InvalidInput, "modality"),
    (dict(sector="space"), InvalidInput, "sector"),
    (dict(modality="onsite"), InvalidInput, "address"),                     # on site needs an address
    (dict(meeting_url="http://insecure.example"), InvalidInput, "meeting_url"),
    (dict(description="x" * 501), InvalidInput, "description"),
    (dict(gender_preference="robot"), InvalidInput, "gender_preference"),
])
def test_refusals(session, world, change, error, field):
    with pytest.raises(error) as refused:
        b.request_direct(session, world["booker"], world["omar"].register_number, replace(details(), **change),
                         NOW, RULES)
    assert refused.value.field == field
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0


def test_unknown_register_number(session, world):
    with pytest.raises(InvalidInput):
        b.request_direct(session, world["booker"], 999999, details(), NOW, RULES)


def test_suspended_interpreter_and_absence_are_refused(session, world):
    session.add(Absence(interpreter_id=world["amina"].id, starts_at=oslo(TUESDAY, 9), ends_at=oslo(TUESDAY, 12)))
    world["omar"].status = "suspended"
    session.commit()
    for person in ("amina", "omar"):
        with pytest.raises(Conflict):
            b.request_direct(session, world["booker"], world[person].register_number, details(), NOW, RULES)


def test_an_expired_credential_is_refused(session, world):
    person = interpreter(session, "Old Card", credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 2, 28)})], today=date(2027, 2, 28))
    working(session, person)
    with pytest.raises(Conflict):  # the stored category is stale, the check is not
        b.request_direct(session, world["booker"], person.register_number, details(), NOW, RULES)


def test_credential_ending_before_the_start_is_allowed_with_a_warning(session, world):
    person = interpreter(session, "Soon Gone", credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 3, 10)})], today=NOW.date())
    working(session, person)
    later = date(2027, 3, 16)
    made = b.request_direct(session, world["booker"], person.register_number,
                            details(start=oslo(later, 10)), NOW, RULES)
    assert made.warnings == ["credential_expires_before_start"]
    fine = b.request_direct(session, world["booker"], person.register_number, details(), NOW, RULES)
    assert fine.warnings == []


@pytest.mark.parametrize("start, end, expected_hours", [
    ((date(2027, 10, 31), 1, 0, None), (date(2027, 10, 31), 3, 0, None), 3),   # clocks go back: 3 real hours
    ((date(2027, 3, 28), 1, 0, None), (date(2027, 3, 28), 4, 0, None), 2),     # clocks go forward: 2 real hours
])
def test_durations_are_real_elapsed_time(session, world, start, end, expected_hours):
    working(session, world["amina"], days=[6])
    made = b.request_direct(session, world["booker"], world["amina"].register_number,
                            details(start=oslo(*start), end=oslo(*end)), NOW, RULES)
    assert made.ends_at - made.starts_at == timedelta(hours=expected_hours)


def test_nonexistent_and_ambiguous_local_times():
    with pytest.raises(InvalidInput):
        to_utc(datetime(2027, 3, 28, 2, 30), "start")
    with pytest.raises(AmbiguousTime):
        to_utc(datetime(2027, 10, 31, 2, 30), "start")
    first = to_utc(datetime(2027, 10, 31, 2, 30), "start", fold=0)
    second = to_utc(datetime(2027, 10, 31, 2, 30), "start", fold=1)
    assert second - first == timedelta(hours=1)


@pytest.mark.parametrize("language, skipped, twice", [
    ("en", "3/28/27, 2:30\u202fAM", "10/31/27, 2:30\u202fAM"),
    ("nb", "28.03.2027, 02:30", "31.10.2027, 02:30"),
])
def test_a_refused_local_time_is_written_as_the_reader_writes_times(app, language, skipped, twice):
    with app.app_context(), force_locale(language):
        with pytest.raises(InvalidInput) as refused:
            to_utc(datetime(2027, 3, 28, 2, 30), "start")
        assert str(refused.value.message).startswith(f"{skipped} ")
        with pytest.raises(AmbiguousTime) as refused:
            to_utc(datetime(2027, 10, 31, 2, 30), "start")
        assert str(refused.value.message).startswith(f"{twice} ")


def test_accept_and_decline(session, world):
    first = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    second = b.request_direct(session, world["booker"], world["amina"].register_number,
                              details(start=oslo(TUESDAY, 13)), NOW, RULES)
    session.commit()
    assert b.accept(session, world["amina_login"], first.id, NOW, RULES).status == "confirmed"
    assert b.decline(session, world["amina_login"], second.id, NOW).status == "declined"
    session.commit()
    # The declined slot is free again.
    again = b.request_direct(session, world["booker"], world["amina"].register_number,
                             details(start=oslo(TUESDAY, 13)), NOW, RULES)
    assert again.status == "requested"
    kinds = session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
    assert "booking_confirmed" in kinds and "booking_declined" in kinds


def test_only_the_requested_interpreter_may_answer(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    session.commit()
    with pytest.raises(NotFound):
        b.accept(session, world["omar_login"], made.id, NOW, RULES)
    with pytest.raises(NotFound):
        b.cancel(session, world["other"], made.id, None, NOW, RULES)


def test_accepting_after_the_request_lapsed(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    session.commit()
    later = made.respond_by + timedelta(minutes=1)
    with pytest.raises(Conflict):
        b.accept(session, world["amina_login"], made.id, later, RULES)
    assert b.lapse_due(session, later) == 1
    assert b.lapse_due(session, later) == 0  # nothing more the second time
    session.commit()
    session.refresh(made)
    assert made.status == "lapsed"
    with pytest.raises(Conflict):
        b.accept(session, world["amina_login"], made.id, later, RULES)


def test_open_request_goes_to_the_first_who_accepts(session, world):
    made = b.create_open(session, world["booker"], details(), NOW, RULES)
    session.commit()
    offered = set(session.scalars(sa.select(BookingOffer.interpreter_id)))
    assert offered == {world["amina"].id, world["omar"].id}
    assert [o.id for o in b.open_offers(session, world["omar"].id, NOW)] == [made.id]
    b.accept(session, world["omar_login"], made.id, NOW, RULES)
    session.commit()
    with pytest.raises(Conflict):
        b.accept(session, world["amina_login"], made.id, NOW, RULES)
    session.rollback()
    assert session.scalars(sa.select(OutboxMessage.kind).where(OutboxMessage.recipient == "amina@example.no")
                           ).all() == ["booking_offered", "booking_taken"]


def test_an_open_request_no_one_took_cannot_be_taken_once_it_started_and_lapses(session, world):
    made = b.create_open(session, world["booker"], details(), NOW, RULES)
    later_one = b.create_open(session, world["booker"], details(oslo(TUESDAY, 13)), NOW, RULES)
    session.commit()
    with force_locale("en"):
        with pytest.raises(Conflict) as refused:
            b.accept(session, world["amina_login"], made.id, oslo(TUESDAY, 10, 1), RULES)
        assert str(refused.value.message) == "This assignment has already started, so it can no longer be taken."
    session.rollback()
    assert session.get(Booking, made.id).status == "open"

    assert b.lapse_due(session, oslo(TUESDAY, 9, 59)) == 0
    assert b.lapse_due(session, oslo(TUESDAY, 10)) == 1
    assert b.lapse_due(session, oslo(TUESDAY, 10, 5)) == 0  # nothing more the second time
    session.commit()
    assert (session.get(Booking, made.id).status, session.get(Booking, later_one.id).status) == ("lapsed", "open")
    assert session.scalars(sa.select(OutboxMessage.kind).where(OutboxMessage.recipient == "booker@helse.example")
                           ).all() == ["booking_unfilled"]
    assert session.scalars(sa.select(AuditEntry.action).where(AuditEntry.object_id == str(made.id))
                           .order_by(AuditEntry.id)).all() == ["booking.opened", "booking.lapsed"]


def _offer(session, booker, person, start, end=None, declined=False, **fields) -> Booking:
    """An open request offered to `person`, as create_open leaves it, whether or not they could take it now."""
    values = dict(language_code="ar", min_category="C", modality="video", sector="health")
    values.update(fields)
    if values["modality"] == "onsite":
        values.update(municipality_number="0301", address="Storgata 1")
    made = Booking(agency_id=booker.agency_id, booker_id=booker.id, status="open", starts_at=start,
                   ends_at=end or start + timedelta(hours=1), **values)
    session.add(made)
    session.flush()
    session.add(BookingOffer(booking_id=made.id, interpreter_id=person.id, offered_at=NOW,
                             declined_at=NOW if declined else None))
    return made


WEDNESDAY, THURSDAY, SATURDAY = date(2027, 3, 3), date(2027, 3, 4), date(2027, 3, 6)

# What is offered to Omar (category C in Arabic, a man, works Monday to Friday 08-16, not by phone, busy Tuesday
# 14-15, away Thursday), and whether his inbox lists it: (what, start, end, fields, listed).
OFFERS = [
    ("video in working hours", oslo(TUESDAY, 9), None, {}, True),
    ("on site in working hours", oslo(WEDNESDAY, 9), None, {"modality": "onsite"}, True),
    ("a man asked for", oslo(WEDNESDAY, 11), None, {"gender_preference": "male"}, True),
    ("a Polish credential that ends before the day: listed, as availability_of finds him",
     oslo(date(2027, 4, 6), 9), None, {"language_code": "pl"}, True),
    ("the whole working day", oslo(date(2027, 3, 5), 8), oslo(date(2027, 3, 5), 16), {}, True),
    ("a woman asked for", oslo(WEDNESDAY, 13), None, {"gender_preference": "female"}, False),
    ("by phone, which he does not offer", oslo(TUESDAY, 10), None, {"modality": "phone"}, False),
    ("category B asked, he holds C", oslo(TUESDAY, 11), None, {"min_category": "B"}, False),
    ("Somali, whose credential has expired", oslo(TUESDAY, 12), None, {"language_code": "so"}, False),
    ("child welfare, which needs a police certificate he does not hold", oslo(WEDNESDAY, 10), None,
     {"sector": "child_welfare"}, False),
    ("overlapping the booking he holds", oslo(TUESDAY, 14, 30), None, {}, False),
    ("during his absence", oslo(THURSDAY, 9), None, {}, False),
    ("past the end of his working day", oslo(TUESDAY, 15, 30), None, {}, False),
    ("on a Saturday", oslo(SATURDAY, 10), None, {}, False),
    ("overnight", oslo(TUESDAY, 23), oslo(WEDNESDAY, 1), {}, False),
    ("declined", oslo(WEDNESDAY, 14), None, {"declined": True}, False),
]


def test_open_offers_lists_those_he_can_take_and_leaves_out_the_rest(session, world):
    """Each rule of availability_of leaves its offer out of the same list, whatever the way of working, the
    gender asked for or the length: the check of all the offers at once (availability.takeable) keeps the rules
    of the check of one."""
    omar = interpreter(session, "Omar Osman", credentials=[
        ("authorisation", "ar"), ("authorisation", "so", {"valid_until": NOW.date() - timedelta(days=1)}),
        ("authorisation", "pl", {"valid_until": date(2027, 4, 1)})], today=NOW.date(), email="omar2@example.no",
        gender="male", offers_phone=False)
    working(session, omar, days=range(5), start=time(8), end=time(16))
    session.add(Booking(agency_id=world["booker"].agency_id, booker_id=world["booker"].id, interpreter_id=omar.id,
                        status="confirmed", language_code="ar", min_category="C", modality="video",
                        starts_at=oslo(TUESDAY, 14), ends_at=oslo(TUESDAY, 15), sector="health"))
    session.add(Absence(interpreter_id=omar.id, starts_at=oslo(THURSDAY, 0), ends_at=oslo(date(2027, 3, 5), 0)))
    made = {what: _offer(session, world["booker"], omar, start, end, **fields)
            for what, start, end, fields, _listed in OFFERS}
    session.commit()

    listed = b.open_offers(session, omar.id, NOW)

    expected = sorted((made[what] for what, *_rest, listed_ in OFFERS if listed_), key=lambda o: o.starts_at)
    assert [o.id for o in listed] == [o.id for o in expected], {what: made[what].id for what, *_ in OFFERS}
    offered = [made[what] for what, *_rest, fields, _ in OFFERS if not fields.get("declined")]
    one_at_a_time = [o.id for o in sorted(offered, key=lambda o: o.starts_at)
                     if availability_of(session, omar.id, b._slot_of(o)) is not None]
    assert [o.id for o in listed] == one_at_a_time


def test_open_offers_asks_as_many_statements_for_one_offer_as_for_many(session, world):
    """An interpreter of a popular language can hold hundreds of offers: they are checked in one statement,
    not one each (the inbox and GET /api/v1/me/offers)."""
    omar = world["omar"]
    working(session, omar)

    def statements() -> tuple[list, list]:
        seen: list = []
        with listening(session.get_bind(), before_cursor_execute=lambda *args: seen.append(args[2])):
            listed = b.open_offers(session, omar.id, NOW)
        session.commit()
        return listed, seen

    _offer(session, world["booker"], omar, oslo(TUESDAY, 9))
    session.commit()
    one, for_one = statements()
    for n, fields in enumerate([{}, {"modality": "phone"}, {"modality": "onsite"}, {"gender_preference": "male"},
                                {"gender_preference": "female"}, {"min_category": "A"}] * 3):
        _offer(session, world["booker"], omar, oslo(WEDNESDAY, 9) + timedelta(days=n), **fields)
    _offer(session, world["booker"], omar, oslo(TUESDAY, 23), oslo(WEDNESDAY, 1))
    session.commit()
    many, for_many = statements()
    assert len(one) == 1 and len(many) == 13
    assert len(for_many) == len(for_one), for_many


def test_cancelling_late_is_billable_and_twice_is_refused(session, world):
    soon = b.request_direct(session, world["booker"], world["amina"].register_number,
                            details(start=oslo(date(2027, 3, 1), 14)), NOW, RULES)
    early = b.request_direct(session, world["booker"], world["amina"].register_number,
                             details(start=oslo(date(2027, 3, 4), 10)), NOW, RULES)
    for made in (soon, early):
        b.accept(session, world["amina_login"], made.id, NOW, RULES)
    session.commit()
    late = b.cancel(session, world["booker"], soon.id, "Client moved", NOW, RULES)
    assert late.late_cancellation and late.billable
    in_time = b.cancel(session, world["booker"], early.id, None, NOW, RULES)
    assert not in_time.late_cancellation and not in_time.billable
    session.commit()
    with pytest.raises(Conflict):
        b.cancel(session, world["booker"], early.id, None, NOW, RULES)


def test_withdrawing_reopens_and_reoffers(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    b.accept(session, world["amina_login"], made.id, NOW, RULES)
    session.commit()
    b.withdraw(session, world["amina_login"], made.id, NOW, RULES)
    session.commit()
    assert made.status == "open" and made.interpreter_id is None
    assert set(session.scalars(sa.select(BookingOffer.interpreter_id))) == {world["omar"].id}
    assert "booking_withdrawn" in session.scalars(sa.select(OutboxMessage.kind)).all()


def test_time_report_approve_and_dispute(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    b.accept(session, world["amina_login"], made.id, NOW, RULES)
    session.commit()
    with pytest.raises(Conflict):  # not ended yet
        b.report_time(session, world["amina_login"], made.id, made.starts_at, made.ends_at, None, NOW)
    after = made.ends_at + timedelta(hours=1)
    with pytest.raises(InvalidInput):
        b.report_time(session, world["amina_login"], made.id, made.ends_at, made.starts_at, None, after)
    with pytest.raises(InvalidInput):  # travel time on a video assignment
        b.report_time(session, world["amina_login"], made.id, made.starts_at, made.ends_at, 30, after)
    b.report_time(session, world["amina_login"], made.id, made.starts_at, made.ends_at + timedelta(minutes=15),
                  None, after)
    b.dispute_time(session, world["booker"], made.id, "We finished on time", after)
    assert made.report_state == "disputed"
    b.report_time(session, world["amina_login"], made.id, made.starts_at, made.ends_at, None, after)
    done = b.approve_time(session, world["booker"], made.id, after)
    assert done.status == "completed" and done.report_state == "approved" and done.billable
    with pytest.raises(Conflict):
        b.approve_time(session, world["booker"], made.id, after)


def test_no_show(session, world):
    made = b.request_direct(session, world["booker"], world["amina"].register_number, details(), NOW, RULES)
    b.accept(session, world["amina_login"], made.id, NOW, RULES)
    with pytest.raises(Conflict):
        b.record_no_show(session, world["booker"], made.id, "client", NOW)
    during = made.starts_at + timedelta(minutes=20)
    done = b.record_no_show(session, world["booker"], made.id, "client", during)
    assert done.status == "completed" and done.no_show == "client" and done.billable


def test_series_is_all_or_nothing(session, world):
    start = details(start=oslo(TUESDAY, 10))
    preview = b.preview_series(session, world["booker"], world["amina"].register_number, start, 7, 4, NOW, RULES)
    assert [o.free for o in preview] == [True, True, True, True]
    # Book the third week first: the series then cannot be made whole.
    b.request_direct(session, world["booker"], world["amina"].register_number,
                     details(start=oslo(date(2027, 3, 16), 10)), NOW, RULES)
    session.commit()
    preview = b.preview_series(session, world["booker"], world["amina"].register_number, start, 7, 4, NOW, RULES)
    assert [o.free for o in preview] == [True, True, False, True]
    with pytest.raises(Conflict):
        b.create_series(session, world["booker"], world["amina"].register_number, start, 7, 4, NOW, RULES)
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
    made = b.create_series(session, world["booker"], world["amina"].register_number,
                           details(start=oslo(TUESDAY, 13)), 7, 4, NOW, RULES)
    assert len({m.series_id for m in made}) == 1 and len(made) == 4
    # Across the change to summer time the wall-clock time stays 13:00.
    assert [m.starts_at.astimezone(to_utc.__globals__["OSLO"]).hour for m in made] == [13, 13, 13, 13]


def test_a_series_is_chosen_date_by_date_then_booked(session, world):
    """choose_series checks every date (booking.choose) and writes nothing, refusing as create_series does;
    create_series books what it chose."""
    number, start = world["amina"].register_number, details(start=oslo(TUESDAY, 10))
    world["amina"].offers_video = False
    session.commit()
    with pytest.raises(Conflict) as refused:
        b.choose_series(session, world["booker"], number, start, 7, 4, NOW, RULES)
    assert "2. mars 2027" in str(refused.value.message) and refused.value.field == "modality"  # the first date's reason
    assert not session.new and session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
    world["amina"].offers_video = True
    session.commit()
    chosen = b.choose_series(session, world["booker"], number, start, 7, 2, NOW, RULES)
    assert [c.details.starts_at for c in chosen] == [oslo(TUESDAY, 10), oslo(date(2027, 3, 9), 10)]
    made = b.create_series(session, world["booker"], number, start, 7, 2, NOW, RULES, chosen=chosen)
    assert [m.starts_at for m in made] == [c.details.starts_at for c in chosen]
    assert len({m.series_id for m in made}) == 1 and all(m.status == "requested" for m in made)


def test_series_limits(session, world):
    with pytest.raises(InvalidInput):
        b.preview_series(session, world["booker"], world["amina"].register_number, details(), 7, 27, NOW, RULES)


def test_flag_unqualified(session, world):
    made = b.request_direct(session, world["booker"], world["omar"].register_number, details(), NOW, RULES)
    session.commit()
    assert b.flag_unqualified(session, [world["omar"].id], NOW, "test") == {}  # still qualified: nothing
    world["omar"].status = "suspended"
    flagged = b.flag_unqualified(session, [world["omar"].id], NOW, "suspended")
    assert [x["booking_id"] for x in flagged[world["omar"].id]] == [made.id]
    assert made.warnings == ["interpreter_not_qualified"]
    assert b.flag_unqualified(session, [world["omar"].id], NOW, "suspended") == {}


def test_flagged_bookings_are_told_once_to_each_person_in_one_list(app, session, world):
    """A suspension flags the interpreter's coming bookings: each booker gets one message listing theirs, and the
    interpreter one listing all of them, each with the audit entry of the booking's change."""
    made = [b.request_direct(session, world["booker"], world["omar"].register_number,
                             details(start=oslo(day, 10)), NOW, RULES)
            for day in (TUESDAY + timedelta(days=1), TUESDAY)]
    made.append(b.request_direct(session, world["other"], world["omar"].register_number,
                                 details(start=oslo(TUESDAY + timedelta(days=2), 10)), NOW, RULES))
    session.execute(sa.delete(OutboxMessage))
    world["omar"].status = "suspended"
    session.commit()

    flagged = b.flag_unqualified(session, [world["omar"].id], NOW, "status:suspended")
    session.commit()

    assert [x["booking_id"] for x in flagged[world["omar"].id]] == [made[1].id, made[0].id, made[2].id]
    told = {m.recipient: m for m in session.scalars(sa.select(OutboxMessage))}
    assert set(told) == {"booker@helse.example", "booker@nav.example", "omar@example.no"}
    assert [x["booking_id"] for x in told["booker@helse.example"].params["bookings"]] == [made[1].id, made[0].id]
    assert [x["booking_id"] for x in told["booker@nav.example"].params["bookings"]] == [made[2].id]
    with app.app_context():
        subject, body = notifications.render(told["omar@example.no"])
    assert subject == "3 kommende oppdrag du har, er markert"
    assert "Du kan ikke lenger ta disse 3 kommende oppdragene" in body
    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "booking.flagged_not_qualified")
                              .order_by(AuditEntry.id)).all()
    assert [int(e.object_id) for e in entries] == sorted(m.id for m in made)
    assert {(e.actor_label, e.object_type) for e in entries} == {("system", "booking")}
    assert all(e.before == {"warn_not_qualified": False} and e.at is not None for e in entries)
    assert all(e.after == {"warn_not_qualified": True, "interpreter_id": world["omar"].id, "note": "status:suspended"}
               for e in entries)


def test_a_warning_is_taken_away_when_the_interpreter_can_take_the_booking_again(app, session, world):
    """Omar is suspended, so his coming bookings are marked; the suspension is lifted: the marks go, each with an
    audit entry, and each booker and Omar are told once. A booking asking for more than he holds keeps its mark."""
    made = [b.request_direct(session, world["booker"], world["omar"].register_number,
                             details(start=oslo(day, 10)), NOW, RULES)
            for day in (TUESDAY + timedelta(days=1), TUESDAY)]
    made.append(b.request_direct(session, world["other"], world["omar"].register_number,
                                 details(start=oslo(TUESDAY + timedelta(days=2), 10)), NOW, RULES))
    world["omar"].status = "suspended"
    b.flag_unqualified(session, [world["omar"].id], NOW, "status:suspended")
    # A booking that asks for B, which Omar (C) never held: marked, and it must stay marked.
    above = b.request_direct(session, world["booker"], world["amina"].register_number,
                             details(start=oslo(TUESDAY, 12), min_category="B"), NOW, RULES)
    session.flush()
    above.interpreter_id, above.warn_not_qualified = world["omar"].id, True
    session.execute(sa.delete(OutboxMessage))
    session.commit()

    assert b.clear_requalified(session, [world["omar"].id], NOW, "sanction_ended") == {}  # still suspended
    world["omar"].status = "active"
    cleared = b.clear_requalified(session, [world["omar"].id], NOW, "sanction_ended")
    session.commit()

    assert [x["booking_id"] for x in cleared[world["omar"].id]] == [made[1].id, made[0].id, made[2].id]
    assert all(session.get(Booking, m.id).warnings == [] for m in made)
    assert session.get(Booking, above.id).warnings == ["interpreter_not_qualified"]
    told = {m.recipient: m for m in session.scalars(sa.select(OutboxMessage))}
    assert set(told) == {"booker@helse.example", "booker@nav.example", "omar@example.no"}
    assert {m.kind for m in told.values()} == {"booking_requalified"}
    assert [x["booking_id"] for x in told["booker@helse.example"].params["bookings"]] == [made[1].id, made[0].id]
    with app.app_context():
        subject, body = notifications.render(told["booker@helse.example"])
        assert subject == "2 bestillinger har en tolk som kan ta dem likevel"
        assert "Du trenger ikke å bestille andre tolker" in body
        subject, _ = notifications.render(told["omar@example.no"])
        assert subject == "3 kommende oppdrag du har, er ikke lenger markert"
    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "booking.qualified_again")
                              .order_by(AuditEntry.id)).all()
    assert [int(e.object_id) for e in entries] == sorted(m.id for m in made)
    assert all(e.before == {"warn_not_qualified": True} and e.after["warn_not_qualified"] is False
               and e.after["note"] == "sanction_ended" for e in entries)
    assert b.clear_requalified(session, [world["omar"].id], NOW, "sanction_ended") == {}  # nothing more to do


def test_a_warning_on_a_booking_that_has_started_or_holds_no_slot_stays(session, world):
    """Only coming, slot-holding bookings change: a cancelled one, and one that started before the interpreter could
    take it again, keep what they had, as the record of then; a later one loses its warning."""
    made = [b.request_direct(session, world["booker"], world["omar"].register_number, details(start=oslo(day, 10)),
                             NOW, RULES) for day in (TUESDAY, TUESDAY + timedelta(days=1), TUESDAY + timedelta(days=2))]
    world["omar"].status = "suspended"
    b.flag_unqualified(session, [world["omar"].id], NOW, "status:suspended")
    made[0].status = "cancelled"
    world["omar"].status = "active"
    session.commit()
    after_the_second_began = made[1].starts_at + timedelta(minutes=5)
    cleared = b.clear_requalified(session, [world["omar"].id], after_the_second_began, "status:active")
    assert [x["booking_id"] for x in cleared[world["omar"].id]] == [made[2].id]
    assert [session.get(Booking, m.id).warn_not_qualified for m in made] == [True, True, False]


def test_the_database_itself_refuses_overlaps(session, world):
    """Even code that skips every check cannot store two overlapping slot-holding bookings."""
    def row(start_hour, end_hour, status="requested"):
        return Booking(agency_id=world["booker"].agency_id, booker_id=world["booker"].id,
                       interpreter_id=world["amina"].id, status=status, language_code="ar", min_category="C",
                       modality="video", starts_at=oslo(TUESDAY, start_hour), ends_at=oslo(TUESDAY, end_hour),
                       sector="health")

    session.add(row(10, 12, "confirmed"))
    session.commit()
    session.add_all([row(12, 13), row(9, 10), row(10, 11, "cancelled"), row(11, 12, "declined")])
    session.commit()  # back to back, and overlaps that hold no slot, are fine
    for start, end in [(11, 13), (9, 11), (10, 12), (9, 14)]:
        session.add(row(start, end))
        with pytest.raises(sa.exc.IntegrityError):
            session.flush()
        session.rollback()
    reopened = session.scalars(sa.select(Booking).where(Booking.status == "cancelled")).one()
    reopened.status = "requested"
    with pytest.raises(sa.exc.IntegrityError):
        session.flush()
    session.rollback()


def test_on_site_needs_a_municipality(session, world):
    with pytest.raises(InvalidInput) as refused:
        b.request_direct(session, world["booker"], world["amina"].register_number,
                         details(modality="onsite", address="Storgata 1"), NOW, RULES)
    assert refused.value.field == "municipality"


def test_a_booking_that_waits_for_an_overlapping_one_is_a_lost_race_never_an_error(app, session, world):
    """Two transactions insert overlapping bookings for one interpreter, and the first then asks for time that
    overlaps the second's. PostgreSQL: each waits for the other while checking the exclusion constraint, and one
    is stopped as a deadlock; for the booking that is a lost race (the slot is taken: 409), not an error. SQLite:
    one writer at a time, so the second waits for the first to commit and then finds its slot taken."""
    import threading

    from sqlalchemy import orm

    from registry.extensions import db

    postgresql = session.get_bind().dialect.name == "postgresql"

    def row(start, end):
        return Booking(agency_id=world["booker"].agency_id, booker_id=world["booker"].id,
                       interpreter_id=world["amina"].id, status="requested", language_code="ar", min_category="C",
                       modality="video", starts_at=start, ends_at=end, sector="health")

    first, second = orm.Session(db.engine), orm.Session(db.engine)
    outcome = {}

    def second_books():
        try:
            b._insert_holding(second, row(oslo(TUESDAY, 10, 30), oslo(TUESDAY, 11, 30)))
            second.commit()
            outcome["second"] = "booked"
        except Conflict as refused:
            second.rollback()
            outcome["second"] = f"refused: {refused.field}"

    try:
        first.add(row(oslo(TUESDAY, 10), oslo(TUESDAY, 11)))
        first.flush()
        waiting = threading.Thread(target=second_books)
        waiting.start()
        for _ in range(100):  # until the second waits for the first
            if postgresql and first.scalar(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted")):
                break
            threading.Event().wait(0.05)
        first.add(row(oslo(TUESDAY, 11, 15), oslo(TUESDAY, 12)))
        try:
            first.flush()
            first.commit()
            outcome["first"] = "booked"
        except sa.exc.OperationalError:  # chosen as the deadlock's victim
            first.rollback()
            outcome["first"] = "stopped"
        waiting.join(30)
    finally:
        first.close()
        second.close()
    if postgresql:
        # One of the two is stopped, the other keeps its time; the booking stopped is refused, never an error.
        assert outcome in ({"first": "booked", "second": "refused: start"}, {"first": "stopped", "second": "booked"})
    else:
        assert outcome == {"first": "booked", "second": "refused: start"}
    session.rollback()  # a fresh look: this session's read may have begun before the others committed
    held = session.scalars(sa.select(Booking).where(Booking.interpreter_id == world["amina"].id)).all()
    assert len(held) in (1, 2) and not any(x.starts_at < y.ends_at and y.starts_at < x.ends_at
                                           for x in held for y in held if x is not y)


# Police certificate -------------------------------------------------------------------------------

def _police_certificate(session, person, **fields):
    values = dict(state="verified", issued_on=date(2026, 1, 1))
    values.update(fields)
    session.add(Credential(interpreter_id=person.id, type="police_certificate", language_code=None, **values))
    session.commit()


@pytest.fixture
def certified(session, world):
    """Amina holds a police certificate with no end; Omar's ends today, before Tuesday's assignment; Pia's waits to
    be checked. All three are free on Tuesday at 10 and qualified in Arabic."""
    pia = interpreter(session, "Pia Pending", credentials=C, today=NOW.date(), email="pia@example.no")
    working(session, pia, days=range(5), start=time(8), end=time(16))
    _police_certificate(session, world["amina"])
    _police_certificate(session, world["omar"], valid_until=NOW.date())
    _police_certificate(session, pia, state="pending")
    return dict(world, pia=pia)


@pytest.mark.parametrize("sector", sorted(qualification.POLICE_CERTIFICATE_SECTORS))
def test_a_sector_that_needs_a_police_certificate_finds_and_offers_only_those_holding_one_valid_that_day(
        session, certified, sector):
    def found(sector):
        slot = search_slot(session, language="ar", min_category="C", modality="video", starts_at=oslo(TUESDAY, 10),
                           ends_at=oslo(TUESDAY, 11), county=None, municipality=None, gender=None, now=NOW,
                           rules=RULES, sector=sector)
        return sorted(c.name for c in find_available(session, slot))

    assert found(sector) == ["Amina Ali"]
    assert found("health") == found(None) == ["Amina Ali", "Omar Osman", "Pia Pending"]

    made = b.create_open(session, certified["booker"], details(sector=sector), NOW, RULES)
    session.commit()
    offered = session.scalars(sa.select(BookingOffer.interpreter_id).where(BookingOffer.booking_id == made.id))
    assert list(offered) == [certified["amina"].id]


@pytest.mark.parametrize("who", ["omar", "pia"])
def test_a_direct_request_to_someone_without_a_valid_police_certificate_is_refused_and_books_nothing(
        session, certified, who):
    person = certified[who]
    with pytest.raises(Conflict) as refused:
        b.request_direct(session, certified["booker"], person.register_number, details(sector="child_welfare"),
                         NOW, RULES)
    assert refused.value.field == "interpreter"
    with force_locale("en"):
        assert str(refused.value.message) == (f"Assignments in this sector need a police certificate valid on the day, "
                                              f"and {person.name} does not hold one.")
    session.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 0
    # The same interpreter at the same time, for health: booked.
    made = b.request_direct(session, certified["booker"], person.register_number, details(sector="health"), NOW,
                            RULES)
    assert made.status == "requested"


def test_a_police_certificate_that_ends_before_the_answer_stops_the_interpreter_taking_the_assignment(
        session, certified):
    amina = certified["amina"]
    requested = b.request_direct(session, certified["booker"], amina.register_number,
                                 details(sector="police"), NOW, RULES)
    opened = b.create_open(session, certified["booker"], details(start=oslo(TUESDAY, 13), sector="police"), NOW,
                           RULES)
    session.commit()
    certificate = session.scalars(sa.select(Credential).where(Credential.interpreter_id == amina.id,
                                                              Credential.type == "police_certificate")).one()
    certificate.valid_until = NOW.date()  # corrected: it ends today, before Tuesday
    session.commit()

    with pytest.raises(Conflict) as refused_request:
        b.accept(session, certified["amina_login"], requested.id, NOW, RULES)
    session.rollback()
    with pytest.raises(Conflict) as refused_offer:
        b.accept(session, certified["amina_login"], opened.id, NOW, RULES)
    session.rollback()
    with force_locale("en"):
        assert "it needs a police certificate valid on its day, and you do not hold one" in str(
            refused_request.value.message)
        assert "need a police certificate valid on the day, and Amina Ali does not" in str(refused_offer.value.message)
    assert [session.get(Booking, x.id).status for x in (requested, opened)] == ["requested", "open"]
    assert b.open_offers(session, amina.id, NOW) == []


def test_a_booking_that_needs_a_police_certificate_is_flagged_when_it_goes_and_cleared_when_one_is_verified(
        session, certified):
    amina = certified["amina"]
    welfare = b.request_direct(session, certified["booker"], amina.register_number,
                               details(sector="child_welfare"), NOW, RULES)
    health = b.request_direct(session, certified["booker"], amina.register_number,
                              details(start=oslo(TUESDAY, 13), sector="health"), NOW, RULES)
    session.commit()
    certificate = session.scalars(sa.select(Credential).where(Credential.interpreter_id == amina.id,
                                                              Credential.type == "police_certificate")).one()
    certificate.state = "expired"
    session.commit()

    flagged = b.flag_unqualified(session, [amina.id], NOW, "credential expired")
    assert [x["booking_id"] for x in flagged[amina.id]] == [welfare.id]
    assert [session.get(Booking, x.id).warn_not_qualified for x in (welfare, health)] == [True, False]

    _police_certificate(session, amina, issued_on=NOW.date())
    cleared = b.clear_requalified(session, [amina.id], NOW, "credential_verified")
    assert [x["booking_id"] for x in cleared[amina.id]] == [welfare.id]
    assert session.get(Booking, welfare.id).warn_not_qualified is False
