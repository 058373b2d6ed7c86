"""The interpreter's assignment pages: inbox, answers, withdrawal, time reports, calendar view, history.

Bookings are made through registry.domain.booking, with time frozen on Monday 1 March 2027 08:00 in Oslo;
the interpreters work every day, all day, so only the rules under test decide.
"""

import re
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
import time_machine

from registry.domain import accounts
from registry.domain import booking as b
from registry.domain.times import to_utc
from registry.models import Absence, Booking, BookingOffer, OutboxMessage, WorkingHours
from tests.helpers import interpreter
from tests.web.conftest import log_in, make_user

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
TUESDAY = date(2027, 3, 2)
RULES = b.Rules()
A = [("authorisation", "ar"), ("bachelor", "ar")]
C = [("authorisation", "ar")]


def oslo(day: date, hh: int, mm: int = 0, fold: int | None = None) -> datetime:
    return to_utc(datetime.combine(day, time(hh, mm)), "start", fold)


def details(start=None, end=None, **kw) -> b.Details:
    start = start or oslo(TUESDAY, 10)
    values = dict(language="ar", min_category="C", modality="video", starts_at=start,
                  ends_at=end or start + timedelta(hours=1), sector="health",
                  meeting_url="https://meet.example/room-1")
    values.update(kw)
    return b.Details(**values)


def works_always(session, person) -> None:
    for day in range(7):
        session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=time(0), end_time=time(23, 59)))


def build_world(session):
    """Agency A (a booker, a second booker, an agency admin), agency B (a booker), and interpreters Amina (A in
    Arabic) and Omar (C in Arabic) with logins. Time is frozen at NOW; `clock` moves it, `traveller.stop()`
    ends it."""
    traveller = time_machine.travel(NOW, tick=False)
    clock = traveller.start()
    amina = interpreter(session, "Amina Ali", credentials=A, today=NOW.date(), email="amina@example.no")
    omar = interpreter(session, "Omar Osman", credentials=C, today=NOW.date(), email="omar@example.no")
    works_always(session, amina)
    works_always(session, omar)
    agency_a = accounts.create_agency(session, "990993122", "Sykehuset Aust HF", "health", "03")
    agency_b = accounts.create_agency(session, "966240423", "NAV Vest", "nav", "46")
    made = dict(
        booker=make_user(session, "bestiller@aust.no", "Bo Bestiller", "booker", agency=agency_a),
        booker2=make_user(session, "kollega@aust.no", "Kari Kollega", "booker", agency=agency_a),
        agency_admin=make_user(session, "leder@aust.no", "Lea Leder", "agency_admin", agency=agency_a),
        booker_b=make_user(session, "bestiller@vest.no", "Ben Vest", "booker", agency=agency_b),
        amina_login=make_user(session, "amina@example.no", "Amina Ali", "interpreter", interpreter=amina),
        omar_login=make_user(session, "omar@example.no", "Omar Osman", "interpreter", interpreter=omar),
    )
    session.commit()
    return SimpleNamespace(session=session, clock=clock, traveller=traveller, amina=amina, omar=omar,
                           agency_a=agency_a.id, agency_b=agency_b.id, **made)


@pytest.fixture
def world(session, web_config):
    built = build_world(session)
    yield built
    built.traveller.stop()


def direct(w, who="amina", booker="booker", **kw) -> int:
    """A direct request to `who`, committed; returns its id."""
    made = b.request_direct(w.session, getattr(w, booker), getattr(w, who).register_number, details(**kw), NOW, RULES)
    w.session.commit()
    return made.id


def confirmed(w, who="amina", **kw) -> int:
    booking_id = direct(w, who, **kw)
    b.accept(w.session, getattr(w, f"{who}_login"), booking_id, NOW, RULES)
    w.session.commit()
    return booking_id


def open_request(w, **kw) -> int:
    made = b.create_open(w.session, w.booker, details(**kw), NOW, RULES)
    w.session.commit()
    return made.id


def status_of(w, booking_id: int) -> Booking:
    w.session.rollback()  # see what the requests committed
    return w.session.get(Booking, booking_id)


def login_as(client, w, name: str, lang: str = "en"):
    """Log in as one of the world's users, with the pages in `lang` (en: assert English words; nb: times
    as 24-hour clock and dates as Norwegians write them)."""
    client.get(f"/login?lang={lang}")
    user = getattr(w, name)
    log_in(client, SimpleNamespace(email=user.email, password="correct horse battery staple", totp_secret=None))


def text_of(response) -> str:
    """The page's text without tags and with whitespace collapsed, as a reader would meet it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


# The inbox ------------------------------------------------------------------------------------------

def test_inbox_shows_requests_offers_and_coming_work_and_nobody_elses(client, world):
    w = world
    request_id = direct(w, description="Samtale om bolig", start=oslo(TUESDAY, 9))
    offer_id = open_request(w, description="Åpen forespørsel", start=oslo(TUESDAY, 12))
    coming_id = confirmed(w, description="Bekreftet møte", start=oslo(TUESDAY, 14))
    omars_id = direct(w, who="omar", description="Omars eget oppdrag", start=oslo(TUESDAY, 9))
    login_as(client, w, "amina_login", lang="nb")

    response = client.get("/me/assignments")

    assert response.status_code == 200
    page, html = text_of(response), response.get_data(as_text=True)
    assert "Samtale om bolig" in page and "Åpen forespørsel" in page and "Bekreftet møte" in page
    assert "Omars eget oppdrag" not in page
    assert f"/me/assignments/{request_id}/accept" in html and f"/me/assignments/{request_id}/decline" in html
    assert f"/me/assignments/{offer_id}/accept" in html
    assert f"/me/assignments/{coming_id}/withdraw" in html
    assert f"/me/assignments/{omars_id}" not in html
    # The request says when to answer by (half the time left before the start: 08:00 + 12.5 h), in Oslo time.
    assert "Sykehuset Aust HF" in page and "20:30" in page
    assert "https://meet.example/room-1" in page


@pytest.mark.parametrize("path", ["/me/assignments/{id}", "/me/assignments/{id}/time",
                                  "/me/assignments/{id}/withdraw"])
def test_someone_elses_booking_is_not_found(client, world, path):
    omars_id = direct(world, who="omar")
    login_as(client, world, "amina_login")
    assert client.get(path.format(id=omars_id)).status_code == 404


@pytest.mark.parametrize("action", ["accept", "decline", "withdraw"])
def test_answering_someone_elses_booking_is_not_found_and_changes_nothing(client, world, action):
    omars_id = direct(world, who="omar")
    login_as(client, world, "amina_login")
    assert client.post(f"/me/assignments/{omars_id}/{action}").status_code == 404
    assert status_of(world, omars_id).status == "requested"


def test_only_interpreters_have_an_inbox(client, world):
    assert client.get("/me/assignments").status_code == 302  # to the login page
    login_as(client, world, "booker")
    assert client.get("/me/assignments").status_code == 403
    assert client.get("/me/assignments/calendar").status_code == 403


# Answering ------------------------------------------------------------------------------------------

def test_accepting_a_request_confirms_it_and_tells_the_booker(client, world):
    booking_id = direct(world)
    login_as(client, world, "amina_login")

    response = client.post(f"/me/assignments/{booking_id}/accept")

    assert response.status_code == 303 and response.location.endswith(f"/me/assignments/{booking_id}")
    assert status_of(world, booking_id).status == "confirmed"
    kinds = world.session.scalars(sa.select(OutboxMessage.kind).where(
        OutboxMessage.recipient == "bestiller@aust.no")).all()
    assert "booking_confirmed" in kinds
    page = client.get(f"/me/assignments/{booking_id}")
    assert "Confirmed" in text_of(page) and f"/me/assignments/{booking_id}/withdraw" in page.get_data(as_text=True)


def test_declining_a_request_frees_it_and_saying_no_to_an_offer_hides_it(client, world):
    request_id = direct(world)
    offer_id = open_request(world, start=oslo(TUESDAY, 12), description="Tilbudt oppdrag")
    login_as(client, world, "amina_login")

    assert client.post(f"/me/assignments/{request_id}/decline").status_code == 303
    assert client.post(f"/me/assignments/{offer_id}/decline").status_code == 303

    assert status_of(world, request_id).status == "declined"
    offer = world.session.get(BookingOffer, (offer_id, world.amina.id))
    assert offer.declined_at is not None and status_of(world, offer_id).status == "open"
    assert "Tilbudt oppdrag" not in text_of(client.get("/me/assignments"))


def test_an_open_request_taken_by_someone_else_is_refused_politely(client, world):
    offer_id = open_request(world)
    omar, amina = client.application.test_client(), client
    login_as(omar, world, "omar_login")
    login_as(amina, world, "amina_login")

    assert omar.post(f"/me/assignments/{offer_id}/accept").status_code == 303
    response = amina.post(f"/me/assignments/{offer_id}/accept")

    assert response.status_code == 409
    assert "another interpreter took this assignment first" in text_of(response)
    taken = status_of(world, offer_id)
    assert taken.status == "confirmed" and taken.interpreter_id == world.omar.id
    # The offer's page says so too, without the details of the assignment she did not get.
    page = text_of(amina.get(f"/me/assignments/{offer_id}"))
    assert "another interpreter took this assignment first" in page and "meet.example" not in page


def test_accepting_after_the_request_lapsed_is_refused(client, world):
    booking_id = direct(world)
    world.clock.move_to(status_of(world, booking_id).respond_by + timedelta(minutes=1))
    login_as(client, world, "amina_login")

    response = client.post(f"/me/assignments/{booking_id}/accept")

    assert response.status_code == 409 and "lapsed" in text_of(response)
    assert status_of(world, booking_id).status == "requested"


def test_a_post_without_a_csrf_token_is_refused(client, world):
    booking_id = direct(world)
    login_as(client, world, "amina_login")
    client.application.config["WTF_CSRF_ENABLED"] = True  # web_config restores it afterwards

    assert client.post(f"/me/assignments/{booking_id}/accept").status_code == 400
    assert status_of(world, booking_id).status == "requested"


# Withdrawing ----------------------------------------------------------------------------------------

def test_withdrawing_asks_first_then_reopens_the_booking_and_tells_the_booker(client, world):
    booking_id = confirmed(world)
    login_as(client, world, "amina_login")

    question = client.get(f"/me/assignments/{booking_id}/withdraw")
    assert question.status_code == 200 and "Sykehuset Aust HF is told" in text_of(question)
    assert status_of(world, booking_id).status == "confirmed"  # asking changes nothing

    assert client.post(f"/me/assignments/{booking_id}/withdraw").status_code == 303
    reopened = status_of(world, booking_id)
    assert reopened.status == "open" and reopened.interpreter_id is None
    assert world.session.scalar(sa.select(OutboxMessage).where(
        OutboxMessage.kind == "booking_withdrawn", OutboxMessage.recipient == "bestiller@aust.no")) is not None
    # She can no longer see it: it is neither hers nor offered to her.
    assert client.get(f"/me/assignments/{booking_id}").status_code == 404


def test_withdrawing_from_a_request_is_refused(client, world):
    booking_id = direct(world)
    login_as(client, world, "amina_login")
    assert client.post(f"/me/assignments/{booking_id}/withdraw").status_code == 409
    assert status_of(world, booking_id).status == "requested"


# Time reports ---------------------------------------------------------------------------------------

def test_time_cannot_be_reported_before_the_end(client, world):
    booking_id = confirmed(world)
    login_as(client, world, "amina_login")

    page = client.get(f"/me/assignments/{booking_id}/time")
    assert page.status_code == 409 and "when the assignment has ended" in text_of(page)
    response = client.post(f"/me/assignments/{booking_id}/time",
                           data={"actual_start": "2027-03-02T10:00", "actual_end": "2027-03-02T11:00"})
    assert response.status_code == 409
    assert status_of(world, booking_id).report_state is None


def test_a_good_time_report_is_saved_and_shown(client, world):
    booking_id = confirmed(world, modality="onsite", address="Sykehusveien 1, 0372 Oslo", municipality="0301",
                           meeting_url=None)
    world.clock.move_to(oslo(TUESDAY, 13))
    login_as(client, world, "amina_login")

    form = client.get(f"/me/assignments/{booking_id}/time")
    assert form.status_code == 200
    assert 'value="2027-03-02T10:00"' in form.get_data(as_text=True)  # planned start, in Oslo time
    response = client.post(f"/me/assignments/{booking_id}/time", data={
        "actual_start": "2027-03-02T10:05", "actual_end": "2027-03-02T11:20", "travel_minutes": "45"})

    assert response.status_code == 303
    saved = status_of(world, booking_id)
    assert saved.actual_start == datetime(2027, 3, 2, 9, 5, tzinfo=UTC)
    assert saved.actual_end == datetime(2027, 3, 2, 10, 20, tzinfo=UTC)
    assert saved.travel_minutes == 45 and saved.report_state == "reported"
    page = text_of(client.get(f"/me/assignments/{booking_id}"))
    assert "11:20" in page and "travel 45 minutes" in page
    assert "Time reported" in page or "time_reported" in page


def test_one_minute_of_travel_reads_as_one_minute(client, world):
    booking_id = confirmed(world, modality="onsite", address="Sykehusveien 1, 0372 Oslo", municipality="0301",
                           meeting_url=None)
    world.clock.move_to(oslo(TUESDAY, 13))
    login_as(client, world, "amina_login")
    response = client.post(f"/me/assignments/{booking_id}/time", data={
        "actual_start": "2027-03-02T10:00", "actual_end": "2027-03-02T11:00", "travel_minutes": "1"})
    assert response.status_code == 303
    pages = {lang: text_of(client.get(f"/me/assignments/{booking_id}?lang={lang}")) for lang in ("en", "nb")}
    assert "travel 1 minute" in pages["en"] and "travel 1 minutes" not in pages["en"]
    assert "reise 1 minutt" in pages["nb"] and "reise 1 minutter" not in pages["nb"]


@pytest.mark.parametrize("data, field, words", [
    ({"actual_start": "2027-03-02T11:00", "actual_end": "2027-03-02T10:00"}, "actual_end", "after the start"),
    ({"actual_start": "yesterday", "actual_end": "2027-03-02T10:00"}, "actual_start", "2027-03-01 09:30"),
    ({"actual_start": "2027-03-02T10:00", "actual_end": "2027-03-02T11:00", "travel_minutes": "lots"},
     "travel_minutes", "whole minutes"),
    ({"actual_start": "2027-03-02T10:00", "actual_end": "2027-03-02T11:00", "travel_minutes": "30"},
     "travel_minutes", "on-site"),  # a video assignment has no travel
])
def test_a_bad_time_report_is_shown_with_its_error_and_changes_nothing(client, world, data, field, words):
    booking_id = confirmed(world)
    world.clock.move_to(oslo(TUESDAY, 13))
    login_as(client, world, "amina_login")

    response = client.post(f"/me/assignments/{booking_id}/time", data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html and words in html
    assert status_of(world, booking_id).report_state is None


def test_the_hour_the_clocks_go_back_is_asked_about(client, world):
    # 02:00 summer time to 02:30 winter time on 31 October 2027: 90 minutes, starting in the repeated hour.
    start, end = datetime(2027, 10, 31, 0, 0, tzinfo=UTC), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    booking_id = confirmed(world, start=start, end=end)
    world.clock.move_to(end + timedelta(hours=1))
    login_as(client, world, "amina_login")

    asked = client.post(f"/me/assignments/{booking_id}/time",
                        data={"actual_start": "2027-10-31T02:10", "actual_end": "2027-10-31T03:00"})
    assert asked.status_code == 422 and "happens twice" in asked.get_data(as_text=True)
    assert 'name="start_fold"' in asked.get_data(as_text=True)

    answered = client.post(f"/me/assignments/{booking_id}/time", data={
        "actual_start": "2027-10-31T02:10", "start_fold": "0", "actual_end": "2027-10-31T02:25", "end_fold": "1"})
    assert answered.status_code == 303
    saved = status_of(world, booking_id)
    assert saved.actual_start == datetime(2027, 10, 31, 0, 10, tzinfo=UTC)   # 02:10 summer time
    assert saved.actual_end == datetime(2027, 10, 31, 1, 25, tzinfo=UTC)     # 02:25 winter time


def test_a_time_that_does_not_exist_is_refused(client, world):
    booking_id = confirmed(world, start=oslo(date(2027, 3, 28), 1), end=oslo(date(2027, 3, 28), 4))
    world.clock.move_to(datetime(2027, 3, 28, 6, tzinfo=UTC))
    login_as(client, world, "amina_login")

    response = client.post(f"/me/assignments/{booking_id}/time",
                           data={"actual_start": "2027-03-28T02:30", "actual_end": "2027-03-28T04:00"})

    assert response.status_code == 422 and "does not exist" in response.get_data(as_text=True)
    assert status_of(world, booking_id).report_state is None


def test_a_disputed_report_shows_the_reason_so_it_can_be_reported_again(client, world):
    booking_id = confirmed(world)
    world.clock.move_to(oslo(TUESDAY, 13))
    later = oslo(TUESDAY, 13)
    b.report_time(world.session, world.amina_login, booking_id, oslo(TUESDAY, 10), oslo(TUESDAY, 12), None, later)
    b.dispute_time(world.session, world.booker, booking_id, "Vi var ferdige 11.15", later)
    world.session.commit()
    login_as(client, world, "amina_login")

    form = client.get(f"/me/assignments/{booking_id}/time")
    assert form.status_code == 200 and "Vi var ferdige 11.15" in text_of(form)
    assert 'value="2027-03-02T12:00"' in form.get_data(as_text=True)  # what she reported, to correct
    again = client.post(f"/me/assignments/{booking_id}/time",
                        data={"actual_start": "2027-03-02T10:00", "actual_end": "2027-03-02T11:15"})
    assert again.status_code == 303
    saved = status_of(world, booking_id)
    assert saved.report_state == "reported" and saved.actual_end == oslo(TUESDAY, 11, 15)


# The assignment's page ------------------------------------------------------------------------------

def test_the_assignment_page_shows_details_and_history_without_anyones_email(client, world):
    booking_id = confirmed(world, description="Foreldresamtale")
    login_as(client, world, "amina_login")

    response = client.get(f"/me/assignments/{booking_id}")

    assert response.status_code == 200
    page = text_of(response)
    assert "Foreldresamtale" in page and "Sykehuset Aust HF" in page
    history = page[page.index("History"):]
    assert re.search(r"Accepted You .*Requested The public body", history), history
    assert "bestiller@aust.no" not in page and "amina@example.no" not in page
    assert f"/calendar/booking/{booking_id}.ics" in response.get_data(as_text=True)


def test_a_warning_and_its_end_are_in_the_assignments_history_in_words(client, world):
    booking_id = confirmed(world)
    world.amina.status = "paused"
    b.flag_unqualified(world.session, [world.amina.id], NOW, "status:paused")
    world.amina.status = "active"
    b.clear_requalified(world.session, [world.amina.id], NOW, "status:active")
    world.session.commit()
    login_as(client, world, "amina_login")
    page = text_of(client.get(f"/me/assignments/{booking_id}"))
    history = page[page.index("History"):]
    assert "Flagged: the interpreter no longer qualifies" in history
    assert "No longer flagged: the interpreter can take it again" in history
    assert "booking.qualified_again" not in history


# The calendar view ----------------------------------------------------------------------------------

def test_the_calendar_lists_assignments_by_local_day_across_the_change_to_summer_time(client, world):
    w = world
    sunday = date(2027, 3, 28)  # the clocks go forward at 02:00 this night
    dst_id = confirmed(w, start=oslo(sunday, 10), end=oslo(sunday, 11), description="Etter sommertid")
    request_id = direct(w, start=oslo(TUESDAY, 9))
    omars_id = direct(w, who="omar", start=oslo(TUESDAY, 9))
    w.session.add(Absence(interpreter_id=w.amina.id, starts_at=oslo(date(2027, 3, 10), 0),
                          ends_at=oslo(date(2027, 3, 12), 0), note="Kurs"))
    w.session.commit()
    login_as(client, w, "amina_login", lang="nb")

    response = client.get("/me/assignments/calendar")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = {text_of_html(m.group(1)): text_of_html(m.group(2)) for m in re.finditer(
        r'<th scope="row">(.*?)</th>\s*<td>(.*?)</td>', html, re.S)}
    assert len(rows) == 28
    assert "10:00–11:00" in rows["søndag 28. mars 2027"]
    assert f"/me/assignments/{dst_id}" in html
    assert "09:00–10:00" in rows["tirsdag 2. mars 2027"]
    assert f"/me/assignments/{request_id}" in html and f"/me/assignments/{omars_id}" not in html
    absent = [day for day, text in rows.items() if "Kurs" in text]
    assert absent == ["onsdag 10. mars 2027", "torsdag 11. mars 2027"]  # not the 12th: it ends at midnight
    # Four weeks on, the DST assignment is behind the page.
    assert f"/me/assignments/{dst_id}" not in client.get("/me/assignments/calendar?week=4").get_data(as_text=True)


def text_of_html(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def test_a_week_that_is_not_a_number_is_refused(client, world):
    login_as(client, world, "amina_login")
    assert client.get("/me/assignments/calendar?week=soon").status_code == 400
    assert client.get("/me/assignments/calendar?week=9999").status_code == 400
