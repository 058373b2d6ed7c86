"""The public register: search, profiles and card verification (DESIGN.md, "Public register")."""

import functools
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import lazy_gettext as _l

from ..models import Credential, Interpreter, Qualification
from ..models.interpreter import GENDERS, LISTED_STATUSES, MODALITIES
from . import notifications
from .errors import BadPageLink, InvalidInput, NotFound
from .languages import is_language
from .places import is_county
from .qualification import CATEGORY_RANK, derive_categories
from .typed import INTEGER_DIGITS, whole_number


def as_register_number(text: str | None) -> int | None:
    """The register number `text` writes (decimal digits only, at most nine: its column is a 32-bit integer), or
    None."""
    return whole_number(text, INTEGER_DIGITS)


NOT_A_NUMBER = _l("A register number is written with digits only, such as 1234.")


def check_language(session, code: str) -> str:
    """The code of a language the register knows, or InvalidInput."""
    if not is_language(code):
        raise InvalidInput(_l("Unknown language code: %(code)s", code=code[:12]), "language")
    return code


@dataclass(frozen=True)
class Filters:
    language: str | None = None
    min_category: str | None = None
    county: str | None = None
    gender: str | None = None
    modality: str | None = None
    q: str | None = None


def parse_filters(session, args) -> Filters:
    """Check search parameters from a form or the API; a bad one raises InvalidInput naming it."""
    def value(name):
        raw = (args.get(name) or "").strip()
        return raw or None

    filters = Filters(**{name: value(name) for name in Filters.__dataclass_fields__})
    if filters.language:
        check_language(session, filters.language)
    if filters.min_category and filters.min_category not in CATEGORY_RANK:
        raise InvalidInput(_l("The category must be one of A, B, C, D and E."), "min_category")
    if filters.county and not is_county(filters.county):
        raise InvalidInput(_l("Unknown county number: %(number)s", number=filters.county), "county")
    if filters.gender and filters.gender not in GENDERS:
        raise InvalidInput(_l("Unknown gender."), "gender")
    if filters.modality and filters.modality not in MODALITIES:
        raise InvalidInput(_l("The modality must be on site, video or phone."), "modality")
    if filters.q and len(filters.q) > 100:
        raise InvalidInput(_l("The search text can be at most 100 characters."), "q")
    return filters


NAME_KEY_MAX = 200  # the length of the name_key columns of interpreters, qualifications and agencies


def name_key(name: str) -> str:
    """The form of a name used for search and ordering: case-folded, spaces collapsed, and cut to the length its
    columns hold. Folding lengthens some letters ("ß" is "ss"), so a name of the longest length allowed (200) can
    fold longer, which PostgreSQL refused with a 500. Cut the same way wherever it is made, a stored key and the
    key of what is searched for still match."""
    return " ".join(name.casefold().split())[:NAME_KEY_MAX]


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def name_contains(column, text: str) -> sa.ColumnElement[bool]:
    """`column`, a name_key, holds `text` anywhere, in any case (the key is folded in Python: SQLite's lower() and
    LIKE fold ASCII only); a % or _ in `text` is that character, not a wildcard."""
    return column.like(_like_pattern(name_key(text)), escape="\\")


def name_or_number(text: str) -> sa.ColumnElement[bool]:
    """An interpreter whose name holds `text`, or whose register number it is: the public register's search and the
    administrators' list alike."""
    by_name = name_contains(Interpreter.name_key, text)
    number = as_register_number(text)
    return sa.or_(Interpreter.register_number == number, by_name) if number is not None else by_name


def _filtered(stmt, filters: Filters):
    stmt = stmt.where(Interpreter.status.in_(LISTED_STATUSES))
    if filters.county:
        stmt = stmt.where(Interpreter.county_number == filters.county)
    if filters.gender:
        stmt = stmt.where(Interpreter.gender == filters.gender)
    if filters.modality:
        stmt = stmt.where(getattr(Interpreter, f"offers_{filters.modality}").is_(True))
    if filters.q:
        stmt = stmt.where(name_or_number(filters.q))
    return stmt


def search(
    session, filters: Filters, after: tuple | None, limit: int
) -> tuple[list[Interpreter], tuple | None]:
    """One page of listed interpreters and the key to continue after it (None on the last page).

    With a language, the highest category comes first, then name; without, by name. Paged with a
    keyset, so page 200 costs what page 1 costs.
    """
    max_rank = CATEGORY_RANK[filters.min_category] if filters.min_category else 5
    if filters.language:
        # The qualification's copies of the name and county (migration 0010) are in its indexes in this order, so
        # the database reads the holders as listed and stops when the page is full, however deep the page.
        stmt = (
            sa.select(Interpreter, Qualification.rank)
            .join(Qualification, Qualification.interpreter_id == Interpreter.id)
            .where(Qualification.language_code == filters.language, Qualification.rank <= max_rank)
        )
        if filters.county:
            stmt = stmt.where(Qualification.county_number == filters.county)
        order = (Qualification.rank, Qualification.name_key, Qualification.interpreter_id)
    else:
        has_category = (
            sa.select(Qualification.interpreter_id)
            .where(Qualification.interpreter_id == Interpreter.id, Qualification.rank <= max_rank)
            .exists()
        )
        stmt = sa.select(Interpreter, sa.literal(0)).where(has_category)
        order = (Interpreter.name_key, Interpreter.id)
    stmt = _filtered(stmt, filters)
    if after is not None:
        if len(after) != len(order):
            raise BadPageLink()
        stmt = stmt.where(sa.tuple_(*order) > sa.tuple_(*after))
    stmt = stmt.order_by(*order).limit(limit + 1).options(so.selectinload(Interpreter.qualifications))
    rows = session.execute(stmt).all()
    page = [interpreter for interpreter, _ in rows[:limit]]
    if len(rows) <= limit:
        return page, None
    last, rank = rows[limit - 1]
    key = (rank, last.name_key, last.id) if filters.language else (last.name_key, last.id)
    return page, key


# Looked up on every booking and register entry, so each statement is built once (functools.cache) and run with
# the number as a parameter: building a SELECT again, with its loader options, and working out its cache key cost
# as much CPU as running it.
NUMBER = sa.bindparam("number", type_=Interpreter.register_number.type)


@functools.cache
def _by_number() -> sa.Select:
    return sa.select(Interpreter).where(Interpreter.register_number == NUMBER)


@functools.cache
def _listed_by_number() -> sa.Select:
    # The languages in the same query (a join, not a second SELECT): one round trip instead of two; 3.2 against 2.1
    # ms a request on the PostgreSQL bench data.
    return _by_number().options(so.joinedload(Interpreter.qualifications))


def by_number(session, register_number: int) -> Interpreter | None:
    """Any interpreter by register number, whatever their status; None if no one has it."""
    return session.scalar(_by_number(), {"number": register_number})


@functools.cache
def _by_number_with_contact() -> sa.Select:
    return notifications.with_login(_by_number())


def by_number_with_contact(session, register_number: int) -> tuple[Interpreter | None, notifications.Contact | None]:
    """The interpreter (by_number) and where their mail goes, in one query: a direct request tells the interpreter
    it books, and asking for the contact apart was one more round trip on every booking."""
    row = session.execute(_by_number_with_contact(), {"number": register_number}).first()
    if row is None:
        return None, None
    interpreter, *login = row
    return interpreter, notifications.contact_from(interpreter.name, interpreter.email, *login)


def listed_interpreter(session, register_number: int) -> Interpreter:
    """An interpreter as the public register shows them; NotFound if not listed."""
    interpreter = session.scalars(_listed_by_number(), {"number": register_number}).unique().first()
    if interpreter is None or not interpreter.listed:
        raise NotFound(_l("There is no interpreter with register number %(number)s in the register.",
                          number=register_number))
    return interpreter


@dataclass(frozen=True)
class Verification:
    register_number: int
    name: str
    qualified: bool
    categories: dict[str, str]
    as_of: date


def verify(session, register_number: int, on: date) -> Verification:
    """Whether the holder of a card is a qualified interpreter on `on`, and in which languages.

    Computed from the credentials valid that day, not from stored categories, so a card is never
    shown as valid on the day after its credential ran out, even before the nightly job has run.
    """
    interpreter = by_number(session, register_number)
    if interpreter is None:
        raise NotFound(_l("No interpreter has ever had register number %(number)s.", number=register_number))
    categories = {}
    if interpreter.status in LISTED_STATUSES:
        credentials = session.scalars(sa.select(Credential).where(
            Credential.interpreter_id == interpreter.id, Credential.state == "verified"
        ))
        categories = derive_categories(credentials, on)
    return Verification(register_number, interpreter.name, bool(categories), categories, on)
