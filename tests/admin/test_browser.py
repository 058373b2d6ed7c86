"""The admin console in real Chromium on the demo register: every page passes axe-core (WCAG 2.1 A/AA) with no
Content-Security-Policy violation, in bokmål and English; the import works with JavaScript (progress bar) and
without it."""

import re
from io import BytesIO
from urllib.parse import urlsplit

import pyotp
import pytest
import sqlalchemy as sa

from registry.database import writing
from registry.domain import accounts, applications, evidence
from registry.extensions import db
from registry.models import Credential, Interpreter
from tests.admin.conftest import PDF
from tests.browser.fixtures import ConsoleWatch, assert_accessible
from tests.helpers import totp_code

pytestmark = pytest.mark.browser
PASSWORD = "a long enough admin password"


@pytest.fixture(scope="module")
def console(live_app, tmp_path_factory):
    """A registry admin with two-factor login, an application with evidence, public bodies, and what the pages
    need."""
    folder = tmp_path_factory.mktemp("admin-browser")
    live_app.config.update(EVIDENCE_DIR=str(folder / "evidence"), IMPORT_DIR=str(folder / "imports"))
    with live_app.app_context(), writing():
        session = db.session
        admin = accounts.create_user(session, "ada@imdi.example", "Ada Admin", "registry_admin")
        accounts.set_password(admin, PASSWORD, "CHEAPEST")
        admin.totp_secret, admin.totp_enabled = pyotp.random_base32(), True
        claim = applications.CredentialClaim("bilingual_test", "so", "2026-06-01",
                                             upload=evidence.Upload(BytesIO(PDF), "test.pdf"), prefix="lang1_")
        tao = applications.CredentialClaim("tao", None, "2026-05-01", upload=evidence.Upload(BytesIO(PDF), "tao.pdf"),
                                           prefix="tao_")
        applicant = applications.Applicant("Amal Ahmed", "amal@example.no", "+47 91234567", "female", "03", None,
                                           "1990-05-17")
        from registry.domain.clock import oslo_date

        application = applications.submit_application(
            session, applicant, [claim], tao, today=oslo_date(), evidence_dir=live_app.config["EVIDENCE_DIR"],
            max_bytes=10 ** 7)
        pending = session.scalar(sa.select(Credential).where(Credential.state == "pending",
                                                             Credential.interpreter_id != application.interpreter_id))
        someone = session.scalar(sa.select(Interpreter).where(Interpreter.status == "active")
                                 .order_by(Interpreter.register_number))
        for orgnr, name in (("974760673", "Ålesund kommune"), ("990993122", "Sykehuset Østfold HF"),
                            ("966240423", "NAV Grünerløkka")):  # the list of public bodies, its search and pages
            accounts.create_agency(session, orgnr, name, "municipal", "15")
        session.commit()
        return {"secret": admin.totp_secret, "application": application.id, "credential": pending.id,
                "number": someone.register_number, "admin": admin.id}


@pytest.fixture(scope="module")
def admin_page(browser, live_server, console):
    context = browser.new_context(locale="nb-NO")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server + "/login?lang=en")
    page.fill("#email", "ada@imdi.example")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("#code", totp_code(console["secret"]))
    page.click("main button[type=submit]")
    assert "/login" not in page.url, page.content()[:2000]
    yield page, ConsoleWatch(page)
    context.close()


PAGES = [
    ("queue", "/admin/queue", 200),
    ("application", "/admin/queue/applications/{application}", 200),
    ("credential", "/admin/queue/credentials/{credential}", 200),
    ("interpreters", "/admin/interpreters?q=a", 200),
    ("record", "/admin/interpreters/{number}", 200),
    ("edit", "/admin/interpreters/{number}/edit", 200),
    ("sanctions", "/admin/sanctions", 200),
    ("imports", "/admin/imports", 200),
    ("statistics", "/admin/statistics", 200),
    ("statistics-bad", "/admin/statistics?start=2027-13-01", 400),
    ("credential-types", "/admin/credential-types", 200),
    ("agencies", "/admin/agencies", 200),
    ("agencies-search", "/admin/agencies?q=%C3%98STFOLD&status=active", 200),
    ("agencies-none", "/admin/agencies?q=Troms%C3%B8", 200),
    ("agencies-bad-link", "/admin/agencies?cursor=x", 400),
    ("audit", "/admin/audit", 200),
    ("audit-person", "/admin/audit?actor_id={admin}", 200),
    ("audit-bad-link", "/admin/audit?actor_id=x", 400),
    ("queue-bad-link", "/admin/queue?credentials=x", 400),
]


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize(("name", "path", "status"), PAGES, ids=[p[0] for p in PAGES])
def test_admin_page_is_accessible(admin_page, live_server, console, name, path, status, lang):
    page, watch = admin_page
    response = page.goto(live_server + path.format(**console) + ("&" if "?" in path else "?") + f"lang={lang}")
    assert response.status == status, name
    assert page.locator("h1").count() == 1
    assert_accessible(page)
    assert not watch.take_csp_violations(), name


PAGED = [
    # (list, its first page, the parameter its "Next page" link sets)
    ("queue", "/admin/queue", "credentials="),  # the credentials' list; the one application fits on one page
    ("agencies", "/admin/agencies?q=e", "cursor="),
    ("interpreters", "/admin/interpreters?status=active", "cursor="),
    ("sanctions", "/admin/sanctions", "cursor="),  # the demo's suspensions in force
]


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize(("name", "path", "param"), PAGED, ids=[p[0] for p in PAGED])
def test_a_list_in_pages_is_accessible(admin_page, live_app, live_server, name, path, param, lang):
    """A list a page at a time, with its labelled navigation, and its second page, which keeps the search."""
    page, watch = admin_page
    saved, live_app.config["PAGE_SIZE"] = live_app.config["PAGE_SIZE"], 1
    try:
        page.goto(live_server + path + ("&" if "?" in path else "?") + f"lang={lang}")
        assert page.locator("nav.pager").count() == 1 and page.locator("nav.pager a").count() == 1, name
        assert_accessible(page)
        page.locator("nav.pager a[rel=next]").click()
        assert param in page.url and urlsplit(path).query in page.url
        assert page.locator("nav.pager a:not([rel=next])").count() == 1  # back to the first page
        assert_accessible(page)
        assert not watch.take_csp_violations()
    finally:
        live_app.config["PAGE_SIZE"] = saved


def test_a_form_with_errors_is_accessible(admin_page, live_server, console):
    page, watch = admin_page
    page.goto(live_server + f"/admin/interpreters/{console['number']}?lang=en")
    page.fill("#sanction-reason", "")
    page.click("form[action$='/sanctions'] button[type=submit]")
    assert "Choose what is recorded" in page.content()
    assert_accessible(page)
    assert not watch.take_csp_violations()


CSV = "register_number,name,birth_date,type,language,date,valid_until\n{number},,,bilingual_test,ti,2026-01-15,\n"


@pytest.mark.parametrize("javascript", [True, False])
def test_the_import_works_with_and_without_javascript(browser, live_server, console, tmp_path, javascript):
    context = browser.new_context(java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = ConsoleWatch(page)
    page.goto(live_server + "/login?lang=en")
    page.fill("#email", "ada@imdi.example")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.fill("#code", totp_code(console["secret"]))
    page.click("main button[type=submit]")
    language = "ti" if javascript else "uk"
    file = tmp_path / "results.csv"
    file.write_text(CSV.format(number=console["number"]).replace(",ti,", f",{language},"))
    page.goto(live_server + "/admin/imports?lang=en")
    page.set_input_files("#file", str(file))
    page.click("form[data-upload-progress] button[type=submit]")
    page.wait_for_url("**/admin/imports/*")
    assert "No errors" in page.content()
    if javascript:  # axe-core runs in the page
        assert_accessible(page)
    page.click("form[data-busy-progress] button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/imports$"))
    assert "results.csv is imported" in page.content()
    assert not watch.take_csp_violations()
    context.close()
