"""Creating interpreters and recording their credentials; categories follow every change."""

from datetime import date

import sqlalchemy as sa

from ..models import Counter, Credential, Interpreter
from . import qualification
from .register import name_key

REGISTER_NUMBER = "register_number"


def next_register_number(session) -> int:
    """Take the next register number; the counter only goes up, so no number is ever reused."""
    return session.execute(
        sa.update(Counter).where(Counter.name == REGISTER_NUMBER)
        .values(value=Counter.value + 1).returning(Counter.value)
    ).scalar_one()


def create_interpreter(session, **fields) -> Interpreter:
    interpreter = Interpreter(register_number=next_register_number(session), **fields)
    interpreter.name_key = name_key(interpreter.name)
    session.add(interpreter)
    session.flush()
    return interpreter


def add_credential(session, interpreter: Interpreter, type: str, language_code: str | None,
                   issued_on: date, today: date, state: str = "verified",
                   valid_until: date | None = None, **fields) -> Credential:
    """Record a credential and bring the interpreter's categories up to date at once."""
    credential = Credential(interpreter_id=interpreter.id, type=type, language_code=language_code,
                            issued_on=issued_on, valid_until=valid_until, state=state, **fields)
    session.add(credential)
    session.flush()
    qualification.recompute(session, [interpreter.id], today)
    return credential
