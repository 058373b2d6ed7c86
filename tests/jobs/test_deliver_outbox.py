"""deliver-outbox against a real SMTP server (aiosmtpd on 127.0.0.1): each message once, in the recipient's
language; kept queued while the server is down; refused recipients failed, kept and shown."""

import email
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from registry.domain import notifications
from registry.extensions import db
from registry.models import OutboxMessage
from tests.jobs.conftest import run_direct, run_job

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class Mailbox:
    """The SMTP server's side: what arrived; recipients to refuse for good (5xx) or for now (4xx)."""

    def __init__(self):
        self.received: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()
        self.later: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        if address in self.later:
            return "451 4.3.2 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def subjects(self) -> list[tuple[str, str]]:
        return sorted((m["To"], m["Subject"]) for m in self.received)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self):
        self.mailbox, self.port, self.controller = Mailbox(), free_port(), None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        self.controller.stop()
        self.controller = None


@pytest.fixture
def smtp(app):
    server = Server()
    server.start()
    keys = ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT", "MAIL_TIMEOUT_SECONDS")
    saved = {k: app.config[k] for k in keys}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port, MAIL_TIMEOUT_SECONDS=5)
    yield server
    if server.controller:
        server.stop()
    app.config.update(saved)


SUBJECT = {"nb": "Vi har mottatt søknaden din til Tolkeregisteret",
           "nn": "Vi har fått søknaden din til Tolkeregisteret",
           "en": "We have received your application to the Interpreter Register"}


def queue(session, recipient: str, locale: str, key: str) -> None:
    notifications.enqueue(session, "application_received", recipient, event_key=key, locale=locale, name="Kari",
                          reference=1234, languages=["ar"])
    session.commit()


def outbox(session) -> dict[str, OutboxMessage]:
    session.rollback()
    return {m.recipient: m for m in session.scalars(sa.select(OutboxMessage))}


def test_messages_arrive_once_in_the_recipients_language(app, session, smtp):
    queue(session, "kari@example.no", "nb", "e1")
    queue(session, "john@example.com", "en", "e2")
    queue(session, "nora@example.no", "nn", "e3")
    counts = run_direct(app, session, "deliver-outbox", NOW)
    assert (counts["sent"], counts["failed"], counts["retrying"]) == (3, 0, 0)
    assert run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=1))["sent"] == 0
    queue(session, "kari@example.no", "nb", "e1")  # the same event again queues nothing
    run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=2))

    assert len(smtp.mailbox.received) == 3
    by_recipient = {m["To"]: m for m in smtp.mailbox.received}
    assert {to: m["Subject"] for to, m in by_recipient.items()} == {
        "kari@example.no": SUBJECT["nb"], "john@example.com": SUBJECT["en"], "nora@example.no": SUBJECT["nn"]}
    assert by_recipient["kari@example.no"].get_content().startswith("Hei Kari,")
    assert "- arabisk" in by_recipient["kari@example.no"].get_content()
    assert "- Arabic" in by_recipient["john@example.com"].get_content()
    assert by_recipient["nora@example.no"]["Content-Language"] == "nn"
    assert by_recipient["kari@example.no"]["Message-ID"].startswith("<outbox-")
    sent = outbox(session)
    assert {m.state for m in sent.values()} == {"sent"} and {m.attempts for m in sent.values()} == {1}
    assert sent["kari@example.no"].sent_at == NOW


def test_two_deliverers_at_once_send_each_message_once(app, session, smtp):
    for n in range(40):
        queue(session, f"person{n}@example.no", "nb", f"event-{n}")
    barrier = threading.Barrier(2)
    results = []

    def deliverer():
        with app.app_context():
            barrier.wait()
            try:
                results.append(run_direct(app, db.session, "deliver-outbox", NOW))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliverer) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(r["sent"] for r in results) == 40
    assert sorted(m["To"] for m in smtp.mailbox.received) == sorted(f"person{n}@example.no" for n in range(40))
    assert {m.state for m in outbox(session).values()} == {"sent"}


def test_with_the_server_down_messages_stay_queued_and_go_out_when_it_returns(app, session, smtp):
    queue(session, "kari@example.no", "nb", "e1")
    queue(session, "john@example.com", "en", "e2")
    smtp.stop()
    result = run_job(session, "deliver-outbox", NOW)
    assert result.outcome == "failed" and "cannot use the mail server" in result.error
    waiting = outbox(session)
    assert {(m.state, m.attempts, m.claimed_by) for m in waiting.values()} == {("queued", 0, None)}

    smtp.start()
    assert run_job(session, "deliver-outbox", NOW + timedelta(minutes=5)).counts["sent"] == 2
    assert smtp.mailbox.subjects() == [("john@example.com", SUBJECT["en"]), ("kari@example.no", SUBJECT["nb"])]


def test_a_refused_recipient_fails_for_good_and_is_kept_with_the_error(app, session, smtp):
    smtp.mailbox.refuse.add("nobody@example.no")
    queue(session, "nobody@example.no", "nb", "e1")
    queue(session, "kari@example.no", "nb", "e2")
    counts = run_direct(app, session, "deliver-outbox", NOW)
    assert (counts["sent"], counts["failed"]) == (1, 1)
    failed = outbox(session)["nobody@example.no"]
    assert failed.state == "failed" and failed.attempts == 1
    assert "550" in failed.last_error and "No such user" in failed.last_error
    assert run_direct(app, session, "deliver-outbox", NOW + timedelta(hours=1))["failed"] == 0
    assert [m["To"] for m in smtp.mailbox.received] == ["kari@example.no"]


def test_a_temporary_refusal_is_retried_with_growing_pauses_then_given_up(app, session, smtp):
    app.config["MAIL_MAX_ATTEMPTS"], saved = 3, app.config["MAIL_MAX_ATTEMPTS"]
    try:
        smtp.mailbox.later.add("busy@example.no")
        queue(session, "busy@example.no", "en", "e1")
        assert run_direct(app, session, "deliver-outbox", NOW)["retrying"] == 1
        message = outbox(session)["busy@example.no"]
        assert (message.state, message.attempts, message.next_attempt_at) == ("queued", 1, NOW + timedelta(minutes=1))
        assert "451" in message.last_error
        # Not due yet: nothing is tried.
        assert run_direct(app, session, "deliver-outbox", NOW + timedelta(seconds=59))["retrying"] == 0
        run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=1))
        message = outbox(session)["busy@example.no"]
        assert (message.attempts, message.next_attempt_at) == (2, NOW + timedelta(minutes=3))  # 1 + 2 minutes
        run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=3))
        message = outbox(session)["busy@example.no"]
        assert (message.state, message.attempts) == ("failed", 3)
        assert "gave up after 3 attempts" in message.last_error
    finally:
        app.config["MAIL_MAX_ATTEMPTS"] = saved


def test_a_temporary_refusal_goes_out_once_the_server_accepts(app, session, smtp):
    smtp.mailbox.later.add("busy@example.no")
    queue(session, "busy@example.no", "en", "e1")
    run_direct(app, session, "deliver-outbox", NOW)
    smtp.mailbox.later.clear()
    assert run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=2))["sent"] == 1
    message = outbox(session)["busy@example.no"]
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, None)


def test_a_claim_left_by_a_deliverer_that_died_is_queued_again(app, session, smtp):
    queue(session, "kari@example.no", "nb", "e1")
    session.execute(sa.update(OutboxMessage).values(state="sending", claimed_by="dead:1", claimed_at=NOW))
    session.commit()
    assert run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=5))["sent"] == 0  # maybe still sending
    counts = run_direct(app, session, "deliver-outbox", NOW + timedelta(minutes=16))
    assert (counts["requeued"], counts["sent"]) == (1, 1)
    assert outbox(session)["kari@example.no"].attempts == 2


def test_in_development_messages_go_to_the_log(app, session, caplog):
    queue(session, "kari@example.no", "en", "e1")
    assert app.config["MAIL_BACKEND"] == "log"
    with caplog.at_level(logging.INFO, logger="registry.outbox"):
        assert run_direct(app, session, "deliver-outbox", NOW)["sent"] == 1
    assert f"Mail to kari@example.no: {SUBJECT['en']}" in caplog.text
    assert outbox(session)["kari@example.no"].state == "sent"
