"""The booker's pages (/bookings), through HTTP on a real database (SQLite and PostgreSQL).

Time is frozen at Monday 1 March 2027, 08:00 in Oslo. The interpreters work weekdays 08:00-16:00 unless
a test says otherwise; "the slot" is Tuesday 2 March, 10:00-11:00, by video, in Arabic, category C or higher.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from registry.domain import booking as b
from registry.domain import qualification
from registry.domain.times import to_utc
from registry.extensions import db
from registry.models import Absence, AuditEntry, Booking, BookingOffer, Credential, User, UserSession, WorkingHours
from tests.helpers import interpreter, rollbacks, user, write_lock_probe

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
RULES = b.Rules()
TUESDAY = date(2027, 3, 2)
A_AR = [("authorisation", "ar"), ("bachelor", "ar")]
C_AR = [("authorisation", "ar")]
SLOT = {"language": "ar", "min_category": "C", "modality": "video", "date": "2027-03-02", "start_time": "10:00",
        "end_time": "11:00"}


def oslo(day: date, hh: int, mm: int = 0, fold: int | None = None) -> datetime:
    return to_utc(datetime.combine(day, time(hh, mm)), "start", fold)


def fresh(session):
    """End the test's read transaction so the next query sees what the requests committed."""
    session.rollback()
    return session


def text(response) -> str:
    """The page's text with tags removed and whitespace collapsed, as a reader would see it."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.text)))


def table(response) -> str:
    """The text of the page's table body only."""
    found = re.search(r"<tbody>(.*?)</tbody>", response.text, re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", found.group(1)))) if found else ""


def working(session, person, days=range(5), start=time(8), end=time(16)):
    for day in days:
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=start, end_time=end))
    session.commit()


def details(start=None, end=None, **changes) -> b.Details:
    start = start or oslo(TUESDAY, 10)
    values = dict(language="ar", min_category="C", modality="video", starts_at=start,
                  ends_at=end or start + timedelta(hours=1), sector="health")
    values.update(changes)
    return b.Details(**values)


def form(**changes) -> dict:
    data = {**SLOT, "sector": "health", "description": "Samtale om bolig", "reference": "Sak 42",
            "contact_name": "Bo Bestiller", "contact_phone": "+47 22 00 00 00"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def count_bookings(session) -> int:
    return fresh(session).scalar(sa.select(sa.func.count()).select_from(Booking))


def count_audit(session) -> int:
    return fresh(session).scalar(sa.select(sa.func.count()).select_from(AuditEntry))


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, the source language of every message the tests look for."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def clock():
    traveller = time_machine.travel(NOW, tick=False)
    yield traveller.start()
    traveller.stop()


@pytest.fixture
def world(session, users, clock):
    """Interpreters for the slot: two free and qualified, and one each busy, absent, unqualified, suspended."""
    amina = interpreter(session, "Amina Ali", credentials=A_AR, today=NOW.date(), email="amina@example.no")
    omar = interpreter(session, "Omar Osman", credentials=C_AR, today=NOW.date(), email="omar@example.no",
                       gender="male")
    busy = interpreter(session, "Bashir Busy", credentials=A_AR, today=NOW.date(), email="busy@example.no")
    absent = interpreter(session, "Asha Away", credentials=A_AR, today=NOW.date(), email="away@example.no")
    polish = interpreter(session, "Piotr Polski", credentials=[("authorisation", "pl"), ("bachelor", "pl")],
                         today=NOW.date(), email="piotr@example.no")
    suspended = interpreter(session, "Sami Suspended", credentials=A_AR, today=NOW.date(), email="sami@example.no")
    for person in (amina, omar, busy, absent, polish, suspended):
        working(session, person)
    suspended.status = "suspended"
    session.add(Absence(interpreter_id=absent.id, starts_at=oslo(TUESDAY, 9), ends_at=oslo(TUESDAY, 12)))
    session.commit()
    other_booker = session.get(User, users.booker_b.id)
    b.request_direct(session, other_booker, busy.register_number, details(start=oslo(TUESDAY, 10, 30)), NOW, RULES)
    amina_login = user(session, "amina@example.no", role="interpreter", person=amina)
    session.commit()
    return SimpleNamespace(
        amina=amina.register_number, omar=omar.register_number, busy=busy.register_number,
        absent=absent.register_number, polish=polish.register_number, suspended=suspended.register_number,
        amina_id=amina.id, amina_login=amina_login.id, booker=users.booker.id, booker_b=users.booker_b.id)


@pytest.fixture
def booker(client, session, users, login, world):
    login(client, users.booker)
    fresh(session)
    return client


def domain_booking(session, world, start, end=None, confirm=True, booker_id=None, **changes) -> int:
    """A booking of amina made through the domain (as if by the web), accepted by her unless told not to."""
    fresh(session)  # a read begun before a request wrote cannot become a write on SQLite
    made = b.request_direct(session, session.get(User, booker_id or world.booker), world.amina,
                            details(start=start, end=end, **changes), NOW, RULES)
    if confirm:
        b.accept(session, session.get(User, world.amina_login), made.id, NOW, RULES)
    session.commit()
    return made.id


# Search -------------------------------------------------------------------------------------------

def test_the_search_form_without_a_search(booker):
    response = booker.get("/bookings/search")
    assert response.status_code == 200
    assert 'name="language"' in response.text and 'method="get"' in response.text
    assert "Free, qualified interpreters" not in response.text
    # The sector is the agency's until the booker chooses another: it decides whether a police certificate is needed.
    assert re.search(r'<option value="health" selected>', response.text)
    assert ("These sectors need an interpreter with a police certificate valid on the day: Child welfare and Police."
            in text(response))


def test_search_shows_free_qualified_interpreters_best_first_and_no_one_else(booker, world):
    response = booker.get("/bookings/search", query_string=SLOT)
    assert response.status_code == 200
    page = text(response)
    assert "Amina Ali" in page and "Omar Osman" in page
    assert page.index("Amina Ali") < page.index("Omar Osman")  # category A before C
    assert str(world.amina) in page
    for name in ("Bashir Busy", "Asha Away", "Piotr Polski", "Sami Suspended"):
        assert name not in page
    book_link = unescape(re.search(rf'href="(/bookings/new\?interpreter={world.amina}[^"]*)"',
                                   response.text).group(1))
    assert parse_qs(urlsplit(book_link).query) == {"interpreter": [str(world.amina)],
                                                   **{k: [v] for k, v in SLOT.items()}}
    assert "Send as an open request to all qualified free interpreters" in page


def test_search_narrows_on_site_work_by_county_and_gender(booker, world):
    response = booker.get("/bookings/search", query_string={**SLOT, "modality": "onsite", "county": "03"})
    assert "Amina Ali" in text(response)
    response = booker.get("/bookings/search", query_string={**SLOT, "modality": "onsite", "county": "46"})
    assert response.status_code == 200
    assert "Amina Ali" not in text(response)  # she lives in county 03
    assert "No qualified interpreter is free at that time" in text(response)
    response = booker.get("/bookings/search", query_string={**SLOT, "gender_preference": "male"})
    assert "Omar Osman" in text(response) and "Amina Ali" not in text(response)


def test_a_child_welfare_search_shows_only_those_with_a_police_certificate_and_books_no_one_else(
        booker, session, world):
    """The sector searched for is carried to the booking form; booking someone without a certificate there anyway
    (a link kept from before, say) is refused with the reason, and the form is kept."""
    fresh(session).add(Credential(interpreter_id=world.amina_id, type="police_certificate", language_code=None,
                                  state="verified", issued_on=date(2026, 6, 1)))
    session.commit()
    response = booker.get("/bookings/search", query_string={**SLOT, "sector": "child_welfare"})
    page = text(response)
    assert "Amina Ali" in page and "Omar Osman" not in page
    assert "Only interpreters with a police certificate valid on that day are shown" in page
    assert "Only interpreters with a police certificate" not in text(booker.get("/bookings/search",
                                                                                query_string=SLOT))
    book_link = unescape(re.search(rf'href="(/bookings/new\?interpreter={world.amina}[^"]*)"',
                                   response.text).group(1))
    assert parse_qs(urlsplit(book_link).query)["sector"] == ["child_welfare"]
    assert re.search(r'<option value="child_welfare" selected>', booker.get(book_link).text)

    before = count_bookings(session)
    response = booker.post("/bookings/new", data=form(interpreter=world.omar, sector="child_welfare",
                                                      description="Kept text"))
    assert response.status_code == 409
    assert ("Assignments in this sector need a police certificate valid on the day, and Omar Osman does not hold "
            "one.") in text(response)
    assert "Kept text" in response.text
    assert count_bookings(session) == before
    assert booker.post("/bookings/new", data=form(interpreter=world.amina, sector="child_welfare")).status_code == 303


def test_the_sectors_that_need_a_police_certificate_are_named_once(booker, session, world, monkeypatch):
    """The search, the booking and the hint that explains them all follow qualification.POLICE_CERTIFICATE_SECTORS:
    changed to school alone, school needs a certificate and child welfare does not, and the hint says so."""
    monkeypatch.setattr(qualification, "POLICE_CERTIFICATE_SECTORS", frozenset({"school"}))
    page = text(booker.get("/bookings/search"))
    assert "These sectors need an interpreter with a police certificate valid on the day: School." in page
    school = text(booker.get("/bookings/search", query_string={**SLOT, "sector": "school"}))
    assert "Amina Ali" not in school and "Omar Osman" not in school
    welfare = text(booker.get("/bookings/search", query_string={**SLOT, "sector": "child_welfare"}))
    assert "Amina Ali" in welfare and "Omar Osman" in welfare
    response = booker.post("/bookings/new", data=form(interpreter=world.amina, sector="school"))
    assert response.status_code == 409 and "need a police certificate valid on the day" in text(response)


def test_search_warns_when_a_credential_ends_before_the_slot(booker, session, world):
    person = interpreter(session, "Soon Gone", credentials=[("authorisation", "ar", {"valid_until": date(2027, 3, 5)})],
                         today=NOW.date(), email="soon@example.no")
    working(session, person)
    later = {**SLOT, "date": "2027-03-09"}
    page = text(booker.get("/bookings/search", query_string=later))
    row = page[page.index("Soon Gone"):]
    assert "The interpreter's credential ends before the start" in row[:200]
    assert "credential ends before" not in text(booker.get("/bookings/search", query_string=SLOT))


@pytest.mark.parametrize("changes, message", [
    ({"end_time": "09:00"}, "The end must be after the start."),
    ({"date": "2027-03-28", "start_time": "02:30", "end_time": "03:30"}, "does not exist in Norway"),
    ({"date": "2027-02-28"}, "The start must be in the future."),
    ({"date": "next tuesday"}, "Enter the date as YYYY-MM-DD"),
    ({"start_time": "25:00"}, "Enter the time as HH:MM"),
    ({"language": "zz"}, "Unknown language code"),
    ({"min_category": "Q"}, "The category must be one of A, B, C, D and E."),
    ({"modality": "", "end_time": "12:30"}, "The way of working must be on site, video or phone."),
    ({"modality": "onsite", "county": "99"}, "Unknown county number."),
    ({"sector": "space"}, "Unknown sector."),
])
def test_bad_searches_are_refused_with_a_clear_message(booker, world, changes, message):
    response = booker.get("/bookings/search", query_string={**SLOT, **changes})
    assert response.status_code == 422
    assert message in text(response)
    assert "Amina Ali" not in text(response)


def test_an_ambiguous_time_asks_which_and_the_answer_is_carried_to_the_booking(booker, session, world):
    for day in (6,):  # Sunday, all day
        session.add(WorkingHours(interpreter_id=world.amina_id, weekday=day, start_time=time(0), end_time=time(23, 59)))
    session.commit()
    night = {**SLOT, "date": "2027-10-31", "start_time": "02:30", "end_time": "03:30"}
    response = booker.get("/bookings/search", query_string=night)
    assert response.status_code == 422
    assert "happens twice in Norway" in text(response)
    assert 'name="start_fold" value="0"' in response.text and 'name="start_fold" value="1"' in response.text
    assert 'href="#start_fold"' in response.text  # the error summary leads to the question
    assert 'name="end_fold"' not in response.text  # 03:30 happens once

    response = booker.get("/bookings/search", query_string={**night, "start_fold": "1"})
    assert response.status_code == 200 and "Amina Ali" in text(response)
    book_link = unescape(re.search(rf'href="(/bookings/new\?interpreter={world.amina}[^"]*)"',
                                   response.text).group(1))
    assert "start_fold=1" in book_link
    page = booker.get(book_link)
    assert page.status_code == 200
    assert re.search(r'name="start_fold" value="1"\s+checked', page.text)

    response = booker.post("/bookings/new", data=form(**night, interpreter=world.amina, start_fold="1"))
    assert response.status_code == 303, text(response)
    made = fresh(session).scalars(sa.select(Booking).where(Booking.agency_id == session.get(User, world.booker)
                                                           .agency_id)).one()
    assert made.starts_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 winter time is UTC+1
    assert made.ends_at - made.starts_at == timedelta(hours=1)
    assert "(winter time)" in text(booker.get(f"/bookings/{made.id}"))


# Booking directly and as an open request -------------------------------------------------------------

def test_the_booking_form_is_filled_in_from_the_search(booker, world):
    response = booker.get("/bookings/new", query_string={**SLOT, "interpreter": world.amina})
    assert response.status_code == 200
    page = response.text
    assert "Book Amina Ali" in text(response)
    assert 'value="2027-03-02"' in page and 'value="10:00"' in page and 'value="11:00"' in page
    assert re.search(r'<option value="ar" selected>', page)
    assert 'value="Bo Bestiller"' in page  # the contact defaults to the booker
    assert re.search(r'<option value="health" selected>', page)  # and the sector to the agency's
    assert "Never write the client's name or health information here" in text(response)
    assert 'name="count"' in page  # a direct request can be repeated
    assert booker.get("/bookings/new", query_string={**SLOT, "interpreter": "999999"}).status_code == 404
    # Not a register number ("\u00b2" passes str.isdigit, which int() refuses: it was a 500), to look at or to book.
    for number in ("\u00b2", "9" * 12):
        assert booker.get("/bookings/new", query_string={**SLOT, "interpreter": number}).status_code == 404
        response = booker.post("/bookings/new", data=form(interpreter=number))
        assert response.status_code == 404 and "A register number is written with digits only" in text(response)
    assert 'name="count"' not in booker.get("/bookings/new", query_string=SLOT).text  # an open request cannot


def test_booking_directly(booker, session, world):
    response = booker.post("/bookings/new", data=form(interpreter=world.amina))
    assert response.status_code == 303
    made = fresh(session).scalars(sa.select(Booking)).all()
    made = [m for m in made if m.interpreter_id == world.amina_id]
    assert len(made) == 1 and made[0].status == "requested" and made[0].description == "Samtale om bolig"
    assert response.location.endswith(f"/bookings/{made[0].id}")
    page = booker.get(response.location)
    assert page.status_code == 200
    shown = text(page)
    assert "The request is sent to Amina Ali" in shown  # the flash
    assert "Requested, waiting for the interpreter's answer" in shown
    assert f"Amina Ali, register number {world.amina}" in shown
    assert "Request sent to the interpreter" in shown and "Bo Bestiller (Booker)" in shown  # the history
    assert "Cancel the booking" in shown and "not billed" in shown


def test_an_on_site_booking_names_its_municipality(booker, session, world):
    response = booker.post("/bookings/new", data=form(interpreter=world.amina))
    booking_id = int(response.location.rsplit("/", 1)[1])
    session.execute(sa.update(Booking).where(Booking.id == booking_id).values(
        modality="onsite", address="Strandkaien 2", municipality_number="4601", meeting_url=None))
    session.commit()
    shown = text(booker.get(f"/bookings/{booking_id}"))
    assert "Municipality Bergen" in shown and "4601" not in shown


def test_a_taken_interpreter_is_a_409_and_the_form_is_kept(booker, session, world):
    before = count_bookings(session)
    response = booker.post("/bookings/new", data=form(interpreter=world.busy, description="Kept text"))
    assert response.status_code == 409
    assert "Bashir Busy is not free at that time" in text(response)
    assert "Kept text" in response.text and 'value="Sak 42"' in response.text
    assert count_bookings(session) == before


def test_a_language_the_interpreter_lacks_is_refused(booker, session, world):
    before = count_bookings(session)
    response = booker.post("/bookings/new", data=form(interpreter=world.polish))
    assert response.status_code == 409
    assert "Piotr Polski is not qualified at category C or higher in this language" in text(response)
    assert count_bookings(session) == before


@pytest.mark.parametrize("changes, status, message", [
    ({"end_time": "09:00"}, 422, "The end must be after the start."),
    ({"date": "2027-03-28", "start_time": "02:30", "end_time": "03:30"}, 422,
     "3/28/27, 2:30 AM does not exist in Norway"),  # Babel's short form, a narrow space before AM
    ({"date": "2027-10-31", "start_time": "02:30", "end_time": "03:30"}, 422, "happens twice in Norway"),
    ({"modality": "onsite", "address": ""}, 422, "Give the address where the interpreter is to meet."),
    ({"meeting_url": "http://insecure.example"}, 422, "The meeting link must start with https://."),
    ({"description": "x" * 501}, 422, "The description can be at most 500 characters."),
    ({"sector": "space"}, 422, "Unknown sector."),
    ({"count": "27"}, 422, "A series has from 1 to 26 occurrences."),
    ({"count": "two"}, 422, "Enter a whole number."),
    ({"count": "\u00b2"}, 422, "Enter a whole number."),  # passes str.isdigit, which int() refuses: was a 500
    ({"every_days": "9" * 30}, 422, "Enter a whole number."),
    ({"start_time": "16:00", "end_time": "17:00"}, 409, "is not free at that time"),
])
def test_bad_booking_input_changes_nothing(booker, session, world, changes, status, message):
    before, audited = count_bookings(session), count_audit(session)
    response = booker.post("/bookings/new", data=form(interpreter=world.amina, **changes))
    assert response.status_code == status
    assert message in text(response)
    assert count_bookings(session) == before and count_audit(session) == audited


def test_an_open_request_is_offered_to_every_qualified_free_interpreter(booker, session, world):
    response = booker.post("/bookings/new", data=form())
    assert response.status_code == 303
    made = fresh(session).scalars(sa.select(Booking).where(Booking.status == "open")).one()
    offered = set(session.scalars(sa.select(BookingOffer.interpreter_id).where(BookingOffer.booking_id == made.id)))
    assert world.amina_id in offered and len(offered) == 2  # Amina and Omar, nobody else
    shown = text(booker.get(response.location))
    assert "Open, offered to qualified interpreters" in shown
    assert "offered to 2 qualified, free interpreters" in shown
    assert "Open request created and offered to interpreters" in shown


def test_how_many_an_open_request_was_offered_to_is_said_in_good_grammar(booker, session, world):
    # Omar is taken at the slot, so only Amina is offered it: one interpreter, not "1 interpreters".
    b.request_direct(session, session.get(User, world.booker_b), world.omar, details(), NOW, RULES)
    session.commit()
    one = booker.post("/bookings/new", data=form())
    assert "Not chosen yet: offered to 1 qualified, free interpreter." in text(booker.get(one.location))
    in_bokmaal = text(booker.get(one.location, environ_overrides={"HTTP_ACCEPT_LANGUAGE": "nb"}))
    assert "tilbudt 1 kvalifisert, ledig tolk." in in_bokmaal
    # Nobody holds Somali: the request stays open, and the page says nobody was found, not "offered to 0".
    none = booker.post("/bookings/new", data=form(language="so"))
    shown = text(booker.get(none.location))
    assert "Not chosen yet: no qualified, free interpreter was found to offer it to." in shown
    assert "offered to 0" not in shown


# Series ------------------------------------------------------------------------------------------

def test_series_preview_then_all_or_nothing(booker, session, world):
    domain_booking(session, world, oslo(date(2027, 3, 16), 10), confirm=False)  # the third week is taken
    before = count_bookings(session)
    weekly = form(interpreter=world.amina, every_days="7", count="4")

    preview = booker.post("/bookings/new", data=weekly)
    assert preview.status_code == 200
    shown = text(preview)
    assert "Check the dates of the series" in shown
    assert shown.count("Not free") == 1 and shown.count("Free") >= 3
    assert "Book all" not in shown  # all or nothing: nothing to confirm
    assert count_bookings(session) == before  # a preview books nothing

    refused = booker.post("/bookings/series", data=weekly)  # as if the date was taken after the preview
    assert refused.status_code == 409
    assert "Mar 16, 2027 cannot be booked" in text(refused) and "Nothing was booked" in text(refused)
    assert count_bookings(session) == before

    fortnightly = form(interpreter=world.amina, every_days="7", count="2")
    preview = booker.post("/bookings/new", data=fortnightly)
    assert "Book all 2 dates" in text(preview)
    done = booker.post("/bookings/series", data=fortnightly)
    assert done.status_code == 303
    series = fresh(session).scalars(sa.select(Booking).where(Booking.series_id.is_not(None))
                                    .order_by(Booking.starts_at)).all()
    assert [s.starts_at for s in series] == [oslo(TUESDAY, 10), oslo(date(2027, 3, 9), 10)]
    assert len({s.series_id for s in series}) == 1 and all(s.status == "requested" for s in series)
    page = text(booker.get(done.location))
    assert "2 requests are sent to Amina Ali" in page and "The series" in page


def test_changing_a_series_goes_back_to_the_form_with_everything_kept(booker, world):
    response = booker.post("/bookings/new", data=form(interpreter=world.amina, every_days="7", count="3",
                                                      step="edit"))
    assert response.status_code == 200
    assert "Book Amina Ali" in text(response) and 'value="3"' in response.text and "Samtale om bolig" in response.text


# The booking's page and what can be done with it ------------------------------------------------------

def test_cancelling_late_is_billable_and_twice_is_a_409(booker, session, world):
    soon = domain_booking(session, world, oslo(date(2027, 3, 1), 14))  # today: less than 24 hours away
    page = text(booker.get(f"/bookings/{soon}"))
    assert "Cancelling now is late" in page and "billable" in page
    response = booker.post(f"/bookings/{soon}/cancel", data={"reason": "The meeting moved"})
    assert response.status_code == 303
    shown = text(booker.get(response.location))
    assert "The cancellation was late, so the assignment will be billed." in shown
    assert "Late cancellation: billable" in shown and "Reason: The meeting moved" in shown
    made = fresh(session).get(Booking, soon)
    assert (made.status, made.late_cancellation, made.billable) == ("cancelled", True, True)

    audited = count_audit(session)
    again = booker.post(f"/bookings/{soon}/cancel", data={})
    assert again.status_code == 409
    assert "This booking can no longer be cancelled" in text(again)
    assert count_audit(session) == audited


def test_cancelling_in_time_is_not_billed(booker, session, world):
    later = domain_booking(session, world, oslo(date(2027, 3, 4), 10))
    assert "Cancelling now is in time and is not billed." in text(booker.get(f"/bookings/{later}"))
    assert booker.post(f"/bookings/{later}/cancel", data={}).status_code == 303
    made = fresh(session).get(Booking, later)
    assert (made.status, made.late_cancellation, made.billable) == ("cancelled", False, False)
    assert "In time: not billable" in text(booker.get(f"/bookings/{later}"))


def later(clock, client, users, login, moment: datetime) -> None:
    """Move the clock on; a login idle that long has ended, so log in again."""
    clock.move_to(moment)
    login(client, users.booker)


def _reported(session, world, clock, client, users, login) -> int:
    made = domain_booking(session, world, oslo(date(2027, 3, 1), 9))
    later(clock, client, users, login, datetime(2027, 3, 1, 10, 30, tzinfo=UTC))  # 11:30 in Oslo: it has ended
    fresh(session)
    booking = session.get(Booking, made)
    b.report_time(session, session.get(User, world.amina_login), made, booking.starts_at,
                  booking.ends_at + timedelta(minutes=15), None, datetime(2027, 3, 1, 10, 30, tzinfo=UTC))
    session.commit()
    return made


def test_approving_a_reported_time(booker, session, world, clock, users, login):
    made = _reported(session, world, clock, booker, users, login)
    page = text(booker.get(f"/bookings/{made}"))
    assert "Reported, waiting for your approval" in page and "10:15" in page  # the actual end
    assert "Approve the reported time" in page and "Actual time reported by the interpreter" in page
    response = booker.post(f"/bookings/{made}/approve-time")
    assert response.status_code == 303
    shown = text(booker.get(response.location))
    assert "The reported time is approved" in shown and "Completed" in shown
    assert "Reported time approved" in shown  # in the history
    done = fresh(session).get(Booking, made)
    assert (done.status, done.report_state, done.billable) == ("completed", "approved", True)
    assert booker.post(f"/bookings/{made}/approve-time").status_code == 409


def test_one_minute_of_travel_is_one_minute_in_each_language(booker, session, world, clock, users, login):
    made = domain_booking(session, world, oslo(date(2027, 3, 1), 9), modality="onsite", address="Strandkaien 2",
                          municipality="4601")
    later(clock, booker, users, login, datetime(2027, 3, 1, 10, 30, tzinfo=UTC))
    fresh(session)
    booking = session.get(Booking, made)
    b.report_time(session, session.get(User, world.amina_login), made, booking.starts_at, booking.ends_at, 1,
                  datetime(2027, 3, 1, 10, 30, tzinfo=UTC))
    session.commit()
    shown = {lang: text(booker.get(f"/bookings/{made}", environ_overrides={"HTTP_ACCEPT_LANGUAGE": lang}))
             for lang in ("en", "nb", "nn")}
    assert "Travel time 1 minute" in shown["en"] and "1 minutes" not in shown["en"]
    assert "1 minutt" in shown["nb"] and "1 minutter" not in shown["nb"]
    assert "1 minutt" in shown["nn"]


def test_disputing_a_reported_time_needs_a_reason(booker, session, world, clock, users, login):
    made = _reported(session, world, clock, booker, users, login)
    audited = count_audit(session)
    response = booker.post(f"/bookings/{made}/dispute-time", data={"reason": "  "})
    assert response.status_code == 422
    assert "Say what is wrong with the reported time." in text(response)
    assert count_audit(session) == audited and fresh(session).get(Booking, made).report_state == "reported"
    response = booker.post(f"/bookings/{made}/dispute-time", data={"reason": "We finished at 10:00"})
    assert response.status_code == 303
    shown = text(booker.get(response.location))
    assert "Disputed, waiting for the interpreter" in shown and "We finished at 10:00" in shown
    assert fresh(session).get(Booking, made).report_state == "disputed"


def test_recording_a_no_show(booker, session, world, clock, users, login):
    made = domain_booking(session, world, oslo(date(2027, 3, 1), 9))
    assert "Record a no-show" not in text(booker.get(f"/bookings/{made}"))  # not started yet
    assert booker.post(f"/bookings/{made}/no-show", data={"party": "client"}).status_code == 409
    later(clock, booker, users, login, datetime(2027, 3, 1, 8, 20, tzinfo=UTC))  # 09:20 in Oslo
    assert "Record a no-show" in text(booker.get(f"/bookings/{made}"))
    response = booker.post(f"/bookings/{made}/no-show", data={"party": "nobody"})
    assert response.status_code == 422 and "Say who did not come" in text(response)
    response = booker.post(f"/bookings/{made}/no-show", data={"party": "client"})
    assert response.status_code == 303
    done = fresh(session).get(Booking, made)
    assert (done.status, done.no_show, done.billable) == ("completed", "client", True)
    assert "The client did not come" in text(booker.get(f"/bookings/{made}"))


def test_warnings_are_shown_in_words(booker, session, world):
    made = domain_booking(session, world, oslo(TUESDAY, 13))
    row = fresh(session).get(Booking, made)
    row.warn_credential_expires = row.warn_not_qualified = True
    session.commit()
    page = text(booker.get(f"/bookings/{made}"))
    assert "A credential behind the interpreter's category ends before this assignment starts" in page
    assert "The interpreter can no longer take this booking: a credential it needs" in page
    listing = text(booker.get("/bookings/"))
    assert "The interpreter's credential ends before the start" in listing
    assert "The interpreter no longer qualifies" in listing


def test_a_warning_and_its_end_are_in_the_history_in_words(booker, session, world):
    """Paused, the interpreter's booking is flagged; active again, the warning goes: the history says both in
    words, not as the audit log's codes."""
    made = domain_booking(session, world, oslo(TUESDAY, 13))
    person = fresh(session).get(Booking, made).interpreter
    person.status = "paused"
    b.flag_unqualified(session, [person.id], NOW, "status:paused")
    person.status = "active"
    b.clear_requalified(session, [person.id], NOW, "status:active")
    session.commit()
    page = text(booker.get(f"/bookings/{made}"))
    assert "Warning: the interpreter no longer qualifies" in page
    assert "Warning taken away: the interpreter can take the booking again" in page
    assert "booking.qualified_again" not in page and "The interpreter can no longer take this booking" not in page


# Another agency's booking, and who may use the pages --------------------------------------------------

def test_another_agencys_booking_is_not_found_for_every_page_and_action(booker, session, world):
    theirs = domain_booking(session, world, oslo(date(2027, 3, 1), 14), booker_id=world.booker_b)
    audited = count_audit(session)
    assert booker.get(f"/bookings/{theirs}").status_code == 404
    for action, data in (("cancel", {}), ("approve-time", {}), ("dispute-time", {"reason": "x"}),
                         ("no-show", {"party": "client"})):
        assert booker.post(f"/bookings/{theirs}/{action}", data=data).status_code == 404, action
    assert booker.get("/bookings/999999").status_code == 404
    made = fresh(session).get(Booking, theirs)
    assert made.status == "confirmed" and count_audit(session) == audited
    assert "Bashir Busy" not in text(booker.get("/bookings/"))  # their bookings are not listed either


PAGES = [("get", "/bookings/"), ("get", "/bookings/search"), ("get", "/bookings/new"), ("post", "/bookings/new"),
         ("post", "/bookings/series"), ("get", "/bookings/1"), ("post", "/bookings/1/cancel"),
         ("post", "/bookings/1/approve-time"), ("post", "/bookings/1/dispute-time"), ("post", "/bookings/1/no-show")]


@pytest.mark.parametrize("method, path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, users, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302 and "/login" in response.location


@pytest.mark.parametrize("role", ["interpreter", "admin"])
@pytest.mark.parametrize("method, path", PAGES)
def test_interpreters_and_registry_admins_may_not(client, users, login, method, path, role):
    login(client, getattr(users, role))
    assert getattr(client, method)(path).status_code == 403


def test_agency_admins_may_book_too(client, users, login, world):
    login(client, users.agency_admin)
    assert client.get("/bookings/").status_code == 200
    assert client.post("/bookings/new", data=form(interpreter=world.amina)).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(booker, session, app, world):
    before = count_bookings(session)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = booker.post("/bookings/new", data=form(interpreter=world.amina))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert count_bookings(session) == before


# The list of the agency's bookings ----------------------------------------------------------------

def test_the_list_filters_and_pages(booker, session, world, app):
    ids = [domain_booking(session, world, oslo(date(2027, 3, day), 10), confirm=day % 2 == 0)
           for day in (2, 3, 4, 5)]
    b.cancel(session, session.get(User, world.booker), ids[3], None, NOW, RULES)
    session.commit()

    listing = booker.get("/bookings/")
    assert listing.status_code == 200
    shown = text(listing)
    for label in ("Confirmed", "Requested, waiting for the interpreter's answer", "Cancelled"):
        assert label in shown
    assert shown.count("Amina Ali") == 4

    confirmed = table(booker.get("/bookings/", query_string={"status": "confirmed"}))
    assert confirmed.count("Amina Ali") == 2 and confirmed.count("Confirmed") == 2 and "Cancelled" not in confirmed

    window = text(booker.get("/bookings/", query_string={"date_from": "2027-03-03", "date_to": "2027-03-04"}))
    assert window.count("Amina Ali") == 2

    saved = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 3
    try:
        first = booker.get("/bookings/")
        next_url = unescape(re.search(r'<a class="ds-link" rel="next" href="([^"]+)"', first.text).group(1))
        second = booker.get(next_url)
    finally:
        app.config["PAGE_SIZE"] = saved
    assert text(first).count("Amina Ali") == 3 and text(second).count("Amina Ali") == 1
    assert f'/bookings/{ids[3]}"' in second.text and f'/bookings/{ids[3]}"' not in first.text
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize("query, message", [
    ({"cursor": "forged"}, "The page link is not valid"),
    ({"date_from": "yesterday"}, "Enter the date as YYYY-MM-DD"),
    ({"date_from": "2027-03-05", "date_to": "2027-03-01"}, "The to date must be the same as or after the from date."),
    ({"status": "paid"}, "Choose a status from the list."),
])
def test_bad_list_filters_are_refused(booker, world, query, message):
    response = booker.get("/bookings/", query_string=query)
    assert response.status_code == 422
    assert message in text(response)


# The login and SQLite's write lock ------------------------------------------------------------------

@pytest.mark.parametrize("reads", ["FROM user_sessions", "JOIN users ON users.interpreter_id = interpreters.id"],
                         ids=["login", "interpreter"])
def test_a_booking_form_reads_its_login_and_interpreter_before_it_takes_sqlites_write_lock(booker, app, world, reads):
    """On SQLite a write transaction holds the one write lock from its BEGIN, so whatever it reads first keeps every
    other writer waiting. A posted form reads its login (the session record and the user), then, as the API does,
    finds its interpreter with their address and checks that they are active, qualified and work this way
    (booking.choose), each in a read transaction of its own; then it checks the slot is free and books in a write
    transaction: a second connection can take the write lock while the login and the interpreter are read. On
    PostgreSQL, where writers do not queue at BEGIN, all is one transaction."""
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    with write_lock_probe(engine, reads) as seen:
        response = booker.post("/bookings/new", data=form(interpreter=world.amina))
    assert response.status_code == 303
    assert seen.others == (["could write"] if sqlite else [])
    assert len(seen.read_in) == 1 and len(seen.booked_in) == 1
    # The transaction it was read in (counted by BEGIN) is, or is not, the one the booking is written in.
    assert (seen.read_in[0] == seen.booked_in[0]) is not sqlite
    # The message and the address it goes to next are read before the commit: no transaction begins after it
    # (on SQLite, a POST's would be a write transaction, to read the booking and the interpreter again).
    assert seen.begins == seen.booked_in[0]


def test_a_series_reads_its_interpreter_for_every_date_before_it_takes_sqlites_write_lock(booker, app, world):
    """As a single request does: each date's interpreter and whether they may take it (booking.choose_series) are
    read apart on SQLite, then every date is checked free and booked in one write transaction, all or nothing."""
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    with write_lock_probe(engine, "JOIN users ON users.interpreter_id = interpreters.id") as seen:
        response = booker.post("/bookings/series", data=form(interpreter=world.amina, every_days="7", count="3"))
    assert response.status_code == 303
    assert len(seen.read_in) == 3 and len(seen.booked_in) == 3  # one of each a date
    assert seen.others == (["could write"] * 3 if sqlite else [])
    assert len(set(seen.booked_in)) == 1 and seen.begins == seen.booked_in[0]  # one write transaction, the last
    assert (set(seen.read_in) == set(seen.booked_in)) is not sqlite


@pytest.mark.parametrize("path", ["/bookings/new", "/bookings/series"], ids=["preview", "refused series"])
def test_a_series_preview_never_takes_sqlites_write_lock(booker, app, session, world, path):
    """A preview writes nothing, so it does not hold the one write lock while it checks each date (up to 26, each
    with its own queries) and shows them, first or again when a series is refused: another writer can write
    meanwhile."""
    domain_booking(session, world, oslo(date(2027, 3, 16), 10), confirm=False)  # the third week is taken
    before = count_bookings(session)
    with app.app_context():
        engine = db.engine
    with write_lock_probe(engine, "SELECT") as seen:
        response = booker.post(path, data=form(interpreter=world.amina, every_days="7", count="4"))
    assert response.status_code == (200 if path.endswith("new") else 409)
    assert text(response).count("Not free") == 1
    assert count_bookings(session) == before
    if engine.dialect.name == "sqlite":
        # A refused series first tried to book the dates (under the lock, until the taken one: all or nothing);
        # every read after that, and every read of a preview, leaves the lock to others.
        tried = max(seen.booked_in, default=0)
        assert len(seen.booked_in) == (0 if path.endswith("new") else 2)
        later = [other for other, begun in zip(seen.others, seen.read_in, strict=True) if begun > tried]
        assert len(later) >= 4 and set(later) == {"could write"}  # at least one free-slot check a date
    else:
        assert seen.others == []


def test_a_form_posted_after_a_while_records_that_the_login_was_seen(booker, session, world, clock):
    clock.move_to(NOW + timedelta(minutes=10))  # the login was last seen at NOW: its record is written again
    response = booker.post("/bookings/new", data=form(interpreter=world.amina))
    assert response.status_code == 303
    seen = fresh(session).scalar(sa.select(sa.func.max(UserSession.last_seen_at)))
    assert seen == NOW + timedelta(minutes=10)
    assert fresh(session).scalar(sa.select(sa.func.count()).select_from(Booking).where(
        Booking.status == "requested", Booking.booker_id == world.booker)) == 1


def test_a_page_read_after_a_while_records_that_the_login_was_seen_without_a_rollback(booker, app, session, clock):
    """The login's last use is written apart; the read the GET began ends with COMMIT, not ROLLBACK, since psycopg
    forgets every prepared statement on ROLLBACK and this happens on each user's first request every minute."""
    clock.move_to(NOW + timedelta(minutes=10))
    with app.app_context():
        engine = db.engine
    with rollbacks(engine) as seen:
        assert booker.get("/bookings/new").status_code == 200
    assert seen == []
    assert fresh(session).scalar(sa.select(sa.func.max(UserSession.last_seen_at))) == NOW + timedelta(minutes=10)
