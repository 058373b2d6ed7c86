"""Every public page, in bokmål, nynorsk and English, in real Chromium: right status, right
<html lang>, one <h1>, no axe-core violations of WCAG 2.1 A/AA, and no Content-Security-Policy
violations. Plus search without JavaScript and the language switcher.
"""

import re
import urllib.request
from dataclasses import dataclass
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from tests.browser.fixtures import ConsoleWatch, assert_accessible

pytestmark = pytest.mark.browser

LANGUAGES = ("nb", "nn", "en")

# (id, path, expected status). {n}: a listed interpreter qualified in Arabic; {other}: a language
# they are not qualified in; {suspended}: a suspended interpreter; {next_page}: the "Next page" link.
PUBLIC_PAGES = [
    ("front", "/", 200),
    ("search", "/register", 200),
    ("search-language", "/register?language=ar", 200),
    ("search-filtered", "/register?language=ar&min_category=C&county=03", 200),
    ("search-page-2", "{next_page}", 200),
    ("search-no-results", "/register?q=zzzzzz", 200),
    ("profile", "/register/{n}", 200),
    ("card", "/register/{n}/card", 200),
    ("verify-form", "/verify", 200),
    ("verify", "/verify/{n}", 200),
    ("verify-language", "/verify/{n}?language=ar", 200),
    ("verify-other-language", "/verify/{n}?language={other}", 200),
    ("verify-not-qualified", "/verify/{suspended}", 200),
    ("report", "/report?number={n}", 200),
    ("not-found", "/register/999999", 404),
    ("bad-search", "/register?language=zz", 400),
    ("bad-verify", "/verify?number=abc", 400),
]


def with_lang(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


@pytest.fixture(scope="module")
def paths(live_server, numbers) -> dict[str, str]:
    """PUBLIC_PAGES' paths with the demo register's numbers and the second page's cursor filled in."""
    with urllib.request.urlopen(live_server + "/register") as response:
        html = response.read().decode()
    found = re.search(r'<a[^>]*rel="next"[^>]*href="([^"]+)"', html)
    assert found, "the first page of the register has no 'Next page' link"
    next_page = unescape(found.group(1))
    assert "cursor=" in next_page
    values = dict(n=numbers.listed, other=numbers.other_language, suspended=numbers.suspended,
                  next_page=next_page)
    return {name: path.format(**values) for name, path, _ in PUBLIC_PAGES}


@dataclass
class Tab:
    page: Page
    lang: str
    console: ConsoleWatch


@pytest.fixture(scope="module", params=LANGUAGES)
def tab(request, browser):
    """One context and one page per UI language, reused for every page in that language."""
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield Tab(page, request.param, ConsoleWatch(page))
    context.close()


@pytest.mark.parametrize(("name", "status"), [(name, status) for name, _, status in PUBLIC_PAGES],
                         ids=[name for name, _, _ in PUBLIC_PAGES])
def test_public_page_is_accessible(tab, live_server, paths, name, status):
    page, lang = tab.page, tab.lang
    response = page.goto(live_server + with_lang(paths[name], lang))
    assert response is not None, name
    assert response.status == status, f"{name} ({lang}): status {response.status}, expected {status}"
    assert page.get_attribute("html", "lang") == lang
    headings = page.locator("h1")
    assert headings.count() == 1, f"{name}: expected one <h1>, found {headings.count()}"
    assert headings.inner_text().strip()
    assert_accessible(page)
    csp = tab.console.take_csp_violations()
    assert not csp, f"{name} ({lang}): Content-Security-Policy violations:\n" + "\n".join(csp)


def test_csp_violations_are_caught(browser, live_server):
    """The CSP check above is real: an inline style on the app's origin, under its CSP, is reported."""
    context = browser.new_context()
    page = context.new_page()
    watch = ConsoleWatch(page)
    with urllib.request.urlopen(live_server + "/") as response:
        csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    page.route(live_server + "/canary", lambda route: route.fulfill(
        status=200, content_type="text/html", headers={"Content-Security-Policy": csp},
        body='<!doctype html><html lang="en"><title>x</title><style>p{color:red}</style><p>x</p></html>'))
    page.goto(live_server + "/canary")
    page.wait_for_timeout(100)
    assert watch.csp_violations(), f"no CSP violation reported; console errors: {watch.errors}"
    context.close()


def test_axe_check_reports_violations(browser, live_server):
    """assert_accessible is real: a page with an unlabelled field and an image without alt fails it."""
    context = browser.new_context()
    page = context.new_page()
    page.route(live_server + "/broken", lambda route: route.fulfill(
        status=200, content_type="text/html",
        body='<!doctype html><html lang="en"><title>x</title><main><h1>x</h1><img src="/x.png">'
             '<input type="text"></main></html>'))
    page.goto(live_server + "/broken")
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    assert "image-alt" in str(failure.value) and "label" in str(failure.value)
    context.close()


def test_search_works_without_javascript(browser, live_server, live_app, numbers):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server + "/?lang=en")
    with live_app.app_context():
        from registry.extensions import db
        from registry.models import Interpreter

        name = db.session.scalar(
            db.select(Interpreter.name).where(Interpreter.register_number == numbers.listed))
    surname = name.split()[-1]
    page.fill("#q", surname)
    page.select_option("#language", "ar")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/register\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["language"] == ["ar"] and query["q"] == [surname]
    rows = page.locator("main table tbody tr")
    assert rows.count() >= 1
    assert page.locator("main table tbody").get_by_role("link", name=name).count() >= 1
    for text in rows.all_inner_texts():
        assert surname.casefold() in text.casefold() and "Arabic" in text
    # The form keeps what was searched for.
    assert page.input_value("#q") == surname
    assert page.input_value("#language") == "ar"
    context.close()


def test_a_breach_is_reported_through_accessible_pages(browser, live_server, numbers):
    """The report form refused (every error shown and linked), then sent: each page passes axe, without
    Content-Security-Policy violations, and the receipt thanks the reporter. In bokmål only: the form takes five
    reports an hour from one address, and the form itself is checked in every language above."""
    lang = "nb"
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    watch = ConsoleWatch(page)
    page.goto(live_server + f"/register/{numbers.listed}?lang={lang}")
    page.locator(f'main a[href="/report?number={numbers.listed}"]').click()
    assert page.input_value("#register_number") == str(numbers.listed)
    page.fill("#register_number", "")
    page.locator("main button[type=submit]").click()
    assert page.locator("[role=alert] a").count() == 2  # the number and what happened
    assert page.locator("[aria-invalid=true]").count() == 2
    assert_accessible(page)
    page.fill("#register_number", str(numbers.listed))
    page.fill("#what_happened", "The interpreter added advice of their own to what the doctor said.")
    page.locator("main button[type=submit]").click()
    page.wait_for_url(re.compile(r"/report/received"))
    assert page.locator("h1").count() == 1 and page.locator("[role=status]").count() == 1
    assert_accessible(page)
    assert not watch.take_csp_violations()
    context.close()


def test_language_switcher_keeps_the_page(browser, live_server, numbers):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    path = "/register?language=ar&min_category=C"
    page.goto(live_server + with_lang(path, "nb"))
    assert page.get_attribute("html", "lang") == "nb"
    for lang in ("en", "nb", "nn"):
        link = page.locator(f".language-nav a[hreflang='{lang}']")
        link.click()
        page.wait_for_url(re.compile(rf"[?&]lang={lang}(&|$)"))
        assert page.get_attribute("html", "lang") == lang
        parts = urlsplit(page.url)
        query = parse_qs(parts.query)
        assert parts.path == "/register"
        assert query["language"] == ["ar"] and query["min_category"] == ["C"]
        current = page.locator(".language-nav a[aria-current='true']")
        assert current.count() == 1 and current.get_attribute("hreflang") == lang
    # The choice is remembered for the visit: a link without ?lang= stays in nynorsk.
    page.locator("main table tbody a").first.click()
    page.wait_for_url(re.compile(r"/register/\d+$"))
    assert page.get_attribute("html", "lang") == "nn"
    context.close()


# Pages checked for reflow (WCAG 1.4.10): usable at 320 CSS pixels without scrolling sideways.
REFLOW_PAGES = ("front", "search-language", "profile", "card", "verify", "verify-form", "bad-verify",
                "not-found")


def test_pages_reflow_at_320_css_pixels(browser, live_server, paths):
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    too_wide = {}
    for lang in LANGUAGES:
        for name in REFLOW_PAGES:
            page.goto(live_server + with_lang(paths[name], lang))
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 320:
                too_wide[f"{name} ({lang})"] = width
    context.close()
    assert not too_wide, f"pages wider than the 320 px viewport: {too_wide}"


def test_skip_link_is_first_and_moves_focus_to_main(browser, live_server):
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/register?lang=en")
    page.keyboard.press("Tab")
    skip = page.locator("a.ds-skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    box = skip.bounding_box()
    assert box and box["width"] > 10 and box["height"] > 10, "the focused skip link is not visible"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    context.close()
