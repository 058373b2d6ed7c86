"""Browser fixtures, a pytest plugin loaded by tests/conftest.py: the app with the demo register on a live
server, Debian's Chromium, and axe-core.

The server and the browser are built once per session. Chromium is never downloaded: the tests use
/usr/bin/chromium (apt-get install chromium), skip without it, and fail without it in CI.
"""

import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from registry import demo
from registry.database import writing
from registry.domain.clock import oslo_date
from registry.extensions import db
from registry.models import Interpreter, Qualification
from registry.models.interpreter import LISTED_STATUSES
from tests.conftest import _require, make_app

CHROMIUM = "/usr/bin/chromium"
# The machine has no internet: these stop Chromium reaching out (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# WCAG 2.1 level A and AA: what Norwegian law (likestillings- og diskrimineringsloven) requires.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app on a fresh SQLite file, migrated and filled with the demo register."""
    url = "sqlite:///" + str(tmp_path_factory.mktemp("browser-db") / "registry.sqlite3")
    app = make_app(url)
    with app.app_context():
        upgrade()
        with writing():
            demo.load(db.session, oslo_date())
            db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


class QuietRequestHandler(WSGIRequestHandler):
    """No access log line per request (errors are still logged)."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the app served by Werkzeug on 127.0.0.1 and a free port, in a daemon thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@dataclass(frozen=True)
class Numbers:
    """Register numbers from the demo register that the page table needs."""

    listed: int  # listed, qualified in Arabic, contact details published
    other_language: str  # a language `listed` is not qualified in
    suspended: int  # not listed; verifies as not qualified


@pytest.fixture(scope="session")
def numbers(live_app) -> Numbers:
    with live_app.app_context():
        listed = db.session.scalars(
            sa.select(Interpreter)
            .join(Qualification, Qualification.interpreter_id == Interpreter.id)
            .where(
                Qualification.language_code == "ar",
                Interpreter.status == "active",
                Interpreter.publish_contact.is_(True),
            )
            .order_by(Interpreter.register_number)
        ).first()
        assert listed is not None and listed.status in LISTED_STATUSES, "no listed Arabic interpreter"
        held = {q.language_code for q in listed.qualifications}
        other = next(code for code in ("pl", "so", "ti", "uk", "ru") if code not in held)
        suspended = db.session.scalar(
            sa.select(Interpreter.register_number)
            .where(Interpreter.status == "suspended")
            .order_by(Interpreter.register_number)
        )
        assert suspended is not None, "the demo register has no suspended interpreter"
        return Numbers(listed.register_number, other, suspended)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _require("Browser tests", "install Chromium: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class ConsoleWatch:
    """Collects a page's console errors; CSP violations are the ones the tests fail on."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def csp_violations(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Content-Security-Policy" in e]

    def take_csp_violations(self) -> list[str]:
        """The CSP violations seen since the last call; forgets every error seen so far."""
        violations = self.csp_violations()
        self.errors = []
        return violations


def _axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def violation_report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']}  [{v.get('helpUrl', '')}]")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    at {target}: {summary}")
    return "\n".join(lines)


def assert_accessible(page) -> None:
    """Run axe-core (WCAG 2.1 A and AA) on the page; fail listing every violation."""
    results = _axe().run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    if violations:
        raise AssertionError(
            f"{len(violations)} accessibility violation(s) on {page.url}:\n{violation_report(violations)}"
        )
