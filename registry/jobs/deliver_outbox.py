"""deliver-outbox: queued notifications are sent over SMTP (REGISTRY_MAIL_* settings) in the recipient's
language, with retries and exponential back-off; in development (MAIL_BACKEND "log") they go to the log.

At most once per message, even with two deliverers: each message is claimed with a guarded UPDATE
(queued -> sending, only if still queued) that is committed before anything is sent, and no
transaction is open while the mail server is talked to. A temporary failure (a 4xx answer, a dropped
connection) puts the message back in the queue with back-off; a permanent one (5xx, a refused
recipient) or too many attempts marks it `failed`, kept with its last error for the registry admins.
When the mail server cannot be reached at all, nothing is claimed: every message stays queued and the
run is recorded as failed. A claim left by a deliverer that died (older than MAIL_CLAIM_STALE_MINUTES)
is queued again; that is the only case in which a message could go out twice, and it needs a crash
between sending and recording it.
"""

import logging
import os
import smtplib
import socket
import ssl
import uuid
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..domain import audit, notifications
from ..domain.errors import Conflict, NotFound
from ..models import OutboxMessage
from .context import Context

log = logging.getLogger("registry.outbox")


class MailServerUnavailable(Exception):
    """The mail server could not be reached or refused the login: nothing was claimed."""


class LogMailer:
    """Development delivery: each message in the log."""

    def open(self) -> None:
        pass

    def send(self, message: EmailMessage) -> None:
        log.info("Mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())

    def close(self) -> None:
        pass


class SmtpMailer:
    """One SMTP connection for a whole batch."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> None:
        c = self.config
        try:
            if c["MAIL_USE_TLS"]:
                smtp = smtplib.SMTP_SSL(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT_SECONDS"],
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT_SECONDS"])
            if c["MAIL_USE_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if c["MAIL_USERNAME"]:
                smtp.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        except (OSError, smtplib.SMTPException) as error:
            raise MailServerUnavailable(
                f"cannot use the mail server {c['MAIL_SERVER']}:{c['MAIL_PORT']}: {describe(error)}") from error
        self.smtp = smtp

    def send(self, message: EmailMessage) -> None:
        self.smtp.send_message(message)

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


def make_mailer(config):
    backend = config["MAIL_BACKEND"]
    if backend == "smtp":
        return SmtpMailer(config)
    if backend == "log":
        return LogMailer()
    raise ValueError(f"MAIL_BACKEND must be 'smtp' or 'log', not {backend!r}")


def describe(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in error.recipients.items())
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def is_permanent(error: BaseException) -> bool:
    """A 5xx answer or a refused recipient will not change by trying again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, (ValueError, UnicodeError, smtplib.SMTPNotSupportedError))


def worker_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run(ctx: Context) -> dict[str, int]:
    session, config = ctx.session, ctx.config
    counts = {"sent": 0, "retrying": 0, "failed": 0, "requeued": _release_stale(ctx), "taken_by_another": 0}
    due = session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= ctx.now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(config["MAIL_BATCH_SIZE"])).all()
    session.commit()
    if not due:
        return counts
    mailer = make_mailer(config)
    mailer.open()  # MailServerUnavailable: nothing claimed, the run is recorded as failed
    worker = worker_id()
    try:
        for message_id in due:
            message = _claim(session, message_id, worker, ctx.now)
            if message is None:
                counts["taken_by_another"] += 1
                continue
            result, stop = _deliver(mailer, message, config)
            counts[_record(session, message, worker, ctx.now, result, config)] += 1
            if stop:
                break
    finally:
        mailer.close()
    return counts


def _release_stale(ctx: Context) -> int:
    """Claims a dead deliverer left behind go back to the queue (or fail, when out of attempts)."""
    session, config = ctx.session, ctx.config
    stale = sa.and_(OutboxMessage.state == "sending",
                    OutboxMessage.claimed_at < ctx.now - timedelta(minutes=config["MAIL_CLAIM_STALE_MINUTES"]))
    values = dict(claimed_by=None, claimed_at=None, attempts=OutboxMessage.attempts + 1,
                  last_error="The delivery was interrupted before it was confirmed.")
    session.execute(sa.update(OutboxMessage).where(stale, OutboxMessage.attempts + 1 >= config["MAIL_MAX_ATTEMPTS"])
                    .values(state="failed", **values))
    requeued = session.execute(sa.update(OutboxMessage).where(stale).values(
        state="queued", next_attempt_at=ctx.now, **values)).rowcount
    session.commit()
    return requeued


class Claimed:
    """A claimed message's values, read in the claiming transaction (no ORM object outlives it)."""

    def __init__(self, row: OutboxMessage):
        self.id, self.kind, self.recipient = row.id, row.kind, row.recipient
        self.locale, self.params, self.attempts = row.locale, dict(row.params or {}), row.attempts


def _claim(session, message_id: int, worker: str, now: datetime) -> Claimed | None:
    won = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= now)
        .values(state="sending", claimed_by=worker, claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    claimed = None
    if won == 1:
        claimed = Claimed(session.execute(sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
                                          .execution_options(populate_existing=True)).scalar_one())
    session.commit()
    return claimed


def build(message: Claimed, config, now: datetime) -> EmailMessage:
    subject, body = notifications.render(message)
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = message.recipient
    mail["Date"] = format_datetime(now)
    domain = parseaddr(config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    # The same id on every attempt, so a receiving system can tell a repeat from a new message.
    mail["Message-ID"] = f"<outbox-{message.id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(body)
    mail["Content-Language"] = message.locale  # after set_content, which clears the Content-* headers
    return mail


def _deliver(mailer, message: Claimed, config) -> tuple[tuple[str, str | None], bool]:
    """("sent", None), ("retry", error) or ("fail", error); and whether to stop the batch."""
    try:
        mail = build(message, config, datetime.now().astimezone())
    except Exception as error:  # a missing template or a bad address can never be sent
        log.exception("Outbox message %s cannot be built", message.id)
        return ("fail", f"The message could not be built: {describe(error)}"), False
    try:
        mailer.send(mail)
    except smtplib.SMTPServerDisconnected as error:
        return ("retry", describe(error)), True
    except (smtplib.SMTPException, ValueError) as error:  # an answer from the server about this message
        return (("fail" if is_permanent(error) else "retry"), describe(error)), False
    except OSError as error:  # the connection broke (SMTPException is an OSError too, so it comes first)
        return ("retry", describe(error)), True
    return ("sent", None), False


def _record(session, message: Claimed, worker: str, now: datetime, result, config) -> str:
    outcome, error = result
    attempts = message.attempts + 1
    if outcome == "retry" and attempts >= config["MAIL_MAX_ATTEMPTS"]:
        outcome, error = "fail", f"{error} (gave up after {attempts} attempts)"
    values: dict = {"attempts": attempts, "claimed_by": None, "claimed_at": None}
    if outcome == "sent":
        values.update(state="sent", sent_at=now, last_error=None)
    elif outcome == "retry":
        delay = min(config["MAIL_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1), config["MAIL_RETRY_MAX_SECONDS"])
        values.update(state="queued", next_attempt_at=now + timedelta(seconds=delay), last_error=error[:2000])
    else:
        values.update(state="failed", last_error=error[:2000])
    done = session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.state == "sending", OutboxMessage.claimed_by == worker)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    session.commit()
    if done != 1:
        log.warning("Outbox message %s was taken back from this deliverer before its result was recorded", message.id)
    if outcome != "sent":
        log.warning("Outbox message %s to %s not sent (%s): %s", message.id, message.recipient, outcome, error)
    return {"sent": "sent", "retry": "retrying", "fail": "failed"}[outcome]


# For the registry admins' page ---------------------------------------------------------------------

def failed_messages(session, limit: int = 100) -> tuple[list[OutboxMessage], int]:
    """Messages that could not be delivered, newest first, and how many there are in all."""
    total = session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.state == "failed"))
    rows = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.state == "failed")
                           .order_by(OutboxMessage.id.desc()).limit(limit)).all()
    return rows, total


def retry(session, message_id: int, now: datetime, *, actor, ip: str | None = None) -> OutboxMessage:
    """A registry admin sends a failed message again (after the cause is mended): queued, with fresh attempts."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(_l("There is no message %(id)s.", id=message_id))
    done = session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.state == "failed")
        .values(state="queued", attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        raise Conflict(_l("The message is no longer waiting as failed; reload the page."))
    audit.record(session, "outbox.retried", actor=actor, object_type="outbox", object_id=message_id, ip=ip,
                 after={"kind": message.kind, "last_error": message.last_error})
    session.refresh(message)
    return message
