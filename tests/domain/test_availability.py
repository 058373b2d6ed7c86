"""The availability search's ranking, on both databases: category, then nearness, then who was booked least
recently (never booked first), and a page that fills across categories. Each database runs its own shape of the
query (registry/domain/availability.py), so the order is asserted here, not just who is found."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from registry.domain import qualification
from registry.domain.availability import Slot, availability_of, find_available
from registry.models import Absence, Booking, Credential, Qualification, WorkingHours
from tests.helpers import interpreter, plans, user

TODAY = date(2027, 3, 1)
START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Oslo
A = [("authorisation", "ar"), ("bachelor", "ar")]
C = [("authorisation", "ar")]


def person(session, name, credentials=C, county="03", municipality=None, last_booked=None, hours=(time(8), time(16))):
    someone = interpreter(session, name, county=county, municipality_number=municipality, credentials=credentials,
                          today=TODAY, email=f"{name.split()[0].lower()}@example.no")
    someone.last_booked_at = last_booked
    session.add(WorkingHours(interpreter_id=someone.id, weekday=START.weekday(), start_time=hours[0],
                             end_time=hours[1]))
    session.commit()
    return someone


def names(session, **slot) -> list[str]:
    values = dict(language="ar", min_category="C", modality="video", starts_at=START,
                  ends_at=START + timedelta(hours=1))
    limit = slot.pop("limit", 50)
    values.update(slot)
    return [c.name for c in find_available(session, Slot(**values), limit=limit)]


@pytest.fixture
def ranked(session):
    """Five category-C interpreters and one category A, each ranked by a different rule."""
    long_ago, lately = datetime(2026, 1, 5, tzinfo=UTC), datetime(2027, 2, 20, tzinfo=UTC)
    return {
        "Ada Best": person(session, "Ada Best", credentials=A, last_booked=lately),
        "Cato Lately": person(session, "Cato Lately", last_booked=lately),
        "Cleo Longago": person(session, "Cleo Longago", last_booked=long_ago),
        "Cyd Never": person(session, "Cyd Never"),
        "Cora Local": person(session, "Cora Local", county="46", municipality="4601", last_booked=lately),
        "Carl County": person(session, "Carl County", county="46", municipality="4602", last_booked=lately),
    }


def test_category_first_then_never_booked_then_least_recently_booked(session, ranked):
    # Without a place, nearness ties: within category C, never booked first, then the longest since a booking.
    order = names(session)
    assert order[0] == "Ada Best"
    assert order[1:3] == ["Cyd Never", "Cleo Longago"]
    assert set(order[3:]) == {"Cato Lately", "Cora Local", "Carl County"}


def test_the_municipality_then_its_county_come_first_within_a_category(session, ranked):
    order = names(session, municipality="4601")
    assert order[:4] == ["Ada Best", "Cora Local", "Carl County", "Cyd Never"]


def test_a_page_fills_from_the_best_category_and_goes_on_to_the_next(session, ranked):
    assert names(session, limit=2) == ["Ada Best", "Cyd Never"]
    assert names(session, min_category="A") == ["Ada Best"]


def test_busy_absent_and_off_duty_interpreters_are_left_out_and_the_rest_keep_their_order(session, ranked):
    booker = user(session, "booker@example.no")
    session.add(Booking(agency_id=booker.agency_id, booker_id=booker.id, interpreter_id=ranked["Cyd Never"].id,
                        status="confirmed", language_code="ar", min_category="C", modality="video",
                        starts_at=START + timedelta(minutes=30), ends_at=START + timedelta(hours=2), sector="health",
                        created_at=START - timedelta(days=3), updated_at=START - timedelta(days=3)))
    session.add(Absence(interpreter_id=ranked["Ada Best"].id, starts_at=START - timedelta(days=1),
                        ends_at=START + timedelta(days=1)))
    session.commit()
    order = names(session)
    assert order[0] == "Cleo Longago"
    assert "Cyd Never" not in order and "Ada Best" not in order
    # 15:30-16:30 runs past everyone's working day (08-16).
    assert names(session, starts_at=START + timedelta(hours=5, minutes=30),
                 ends_at=START + timedelta(hours=6, minutes=30)) == []


def test_a_credential_ending_before_the_day_is_flagged_only_when_it_lowers_the_category(session):
    soon = person(session, "Sol Soon", credentials=[("authorisation", "ar", {"valid_until": date(2027, 3, 1)})])
    renewed = person(session, "Rita Renewed", credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 3, 1)}),
        ("authorisation", "ar", {"valid_until": date(2032, 3, 1), "issued_on": date(2027, 2, 1)})])
    slot = Slot("ar", "C", "video", START, START + timedelta(hours=1))
    found = {c.name: c.credential_expires_before_start for c in find_available(session, slot)}
    assert found == {"Sol Soon": True, "Rita Renewed": False}
    assert availability_of(session, soon.id, slot).credential_expires_before_start is True
    assert availability_of(session, renewed.id, slot).credential_expires_before_start is False


def test_only_credentials_that_count_for_the_language_flag_a_candidate(session):
    """A credential in another language cannot lower this one's category; a general one (TAO, no language) can."""
    ends = {"valid_until": date(2027, 3, 1)}
    other = person(session, "Olga Other", credentials=[("authorisation", "ar"), ("authorisation", "pl", ends)])
    general = person(session, "Tor Tao", credentials=[("bilingual_test", "ar"), ("tao", None, ends)])
    slot = Slot("ar", "E", "video", START, START + timedelta(hours=1))
    found = {c.name: c.credential_expires_before_start for c in find_available(session, slot)}
    assert found == {"Olga Other": False, "Tor Tao": True}
    assert availability_of(session, general.id, slot).credential_expires_before_start is True
    assert availability_of(session, other.id, slot).credential_expires_before_start is False


def test_a_search_in_a_county_follows_an_interpreter_who_moves(session, ranked):
    """The county search reads the qualifications' copy of the county, which the database keeps: set when a
    category is written, rewritten when the interpreter moves, whoever moves them (here a plain UPDATE)."""
    import sqlalchemy as sa

    from registry.models import Interpreter, Qualification

    in_46 = dict(modality="onsite", county="46")
    assert set(names(session, **in_46)) == {"Cora Local", "Carl County"}
    copies = dict(session.execute(sa.select(Qualification.interpreter_id, Qualification.county_number)).all())
    assert copies == {p.id: p.county_number for p in ranked.values()}

    session.execute(sa.update(Interpreter).where(Interpreter.id == ranked["Cyd Never"].id)
                    .values(county_number="46", municipality_number="4601"))
    session.execute(sa.update(Interpreter).where(Interpreter.id == ranked["Carl County"].id)
                    .values(county_number="03", municipality_number=None))
    session.commit()
    assert set(names(session, **in_46)) == {"Cora Local", "Cyd Never"}
    assert "Carl County" in names(session, modality="onsite", county="03")

    # A category written later (a new language) gets the county the interpreter has then.
    session.execute(sa.insert(Qualification).values(interpreter_id=ranked["Cyd Never"].id, language_code="so",
                                                    category="C", rank=3))
    session.commit()
    assert session.scalar(sa.select(Qualification.county_number).where(
        Qualification.interpreter_id == ranked["Cyd Never"].id, Qualification.language_code == "so")) == "46"


def _copies(session, someone) -> set:
    return set(session.execute(sa.select(Qualification.language_code, Qualification.booked,
                                         Qualification.last_booked_at)
                               .where(Qualification.interpreter_id == someone.id)).all())


def test_qualifications_follow_when_their_interpreter_was_last_booked(session):
    """The search ranks by the qualifications' copy of the interpreter's last booking (migration 0009); the
    database keeps it, whoever writes either table: a booking accepted, a qualification made later, a correction."""
    someone = person(session, "Cyd Never")
    assert _copies(session, someone) == {("ar", False, None)}
    lately = datetime(2027, 2, 20, 10, 30, tzinfo=UTC)
    someone.last_booked_at = lately
    session.commit()
    assert _copies(session, someone) == {("ar", True, lately)}
    session.add(Credential(interpreter_id=someone.id, type="authorisation", language_code="so", state="verified",
                           issued_on=date(2020, 1, 1)))
    session.flush()
    qualification.recompute(session, [someone.id], TODAY)
    session.commit()
    assert _copies(session, someone) == {("ar", True, lately), ("so", True, lately)}
    session.execute(sa.update(Qualification).where(Qualification.interpreter_id == someone.id)
                    .values(booked=False, last_booked_at=None))  # written by mistake: put right by the database
    session.commit()
    assert _copies(session, someone) == {("ar", True, lately), ("so", True, lately)}
    someone.last_booked_at = None
    session.commit()
    assert _copies(session, someone) == {("ar", False, None), ("so", False, None)}


def _search_plans(session, **slot) -> list[str]:
    """The plan of each search statement find_available runs for the slot."""
    return plans(session, lambda: names(session, **slot), "working_hours")


def test_a_search_without_a_place_is_one_query_over_every_category_asked_for(session, ranked):
    """The qualifications' index holds the whole ranking, category first, so a search without a place asks once
    for every category down to the one asked for. Near a place the holders are sorted, and the categories are
    walked one query each until the page is full: here A, B and C, as six holders never fill a page of 50."""
    assert len(_search_plans(session)) == 1
    assert len(_search_plans(session, modality="onsite", county="46")) == 1
    assert len(_search_plans(session, min_category="E")) == 1
    assert len(_search_plans(session, municipality="4601")) == 3
    assert names(session, min_category="E") == names(session)  # no holder below C here: the same page


def test_a_search_without_a_place_reads_the_holders_in_ranking_order_and_sorts_nothing(session, ranked):
    """Video and phone, or a county and no municipality: the holders come from the qualifications' index in the
    order the search ranks them, so the database stops when the page is full instead of sorting every holder of a
    popular language. On PostgreSQL with sequential scans off: on a handful of rows it would rightly read the
    tables whole."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    for slot in (dict(), dict(modality="onsite", county="46"), dict(modality="phone", gender="female")):
        plans = _search_plans(session, **slot)
        assert plans, slot
        for plan in plans:
            assert "TEMP B-TREE" not in plan and "Sort" not in plan, (slot, plan)
            assert "ix_qualifications_language" in plan, (slot, plan)
    # With a municipality nearness orders the holders, and the database sorts them (SQLite, one category at a time).
    assert any("TEMP B-TREE" in plan or "Sort" in plan for plan in _search_plans(session, municipality="4601"))
