"""Credential types and their default validity, which the registry administrators set.

A new credential without its own `valid_until` gets the type's default (years after its date of issue) when
it is approved, recorded or imported; none means no end. Changing a default touches no credential already
in the register.
"""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..models import CredentialType, User
from ..models.credential import CREDENTIAL_TYPES
from . import audit
from .errors import InvalidInput, NotFound
from .typed import whole_number

MAX_YEARS = 50


def all_types(session) -> list[CredentialType]:
    """Every type, in the order of DESIGN.md's table."""
    found = {t.code: t for t in session.scalars(sa.select(CredentialType))}
    return [found[code] for code in CREDENTIAL_TYPES if code in found]


def check_years(value, field: str = "years") -> int | None:
    """Empty: no default validity; else a whole number of years from 1 to 50."""
    text = str(value if value is not None else "").strip()
    if not text:
        return None
    years = whole_number(text, 3)
    if years is None or not 1 <= years <= MAX_YEARS:
        raise InvalidInput(_l("Enter a whole number of years from 1 to %(max)s, or leave it empty for no end.",
                              max=MAX_YEARS), field)
    return years


def set_default_validity(session, actor: User, code: str, value, ip: str | None = None) -> bool:
    """Set a type's default validity in years (or none); True when it changed."""
    kind = session.get(CredentialType, code) if code in CREDENTIAL_TYPES else None
    if kind is None:
        raise NotFound(_l("There is no such credential type."))
    years = check_years(value)
    if kind.default_validity_years == years:
        return False
    before = kind.default_validity_years
    kind.default_validity_years = years
    session.flush()
    audit.record(session, "credential_type.changed", actor=actor, object_type="credential_type", object_id=code,
                 ip=ip, before={"default_validity_years": before}, after={"default_validity_years": years})
    return True
