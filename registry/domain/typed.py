"""What people type into a form, a link or an API call: the rules every way in applies to it."""

import re

from flask_babel import lazy_gettext as _l

# Characters that have no place in any value (and that PostgreSQL refuses in text): controls but tab and newlines,
# and halves of surrogate pairs.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
FORBIDDEN_MESSAGE = _l("The text contains characters that are not allowed.")


def forbidden_in(pairs) -> str | None:
    """The name of the first (name, value) pair with a forbidden character in either, or None: for every way in
    (the pages' check in registry/errors.py, the API's in api/views.py), each answering in its own form."""
    for name, value in pairs:
        if FORBIDDEN.search(name) or (isinstance(value, str) and FORBIDDEN.search(value)):
            return name
    return None


# Any number of this many digits fits a 32-bit integer column (ids, register numbers); of 18, a 64-bit one.
INTEGER_DIGITS = 9
BIGINT_DIGITS = 18
# The largest value a 32-bit integer column holds: no id or register number is larger.
MAX_ID = 2**31 - 1


def whole_number(text: str | None, digits: int) -> int | None:
    """The number `text` writes in decimal digits, at most `digits` of them (spaces around it are ignored), or
    None. The digits may be 0-9 or those of another script, as an Arabic keyboard writes them (\u0661\u0662 is 12).

    str.isdigit is not enough: it also admits digits such as "\u00b2", which int() refuses, and any length, which the
    databases' integer columns refuse. Either was a 500 where the person should have been told."""
    text = (text or "").strip()
    if 0 < len(text) <= digits and text.isdecimal():
        return int(text)
    return None
