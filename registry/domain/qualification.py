"""Qualification categories, derived from credentials and never typed in (DESIGN.md, "The register").

| A | authorisation + bachelor                         |
| B | bachelor; or authorisation + basic_course        |
| C | authorisation                                    |
| D | basic_course                                     |
| E | bilingual_test + tao; or translator + tao        |
"""

import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..database import among, among_bound, batches, expire_loaded, select_rows
from ..models import Credential, Interpreter, Qualification

CATEGORY_RANK = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}

# Highest first; the first rule whose requirements are all held gives the category.
RULES: tuple[tuple[str, frozenset[str]], ...] = (
    ("A", frozenset({"authorisation", "bachelor"})),
    ("B", frozenset({"bachelor"})),
    ("B", frozenset({"authorisation", "basic_course"})),
    ("C", frozenset({"authorisation"})),
    ("D", frozenset({"basic_course"})),
    ("E", frozenset({"bilingual_test", "tao"})),
    ("E", frozenset({"translator", "tao"})),
)
# Types that hold for every language the interpreter has.
GENERAL = frozenset({"tao", "police_certificate"})


@dataclass(frozen=True)
class Held:
    """The part of a credential that counts for categories."""

    type: str
    language_code: str | None
    state: str
    issued_on: date
    valid_until: date | None


def is_valid_on(credential, on: date) -> bool:
    """Verified, issued, and not past valid_until: valid through that whole day (Europe/Oslo)."""
    return (
        credential.state == "verified"
        and credential.issued_on <= on
        and (credential.valid_until is None or on <= credential.valid_until)
    )


def derive_categories(credentials: Iterable, on: date) -> dict[str, str]:
    """Map language code to the highest category the credentials valid on `on` satisfy."""
    valid = [c for c in credentials if is_valid_on(c, on)]
    general = {c.type for c in valid if c.type in GENERAL}
    per_language: dict[str, set[str]] = defaultdict(set)
    for c in valid:
        if c.type not in GENERAL:
            per_language[c.language_code].add(c.type)
    result = {}
    for language, types in per_language.items():
        held = types | general
        for category, required in RULES:
            if required <= held:
                result[language] = category
                break
    return result


def at_least(category: str | None, minimum: str) -> bool:
    """True when `category` is `minimum` or higher (A is highest)."""
    return category is not None and CATEGORY_RANK[category] <= CATEGORY_RANK[minimum]


def verified_credentials(session, interpreter_ids, language: str | None = None) -> dict[int, list]:
    """Each interpreter's verified credentials as rows (type, language_code, state, issued_on, valid_until), what
    derive_categories needs, for any number of interpreters in one query (ix_credentials_interpreter_state; the ids
    go as one parameter, database.among_bound).

    With a language, only what counts for that language's category: its own credentials and the general ones."""
    held: dict[int, list] = defaultdict(list)
    ids = list(interpreter_ids)
    if ids:
        values = {"ids": ids} if language is None else {"ids": ids, "language": language}
        for row in select_rows(session, _verified_statement(language is not None), values):
            held[row.interpreter_id].append(row)
    return held


@functools.cache
def _verified_statement(for_language: bool) -> sa.Select:
    """Built once (among_bound): the availability search asks it on most requests."""
    stmt = sa.select(Credential.interpreter_id, Credential.type, Credential.language_code, Credential.state,
                     Credential.issued_on, Credential.valid_until).where(
        among_bound(Credential.interpreter_id, "ids"), Credential.state == "verified")
    if for_language:
        language = sa.bindparam("language", type_=Credential.language_code.type)
        stmt = stmt.where(sa.or_(Credential.language_code == language, Credential.language_code.is_(None)))
    return stmt


# Assignments in these sectors need an interpreter holding a police certificate (politiattest) valid on the day.
# The child welfare service may ask one of everyone who does work for it (barnevernloven), and the police of the
# interpreters they use; the other sectors may book without one. DESIGN.md: "needed for some sectors".
POLICE_CERTIFICATE_SECTORS = frozenset({"child_welfare", "police"})


def needs_police_certificate(sector: str | None) -> bool:
    return sector in POLICE_CERTIFICATE_SECTORS


def police_certified(who, on):
    """SQL: the interpreter `who` (an id column or value) holds a police certificate valid on `on` (valid_on)."""
    certificate = so.aliased(Credential)
    return sa.select(certificate.id).where(certificate.interpreter_id == who,
                                           certificate.type == "police_certificate", valid_on(on, certificate)).exists()


def police_certified_on(session, interpreter_ids, on: date) -> set[int]:
    """Those of the interpreters who hold a police certificate valid on `on`, in one query (a thousand at a time on
    SQLite)."""
    return {i for batch in batches(session, sorted(set(interpreter_ids))) for i in session.scalars(
        sa.select(Interpreter.id).where(among(session, Interpreter.id, batch), police_certified(Interpreter.id, on)))}


def valid_on(on, credential=Credential):
    """SQL for is_valid_on: verified, issued, and not past valid_until. `on` is a date or a bound parameter;
    `credential` the table or an alias of it."""
    return sa.and_(credential.state == "verified", credential.issued_on <= on,
                   sa.or_(credential.valid_until.is_(None), credential.valid_until >= on))


def renewal_of(credential, on):
    """SQL: another credential of the same interpreter, type and language is valid on `on`, so the expiry of
    `credential` (the table, or an alias of it) changes no category: the types held in each language stay the
    same. The expiry job asks it of each credential it expires (`renewed`), the availability search of those
    ending before a slot."""
    other = so.aliased(Credential)
    return sa.select(other.id).where(
        other.interpreter_id == credential.interpreter_id, other.type == credential.type,
        other.language_code.is_not_distinct_from(credential.language_code), valid_on(on, other)).exists()


def renewed(session, credential_ids: list[int], on: date) -> set[int]:
    """Those of the credentials that are renewed on `on` (renewal_of), asked of the database for them all at once
    (a thousand at a time on SQLite)."""
    return {i for batch in batches(session, credential_ids) for i in session.scalars(
        sa.select(Credential.id).where(among(session, Credential.id, batch), renewal_of(Credential, on)))}


def recompute(session, interpreter_ids: Iterable[int], on: date) -> dict[int, dict[str, str]]:
    """Rewrite the stored categories of these interpreters from their credentials as of `on`.

    Returns the new categories per interpreter. Only rows that differ are written, each kind of change in
    one executemany statement, so a recompute that changes nothing writes nothing.
    """
    ids = sorted(set(interpreter_ids))
    new: dict[int, dict[str, str]] = {}
    gone, changed, added = [], [], []
    for batch in batches(session, ids, 500):
        held = verified_credentials(session, batch)
        old: dict[int, dict[str, str]] = defaultdict(dict)
        for interpreter_id, language, category in session.execute(
                sa.select(Qualification.interpreter_id, Qualification.language_code, Qualification.category)
                .where(among(session, Qualification.interpreter_id, batch))):
            old[interpreter_id][language] = category
        for i in batch:
            new[i] = derive_categories(held[i], on)
            gone += [{"i": i, "lang": lang} for lang in old[i] if lang not in new[i]]
            for lang, category in new[i].items():
                row = {"i": i, "lang": lang, "category": category, "rank": CATEGORY_RANK[category]}
                if lang not in old[i]:
                    added.append(row)
                elif old[i][lang] != category:
                    changed.append(row)
    _write(session, gone, changed, added)
    return new


def _write(session, gone: list[dict], changed: list[dict], added: list[dict]) -> None:
    table = Qualification.__table__
    key = (table.c.interpreter_id == sa.bindparam("i")) & (table.c.language_code == sa.bindparam("lang"))
    if gone:
        session.execute(table.delete().where(key), gone)
    if changed:
        session.execute(table.update().where(key).values(category=sa.bindparam("category"),
                                                        rank=sa.bindparam("rank")), changed)
    if added:
        session.execute(table.insert().values(interpreter_id=sa.bindparam("i"), language_code=sa.bindparam("lang"),
                                              category=sa.bindparam("category"), rank=sa.bindparam("rank")), added)
    expire_loaded(session, Interpreter, {row["i"] for row in gone + changed + added}, ["qualifications"])
