"""Every page a logged-in user works on, in real Chromium: axe-core (WCAG 2.1 A/AA) finds nothing, no
Content-Security-Policy violation, in bokmål, nynorsk and English. The admin console has its own file
(tests/admin/test_browser.py); the public pages are in test_public_pages.py."""

from datetime import datetime, time, timedelta

import pyotp
import pytest

from registry.database import writing
from registry.domain import accounts, booking
from registry.domain.clock import OSLO, now, oslo_date
from registry.domain.interpreters import add_credential, create_interpreter
from registry.extensions import db
from registry.models import WorkingHours
from tests.browser.fixtures import ConsoleWatch, assert_accessible
from tests.helpers import totp_code

pytestmark = pytest.mark.browser
PASSWORD = "a long enough test password"
LANGS = ["nb", "nn", "en"]
LANDED: dict[str, str] = {}  # where each role's login first took them


def next_tuesday() -> datetime:
    today = oslo_date()
    return datetime.combine(today + timedelta(days=(1 - today.weekday()) % 7 + 7), time(10), tzinfo=OSLO)


@pytest.fixture(scope="module")
def people(live_app):
    """A public body with an admin and a booker, an interpreter with a login and a request waiting."""
    with live_app.app_context(), writing():
        session = db.session
        agency = accounts.create_agency(session, "983971636", "Sykehuset Nettleser HF", "health", "03")
        made = {}
        for role, email in (("agency_admin", "leder@nettleser.example"), ("booker", "bestiller@nettleser.example")):
            made[role] = accounts.create_user(session, email, email.split("@")[0], role, agency=agency)
        person = create_interpreter(session, name="Nora Nettleser", gender="female", county_number="03",
                                    availability="part_time", email="nora@example.no")
        add_credential(session, person, "authorisation", "ar", issued_on=oslo_date() - timedelta(days=400),
                       today=oslo_date())
        for day in range(7):
            session.add(WorkingHours(interpreter_id=person.id, weekday=day, start_time=time(0),
                                     end_time=time(23, 59)))
        made["interpreter"] = accounts.create_user(session, "nora@example.no", "Nora", "interpreter",
                                                   interpreter=person)
        made["registry_admin"] = accounts.create_user(session, "jobs@imdi.example", "Jo", "registry_admin")
        made["registry_admin"].totp_secret = pyotp.random_base32()
        made["registry_admin"].totp_enabled = True
        for user in made.values():
            accounts.set_password(user, PASSWORD, "CHEAPEST")
        session.flush()
        start = next_tuesday()
        request = booking.request_direct(session, made["booker"], person.register_number, booking.Details(
            language="ar", min_category="C", modality="video", starts_at=start, ends_at=start + timedelta(hours=1),
            sector="health", description="Samtale om bolig"), now(), booking.Rules())
        session.commit()
        return {"emails": {role: user.email for role, user in made.items()}, "booking": request.id,
                "number": person.register_number, "secret": made["registry_admin"].totp_secret,
                "date": start.date().isoformat()}


@pytest.fixture(scope="module")
def pages(browser, live_server, people):
    """One logged-in browser page per role."""
    opened, contexts = {}, []
    for role, email in people["emails"].items():
        context = browser.new_context(locale="nb-NO")
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_server + "/login?lang=en")
        page.fill("#email", email)
        page.fill("#password", PASSWORD)
        page.click("main button[type=submit]")
        if role == "registry_admin":
            page.fill("#code", totp_code(people["secret"]))
            page.click("main button[type=submit]")
        assert "/login" not in page.url, page.content()[:1000]
        LANDED[role] = page.url
        opened[role] = (page, ConsoleWatch(page))
        contexts.append(context)
    yield opened
    for context in contexts:
        context.close()


def search(people) -> str:
    return (f"/bookings/search?language=ar&min_category=C&modality=video&date={people['date']}"
            "&start_time=10:00&end_time=11:00")


PAGES = [
    ("booker", "/bookings/"),
    ("booker", "{search}"),
    ("booker", "/bookings/new?interpreter={number}&language=ar&min_category=C&modality=video&date={date}"
               "&start_time=12:00&end_time=13:00"),
    ("booker", "/bookings/{booking}"),
    ("booker", "/account"),
    ("booker", "/account/password"),
    ("booker", "/account/two-factor"),
    ("booker", "/calendar"),
    ("agency_admin", "/agency/"),
    ("agency_admin", "/agency/statistics"),
    ("agency_admin", "/agency/statistics?county=03&end={date}"),  # the coming booking, in a chart
    ("interpreter", "/me/"),
    ("interpreter", "/me/profile"),
    ("interpreter", "/me/hours"),
    ("interpreter", "/me/absences"),
    ("interpreter", "/me/credentials/new"),
    ("interpreter", "/me/assignments"),
    ("interpreter", "/me/assignments/calendar"),
    ("interpreter", "/me/assignments/{booking}"),
    ("interpreter", "/calendar"),
    ("registry_admin", "/admin/jobs"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(("role", "path"), PAGES, ids=[f"{r}:{p}" for r, p in PAGES])
def test_page_is_accessible(pages, live_server, people, role, path, lang):
    page, watch = pages[role]
    url = path.format(search=search(people), **people)
    response = page.goto(live_server + url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert response.status == 200, url
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    assert not watch.take_csp_violations(), url


@pytest.mark.parametrize("path", ["/login", "/password/forgot", "/apply"])
@pytest.mark.parametrize("lang", LANGS)
def test_public_forms_are_accessible(browser, live_server, path, lang):
    context = browser.new_context()
    page = context.new_page()
    watch = ConsoleWatch(page)
    page.goto(live_server + path + f"?lang={lang}")
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    page.locator("main button[type=submit]").first.click()  # empty: every error shown, still accessible
    assert_accessible(page)
    assert not watch.take_csp_violations()
    context.close()


def test_each_login_lands_on_its_own_page(pages):
    landed = LANDED
    assert "/bookings" in landed["booker"] and "/agency" in landed["agency_admin"]
    assert "/me" in landed["interpreter"] and "/admin" in landed["registry_admin"]
