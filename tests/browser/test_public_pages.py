"""Every public page, in bokmål, nynorsk and English, in real Chromium: right status, right
<html lang>, one <h1>, no axe-core violations of WCAG 2.1 A/AA, and no Content-Security-Policy
violations. Plus search without JavaScript and the language switcher.
"""

import re
import urllib.request
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.conftest import ConsoleWatch, assert_accessible

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


@pytest.fixture(scope="module", params=LANGUAGES)
def tab(request, browser):
    """One context and one page per UI language, reused for every page in that language."""
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.lang = request.param
    page.console = ConsoleWatch(page)
    yield page
    context.close()


@pytest.mark.parametrize(("name", "status"), [(name, status) for name, _, status in PUBLIC_PAGES],
                         ids=[name for name, _, _ in PUBLIC_PAGES])
def test_public_page_is_accessible(tab, live_server, paths, name, status):
    lang = tab.lang
    response = tab.goto(live_server + with_lang(paths[name], lang))
    assert response is not None and response.status == status, f"{name}: status {response and response.status}"
    assert tab.get_attribute("html", "lang") == lang
    headings = tab.locator("h1")
    assert headings.count() == 1, f"{name}: expected one <h1>, found {headings.count()}"
    assert headings.inner_text().strip()
    assert_accessible(tab)
    errors = tab.console.take()
    csp = [e for e in errors if "Content Security Policy" in e or "Content-Security-Policy" in e]
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


def test_language_switcher_keeps_the_page(browser, live_server, numbers):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    path = "/register?language=ar&min_category=C"
    page.goto(live_server + with_lang(path, "nb"))
    assert page.get_attribute("html", "lang") == "nb"
    for lang in ("en", "nn", "nb"):
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
    # The choice is remembered for the visit: a link without ?lang= stays in bokmål.
    page.goto(live_server + f"/register/{numbers.listed}")
    assert page.get_attribute("html", "lang") == "nb"
    context.close()
