"""Notifications go to the outbox in the same transaction as the change that causes them.

A job delivers them (over SMTP, with retries); until then, and in development, they are logged.
Each message is rendered in the recipient's language from templates/email/<kind>.txt, whose first
line is the subject.
"""

import functools
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_app_context, render_template
from flask_babel import force_locale
from sqlalchemy.dialects import postgresql, sqlite

from ..database import among, among_bound, batches
from ..models import Interpreter, OutboxMessage, User

log = logging.getLogger("registry.outbox")


@dataclass(frozen=True)
class Contact:
    """Where an interpreter's mail goes: their login's address and language, else the register's address."""

    email: str
    locale: str | None
    user_id: int | None
    name: str


def contact_from(name: str, own_email: str | None, user_id: int | None, login_email: str | None,
                 locale: str | None) -> Contact | None:
    """The contact from an interpreter's name and address and their login's columns (with_login); None when
    there is no address at all."""
    email = login_email or own_email
    return Contact(email, locale, user_id, name) if email else None


def with_login(stmt: sa.Select) -> sa.Select:
    """A SELECT of interpreters, with their login's id, address and language added (None without a login)."""
    return stmt.add_columns(User.id, User.email, User.locale).outerjoin(User, User.interpreter_id == Interpreter.id)


def interpreter_contacts(session, interpreter_ids: Iterable[int]) -> dict[int, Contact]:
    """Contacts for any number of interpreters in one query (the ids as one parameter, database.among_bound);
    interpreters with no address are left out."""
    contacts: dict[int, Contact] = {}
    ids = sorted(set(interpreter_ids))
    if ids:
        for interpreter_id, name, own_email, *login in session.execute(_contacts_statement(), {"ids": ids}):
            contact = contact_from(name, own_email, *login)
            if contact is not None:
                contacts[interpreter_id] = contact
    return contacts


@functools.cache
def _contacts_statement() -> sa.Select:
    """Built once (among_bound): jobs ask it for many interpreters, sanctions and decisions for one."""
    return with_login(sa.select(Interpreter.id, Interpreter.name, Interpreter.email)).where(
        among_bound(Interpreter.id, "ids"))


def interpreter_contact(session, interpreter_id: int) -> Contact | None:
    """Where one interpreter's mail goes (interpreter_contacts); None when they have no address at all."""
    return interpreter_contacts(session, [interpreter_id]).get(interpreter_id)


def enqueue(session, kind: str, recipient: str, *, event_key: str, locale: str | None = "nb",
            user_id: int | None = None, **params) -> int | None:
    """Queue one message for an event and return its id; the same event_key again queues nothing (returns None).

    One INSERT ... ON CONFLICT DO NOTHING: no SELECT first, and a message another transaction is queueing at the
    same moment is waited for and skipped, not a unique-key error."""
    row = dict(event_key=event_key, kind=kind, recipient=recipient, user_id=user_id, locale=locale or "nb",
               params=params)
    new_id = session.scalar(_insert_new(session, returning=True), row)
    if new_id is not None and has_app_context() and current_app.config.get("MAIL_LOG_ON_QUEUE"):
        log_message(OutboxMessage(**row))
    return new_id


def _insert_new(session, returning: bool = False):
    """INSERT into the outbox ... ON CONFLICT (event_key) DO NOTHING, in the database's own dialect; with
    `returning`, RETURNING the new id."""
    return _insert_new_in(session.get_bind().dialect.name, returning)


@functools.cache
def _insert_new_in(dialect: str, returning: bool):
    # Built once: each booking queues a message, and building the INSERT again cost CPU on every one.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["event_key"])
    return stmt.returning(OutboxMessage.id) if returning else stmt


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
    queued = []
    for batch in batches(session, list(rows)):
        known = set(session.scalars(sa.select(OutboxMessage.event_key)
                                    .where(among(session, OutboxMessage.event_key, batch))))
        new = [rows[k] for k in batch if k not in known]
        if new:
            # ON CONFLICT: a message another transaction queued meanwhile is skipped, as enqueue would.
            session.execute(_insert_new(session), new)
            queued += new
    if has_app_context() and current_app.config.get("MAIL_LOG_ON_QUEUE"):
        for row in queued:
            log_message(OutboxMessage(**row))
    return len(queued)


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
