"""Calendar feeds and .ics downloads: the right events only, Europe/Oslo times, and addresses that stop working."""

import re
from datetime import UTC, date, datetime, timedelta

import icalendar
import pyotp
import pytest
import sqlalchemy as sa

from registry.domain import booking as b
from registry.models import AuditEntry, User
from tests.helpers import totp_code
from tests.web.conftest import make_user
from tests.web.test_inbox import NOW, RULES, TUESDAY, build_world, confirmed, direct, login_as, open_request, oslo

OSLO_TZID = "Europe/Oslo"


@pytest.fixture
def world(session, web_config):
    """The bookers, agency admin and interpreters of test_inbox.py, with time frozen."""
    built = build_world(session)
    yield built
    built.traveller.stop()


def feed_address(client, w, name: str) -> str:
    """The user's feed path, as the calendar page shows it."""
    login_as(client, w, name)
    page = client.get("/calendar")
    assert page.status_code == 200
    found = re.search(r'id="feed-address"[^>]*value="http://localhost(/calendar/[^"]+\.ics)"',
                      page.get_data(as_text=True))
    assert found, page.get_data(as_text=True)
    client.post("/logout")
    return found.group(1)


def fetch(app, path: str):
    """Fetch a feed as a calendar app does: no login, no cookies."""
    return app.test_client().get(path)


def parse(response) -> icalendar.Calendar:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def events(calendar: icalendar.Calendar) -> dict[str, icalendar.Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def uid(booking_id: int) -> str:
    return f"booking-{booking_id}@tolkeregister"


# Interpreters ---------------------------------------------------------------------------------------

def test_an_interpreters_feed_holds_their_assignments_only_in_oslo_time(client, app, world):
    w = world
    sunday = date(2027, 3, 28)  # summer time starts this night: 10:00 is 08:00 UTC
    dst_id = confirmed(w, start=oslo(sunday, 10), end=oslo(sunday, 11), modality="onsite", municipality="0301",
                       address="Sykehusveien 1, 0372 Oslo", meeting_url=None, description="Kort samtale")
    requested_id = direct(w, start=oslo(TUESDAY, 9))
    cancelled_id = confirmed(w, start=oslo(TUESDAY, 12))
    b.cancel(w.session, w.booker, cancelled_id, None, NOW, RULES)
    declined_id = direct(w, start=oslo(TUESDAY, 14))
    b.decline(w.session, w.amina_login, declined_id, NOW)
    w.session.commit()
    omars_id = confirmed(w, who="omar", start=oslo(TUESDAY, 9))
    offer_id = open_request(w, start=oslo(TUESDAY, 16))  # offered, not hers

    calendar = parse(fetch(app, feed_address(client, w, "amina_login")))

    found = events(calendar)
    assert set(found) == {uid(dst_id), uid(requested_id), uid(cancelled_id)}
    assert uid(omars_id) not in found and uid(offer_id) not in found and uid(declined_id) not in found
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == [OSLO_TZID]
    event = found[uid(dst_id)]
    assert event["DTSTART"].params["TZID"] == OSLO_TZID and event["DTEND"].params["TZID"] == OSLO_TZID
    start = event.decoded("DTSTART")
    assert (start.hour, start.minute) == (10, 0) and start.astimezone(UTC) == datetime(2027, 3, 28, 8, tzinfo=UTC)
    assert str(event["LOCATION"]) == "Sykehusveien 1, 0372 Oslo"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(found[uid(requested_id)]["STATUS"]) == "TENTATIVE"
    assert str(found[uid(cancelled_id)]["STATUS"]) == "CANCELLED"
    assert "DTSTAMP" in event and "LAST-MODIFIED" in event and int(event["SEQUENCE"]) == 1  # requested, accepted
    description = str(event["DESCRIPTION"])
    assert "Kort samtale" in description and "Sykehuset Aust HF" in description
    assert "Amina" not in description  # an interpreter is not told about herself
    assert str(event["URL"]) == f"http://localhost/me/assignments/{dst_id}"
    assert "arabisk" in str(event["SUMMARY"])  # in her language: bokmål unless she chose another


def test_the_feed_is_in_the_owners_language(client, app, world):
    confirmed(world)
    path = feed_address(client, world, "amina_login")
    for locale, name in (("en", "Arabic"), ("nb", "arabisk")):
        world.session.rollback()  # a fresh transaction: requests have written since
        world.session.execute(sa.update(User).where(User.id == world.amina_login.id).values(locale=locale))
        world.session.commit()
        summary = str(next(iter(events(parse(fetch(app, path))).values()))["SUMMARY"])
        assert name in summary


def test_the_feed_covers_thirty_days_back_and_a_year_ahead(client, app, world):
    w = world
    early_id = confirmed(w, start=oslo(TUESDAY, 10))
    far_id = confirmed(w, start=oslo(date(2028, 3, 25), 10))
    w.clock.move_to(NOW + timedelta(days=20))  # the far one is more than a year ahead
    path = feed_address(client, w, "amina_login")
    assert set(events(parse(fetch(app, path)))) == {uid(early_id)}

    w.clock.move_to(NOW + timedelta(days=40))  # the early one is now more than 30 days ago
    path = feed_address(client, w, "amina_login")
    assert set(events(parse(fetch(app, path)))) == {uid(far_id)}


# Bookers and agency admins --------------------------------------------------------------------------

def test_a_bookers_feed_holds_their_own_bookings_and_an_admins_the_whole_agencys(client, app, world):
    w = world
    mine = direct(w, start=oslo(TUESDAY, 9), reference="Sak 2027/4711")
    colleagues = direct(w, booker="booker2", who="omar", start=oslo(TUESDAY, 9))
    opened = open_request(w, start=oslo(TUESDAY, 12))
    other_agency = direct(w, booker="booker_b", start=oslo(TUESDAY, 14))

    booker = events(parse(fetch(app, feed_address(client, w, "booker"))))
    admin = events(parse(fetch(app, feed_address(client, w, "agency_admin"))))
    booker_b = events(parse(fetch(app, feed_address(client, w, "booker_b"))))

    assert set(booker) == {uid(mine), uid(opened)}
    assert set(admin) == {uid(mine), uid(colleagues), uid(opened)}
    assert set(booker_b) == {uid(other_agency)}
    assert str(booker[uid(opened)]["STATUS"]) == "TENTATIVE"
    assert str(booker[uid(mine)]["LOCATION"]) == "https://meet.example/room-1"
    # Bookers are told who is coming; the event leads to the booking's page; the case reference stays out.
    assert "Amina Ali" in str(booker[uid(mine)]["DESCRIPTION"])
    assert str(booker[uid(mine)]["URL"]) == f"http://localhost/bookings/{mine}"
    assert "4711" not in fetch(app, feed_address(client, w, "booker")).get_data(as_text=True)


# Addresses ------------------------------------------------------------------------------------------

def test_a_new_address_stops_the_old_one(client, app, world):
    confirmed(world)
    old = feed_address(client, world, "amina_login")
    login_as(client, world, "amina_login")

    response = client.post("/calendar/rotate")

    assert response.status_code == 303
    assert fetch(app, old).status_code == 404
    client.post("/logout")
    new = feed_address(client, world, "amina_login")
    assert new != old and len(events(parse(fetch(app, new)))) == 1
    world.session.rollback()
    entry = world.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "calendar.rotated"))
    assert entry.actor_id == world.amina_login.id and entry.after == {"calendar_version": 2}


def test_rotating_needs_a_csrf_token(client, app, world):
    path = feed_address(client, world, "amina_login")
    login_as(client, world, "amina_login")
    app.config["WTF_CSRF_ENABLED"] = True  # web_config restores it afterwards
    assert client.post("/calendar/rotate").status_code == 400
    assert fetch(app, path).status_code == 200


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # the signature changed
    lambda token: "WzYsMV0" + token[token.index("."):],            # another user id, same signature
    lambda token: "nonsense",
])
def test_a_tampered_address_is_not_found(client, app, world, tamper):
    path = feed_address(client, world, "amina_login")
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    assert fetch(app, f"/calendar/{tamper(token)}.ics").status_code == 404


def test_a_deactivated_users_feed_stops_working(client, app, world):
    path = feed_address(client, world, "booker")
    world.session.rollback()  # a fresh transaction: requests have written since
    world.session.execute(sa.update(User).where(User.id == world.booker.id).values(active=False))
    world.session.commit()
    assert fetch(app, path).status_code == 404


def test_registry_admins_have_no_feed(client, world, session):
    admin = make_user(session, "admin@imdi.no", "Ada Admin", "registry_admin")
    admin.totp_secret, admin.totp_enabled = pyotp.random_base32(), True
    session.commit()
    client.post("/login", data={"email": "admin@imdi.no", "password": "correct horse battery staple"})
    assert client.post("/login/code", data={"code": totp_code(admin.totp_secret)}).status_code == 302
    assert client.get("/calendar").status_code == 403
    assert client.post("/calendar/rotate").status_code == 403


def test_the_calendar_page_needs_a_login(client, world):
    response = client.get("/calendar")
    assert response.status_code == 302 and "/login" in response.location


# Single bookings ------------------------------------------------------------------------------------

@pytest.mark.parametrize("who, status", [
    ("booker", 200), ("booker2", 200), ("agency_admin", 200), ("amina_login", 200),
    ("booker_b", 404), ("omar_login", 404),
])
def test_a_booking_downloads_for_its_agency_and_its_interpreter_only(client, world, who, status):
    booking_id = confirmed(world, description="Til nedlasting")
    login_as(client, world, who)

    response = client.get(f"/calendar/booking/{booking_id}.ics")

    assert response.status_code == status
    if status == 200:
        assert response.headers["Content-Disposition"] == f'attachment; filename="booking-{booking_id}.ics"'
        event = events(parse(response))[uid(booking_id)]
        assert event.decoded("DTSTART") == oslo(TUESDAY, 10) and event["DTSTART"].params["TZID"] == OSLO_TZID
        assert "Til nedlasting" in str(event["DESCRIPTION"])


def test_an_open_offer_is_not_the_interpreters_to_download(client, world):
    offer_id = open_request(world)
    login_as(client, world, "amina_login")
    assert client.get(f"/calendar/booking/{offer_id}.ics").status_code == 404


def test_a_booking_download_needs_a_login(client, world):
    booking_id = confirmed(world)
    assert client.get(f"/calendar/booking/{booking_id}.ics").status_code == 302
