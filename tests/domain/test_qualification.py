"""Category derivation: every row of DESIGN.md's table, combinations, states and the boundary day."""

from datetime import date

import pytest
import sqlalchemy as sa

from registry.domain.qualification import Held, at_least, derive_categories, recompute
from registry.models import Credential, Interpreter, Qualification
from tests.helpers import TODAY, interpreter

ON = date(2027, 3, 1)


def held(type, language="ar", state="verified", issued_on=date(2020, 1, 1), valid_until=None):
    return Held(type, None if type in ("tao", "police_certificate") else language, state, issued_on, valid_until)


@pytest.mark.parametrize("types, expected", [
    # One row per line of the table, each alternative on its own.
    (["authorisation", "bachelor"], "A"),
    (["bachelor"], "B"),
    (["authorisation", "basic_course"], "B"),
    (["authorisation"], "C"),
    (["basic_course"], "D"),
    (["bilingual_test", "tao"], "E"),
    (["translator", "tao"], "E"),
    # Combinations: the highest category wins.
    (["authorisation", "bachelor", "basic_course", "tao"], "A"),
    (["bachelor", "basic_course"], "B"),
    (["basic_course", "bilingual_test", "tao"], "D"),
    (["authorisation", "translator", "tao"], "C"),
    (["bachelor", "bilingual_test", "tao", "police_certificate"], "B"),
    # Not enough for any category.
    (["bilingual_test"], None),
    (["translator"], None),
    (["tao"], None),
    (["police_certificate"], None),
    (["tao", "police_certificate"], None),
    ([], None),
])
def test_category_table(types, expected):
    assert derive_categories([held(t) for t in types], ON).get("ar") == expected


@pytest.mark.parametrize("state", ["pending", "rejected", "expired", "revoked"])
def test_only_verified_credentials_count(state):
    credentials = [held("authorisation"), held("bachelor", state=state)]
    assert derive_categories(credentials, ON) == {"ar": "C"}


def test_tao_counts_for_every_language_but_languages_do_not_mix():
    credentials = [held("bilingual_test", "ar"), held("translator", "pl"), held("tao"),
                   held("authorisation", "so"), held("bachelor", "ti")]
    assert derive_categories(credentials, ON) == {"ar": "E", "pl": "E", "so": "C", "ti": "B"}
    # Authorisation in one language and a bachelor in another do not make A anywhere.
    assert derive_categories([held("authorisation", "ar"), held("bachelor", "pl")], ON) == {"ar": "C", "pl": "B"}


@pytest.mark.parametrize("valid_until, on, expected", [
    (date(2027, 3, 1), date(2027, 3, 1), "A"),   # valid through the last day
    (date(2027, 3, 1), date(2027, 3, 2), "C"),   # gone the day after: the bachelor has lapsed
    (date(2027, 2, 28), date(2027, 3, 1), "C"),
    (None, date(2040, 1, 1), "A"),
])
def test_valid_until_is_inclusive(valid_until, on, expected):
    credentials = [held("authorisation"), held("bachelor", valid_until=valid_until)]
    assert derive_categories(credentials, on)["ar"] == expected


def test_not_yet_issued_does_not_count():
    assert derive_categories([held("authorisation", issued_on=date(2027, 3, 2))], ON) == {}


def test_expired_tao_takes_e_away():
    credentials = [held("bilingual_test"), held("tao", valid_until=date(2027, 2, 1))]
    assert derive_categories(credentials, ON) == {}


@pytest.mark.parametrize("category, minimum, expected", [
    ("A", "C", True), ("C", "C", True), ("D", "C", False), (None, "E", False), ("E", "E", True),
])
def test_at_least(category, minimum, expected):
    assert at_least(category, minimum) is expected


def stored(session, person_id):
    rows = session.execute(sa.select(Qualification.language_code, Qualification.category)
                           .where(Qualification.interpreter_id == person_id))
    return dict(rows.all())


def test_recompute_stores_categories_and_follows_changes(session):
    person = interpreter(session, credentials=[("authorisation", "ar"), ("basic_course", "pl")])
    assert stored(session, person.id) == {"ar": "C", "pl": "D"}

    session.add(Credential(interpreter_id=person.id, type="bachelor", language_code="ar",
                           state="verified", issued_on=date(2021, 1, 1)))
    session.flush()
    recompute(session, [person.id], TODAY)
    assert stored(session, person.id) == {"ar": "A", "pl": "D"}

    session.execute(sa.update(Credential).where(Credential.language_code == "pl").values(state="revoked"))
    recompute(session, [person.id], TODAY)
    session.commit()
    assert stored(session, person.id) == {"ar": "A"}


def test_recompute_as_of_a_later_date_drops_what_has_run_out(session):
    person = interpreter(session, credentials=[
        ("authorisation", "ar"), ("bachelor", "ar", {"valid_until": date(2027, 3, 10)}),
    ])
    assert stored(session, person.id) == {"ar": "A"}
    recompute(session, [person.id], date(2027, 3, 10))
    assert stored(session, person.id) == {"ar": "A"}
    recompute(session, [person.id], date(2027, 3, 11))
    assert stored(session, person.id) == {"ar": "C"}


def test_recompute_of_many_interpreters_writes_only_what_changed(session):
    """Categories that stay are not written; the rest are inserted, updated or deleted in one call for all."""
    same = interpreter(session, "Sara Said", email="sara@example.no", credentials=[("authorisation", "so")])
    changed = interpreter(session, "Omar Osman", email="omar@example.no",
                          credentials=[("authorisation", "ar"), ("basic_course", "pl")])
    session.execute(sa.update(Credential).values(state="revoked")
                    .where(Credential.interpreter_id == changed.id, Credential.language_code == "pl"))
    session.add(Credential(interpreter_id=changed.id, type="bachelor", language_code="ar", state="verified",
                           issued_on=date(2021, 1, 1)))
    session.add(Credential(interpreter_id=changed.id, type="basic_course", language_code="ti", state="verified",
                           issued_on=date(2021, 1, 1)))
    session.commit()
    loaded = session.get(Interpreter, changed.id)
    assert {q.language_code: q.category for q in loaded.qualifications} == {"ar": "C", "pl": "D"}
    ids, statements = [same.id, changed.id], []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        result = recompute(session, ids, TODAY)
    finally:
        sa.event.remove(session.get_bind(), "before_cursor_execute", seen)
    assert result == {same.id: {"so": "C"}, changed.id: {"ar": "A", "ti": "D"}}
    # The interpreter already loaded sees its new categories without being loaded again for the recompute.
    assert not any(s.lstrip().upper().startswith("SELECT INTERPRETERS") for s in statements)
    assert {q.language_code: q.category for q in loaded.qualifications} == {"ar": "A", "ti": "D"}
    assert stored(session, same.id) == {"so": "C"} and stored(session, changed.id) == {"ar": "A", "ti": "D"}
    writes = [s.split()[0] for s in statements if s.split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert sorted(writes) == ["DELETE", "INSERT", "UPDATE"]
