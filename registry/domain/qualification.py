"""Qualification categories, derived from credentials and never typed in (DESIGN.md, "The register").

| A | authorisation + bachelor                         |
| B | bachelor; or authorisation + basic_course        |
| C | authorisation                                    |
| D | basic_course                                     |
| E | bilingual_test + tao; or translator + tao        |
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from ..database import chunks
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


def verified_credentials(session, interpreter_ids) -> dict[int, list]:
    """Each interpreter's verified credentials as rows (type, language_code, state, issued_on, valid_until), what
    derive_categories needs, for many interpreters in a few queries (ix_credentials_interpreter_state)."""
    held: dict[int, list] = defaultdict(list)
    ids = list(interpreter_ids)
    for chunk in chunks(ids, 500):
        for row in session.execute(sa.select(
                Credential.interpreter_id, Credential.type, Credential.language_code, Credential.state,
                Credential.issued_on, Credential.valid_until)
                .where(Credential.interpreter_id.in_(chunk), Credential.state == "verified")):
            held[row.interpreter_id].append(row)
    return held


def recompute(session, interpreter_ids: Iterable[int], on: date) -> dict[int, dict[str, str]]:
    """Rewrite the stored categories of these interpreters from their credentials as of `on`.

    Returns the new categories per interpreter. Only rows that differ are touched, so a recompute
    that changes nothing writes nothing.
    """
    ids = sorted(set(interpreter_ids))
    new: dict[int, dict[str, str]] = {i: {} for i in ids}
    old: dict[int, dict[str, str]] = {i: {} for i in ids}
    for chunk in chunks(ids, 500):
        rows = session.execute(
            sa.select(Credential.interpreter_id, Credential.type, Credential.language_code,
                      Credential.state, Credential.issued_on, Credential.valid_until)
            .where(Credential.interpreter_id.in_(chunk), Credential.state == "verified")
        )
        held: dict[int, list[Held]] = defaultdict(list)
        for interpreter_id, *fields in rows:
            held[interpreter_id].append(Held(*fields))
        for i in chunk:
            new[i] = derive_categories(held[i], on)
        for q in session.scalars(sa.select(Qualification).where(Qualification.interpreter_id.in_(chunk))):
            old[q.interpreter_id][q.language_code] = q.category
    for i in ids:
        _apply(session, i, old[i], new[i])
    session.flush()
    return new


def _apply(session, interpreter_id: int, old: dict[str, str], new: dict[str, str]) -> None:
    gone = [lang for lang in old if lang not in new]
    if gone:
        session.execute(sa.delete(Qualification).where(
            Qualification.interpreter_id == interpreter_id, Qualification.language_code.in_(gone)
        ))
    for lang, category in new.items():
        if old.get(lang) == category:
            continue
        if lang in old:
            session.execute(sa.update(Qualification).where(
                Qualification.interpreter_id == interpreter_id, Qualification.language_code == lang
            ).values(category=category, rank=CATEGORY_RANK[category]))
        else:
            session.execute(sa.insert(Qualification).values(
                interpreter_id=interpreter_id, language_code=lang,
                category=category, rank=CATEGORY_RANK[category],
            ))
    if gone or new != old:
        interpreter = session.get(Interpreter, interpreter_id)
        if interpreter is not None:
            session.expire(interpreter, ["qualifications"])
