"""Small helpers the jobs share: who to write to, and the booking details a message shows."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from ..models import Booking, Interpreter, User


@dataclass(frozen=True)
class Contact:
    """Where an interpreter's mail goes: their login's address and language, else the register's address."""

    email: str
    locale: str | None
    user_id: int | None
    name: str


def chunks(items: list, size: int = 1000) -> Iterator[list]:
    """Slices small enough for an IN list on both databases (SQLite allows 32,766 parameters)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def interpreter_contacts(session, interpreter_ids: Iterable[int]) -> dict[int, Contact]:
    """Contacts for many interpreters in a few queries; interpreters with no address are left out."""
    contacts: dict[int, Contact] = {}
    for chunk in chunks(sorted(set(interpreter_ids))):
        rows = session.execute(
            sa.select(Interpreter.id, Interpreter.name, Interpreter.email, User.id, User.email, User.locale)
            .outerjoin(User, User.interpreter_id == Interpreter.id)
            .where(Interpreter.id.in_(chunk)))
        for interpreter_id, name, own_email, user_id, login_email, locale in rows:
            email = login_email or own_email
            if email:
                contacts[interpreter_id] = Contact(email, locale, user_id, name)
    return contacts


def booking_params(booking: Booking) -> dict:
    """What templates/email/_booking.txt shows (the same as the booking domain's messages)."""
    return {"booking_id": booking.id, "language": booking.language_code, "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(), "modality": booking.modality,
            "agency": booking.agency.name if booking.agency else ""}
