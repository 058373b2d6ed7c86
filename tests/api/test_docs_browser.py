"""The API documentation page in Chromium: WCAG 2.1 A/AA by axe-core, no CSP violation, in every UI language."""

import threading

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from registry.extensions import db
from tests.browser.fixtures import ConsoleWatch, QuietRequestHandler, assert_accessible
from tests.conftest import make_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    app = make_app("sqlite:///" + str(tmp_path_factory.mktemp("docs-db") / "registry.sqlite3"))
    with app.app_context():
        upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="docs-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def page(browser):
    """A page of the one shared Chromium (two Playwright instances cannot run at once in one thread)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_the_docs_page_is_accessible(page, docs_server, lang):
    console = ConsoleWatch(page)
    response = page.goto(f"{docs_server}/api/v1/docs?lang={lang}")
    assert response is not None and response.status == 200
    assert page.get_attribute("html", "lang") == lang
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    assert not console.take_csp_violations()
    # The contents link to every section, and each operation's anchor is there.
    for href in page.locator(".api-contents a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        assert page.locator(href).count() == 1, href
