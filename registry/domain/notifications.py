"""Notifications go to the outbox in the same transaction as the change that causes them.

A job delivers them (over SMTP, with retries); until then, and in development, they are logged.
Each message is rendered in the recipient's language from templates/email/<kind>.txt, whose first
line is the subject.
"""

import logging

import sqlalchemy as sa
from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite

from ..models import OutboxMessage

log = logging.getLogger("registry.outbox")


def enqueue(session, kind: str, recipient: str, *, event_key: str, locale: str | None = "nb",
            user_id: int | None = None, **params) -> OutboxMessage | None:
    """Queue one message for an event; the same event_key again queues nothing (returns None)."""
    exists = session.scalar(sa.select(OutboxMessage.id).where(OutboxMessage.event_key == event_key))
    if exists:
        return None
    message = OutboxMessage(event_key=event_key, kind=kind, recipient=recipient, user_id=user_id,
                            locale=locale or "nb", params=params)
    session.add(message)
    session.flush()
    if has_app_context() and current_app.config.get("MAIL_LOG_ON_QUEUE"):
        log_message(message)
    return message


def enqueue_many(session, messages: list[dict]) -> int:
    """Queue many messages in a few statements; each dict holds enqueue's arguments (kind, recipient, event_key,
    locale, user_id and the params). As with enqueue, an event already queued is not queued again. Returns how
    many were queued."""
    rows = {}
    for m in messages:
        m = dict(m)
        key = m.pop("event_key")
        rows.setdefault(key, dict(event_key=key, kind=m.pop("kind"), recipient=m.pop("recipient"),
                                  locale=m.pop("locale", None) or "nb", user_id=m.pop("user_id", None), params=m))
    keys = list(rows)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    queued = 0
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        known = set(session.scalars(sa.select(OutboxMessage.event_key).where(OutboxMessage.event_key.in_(chunk))))
        new = [rows[k] for k in chunk if k not in known]
        if new:
            # ON CONFLICT: a message another transaction queued meanwhile is skipped, as enqueue would.
            session.execute(insert(OutboxMessage).on_conflict_do_nothing(index_elements=["event_key"]), new)
            queued += len(new)
    if has_app_context() and current_app.config.get("MAIL_LOG_ON_QUEUE"):
        for row in rows.values():
            log_message(OutboxMessage(**row))
    return queued


def render(message: OutboxMessage) -> tuple[str, str]:
    """Subject and plain-text body in the recipient's language."""
    with force_locale(message.locale):
        text = render_template(f"email/{message.kind}.txt", **message.params)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def log_message(message: OutboxMessage) -> None:
    """Development delivery: the message in the log."""
    subject, body = render(message)
    log.info("Mail to %s: %s\n%s", message.recipient, subject, body)
