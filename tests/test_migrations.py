"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from registry.domain import accounts
from registry.domain.languages import LANGUAGE_CODES, is_language
from registry.domain.places import county_choices, is_county, is_municipality, municipality_groups, read_municipalities
from registry.extensions import db
from tests.conftest import make_app
from tests.helpers import interpreter


def schema_differences(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def test_upgrade_from_empty_matches_the_models(migrated_app):
    with migrated_app.app_context():
        assert schema_differences(db.engine) == []


def test_reference_data_is_loaded(migrated_app):
    with migrated_app.app_context():
        count = lambda table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))  # noqa: E731
        assert count("counties") == 15
        assert count("municipalities") == 357
        assert count("languages") == 100
        assert count("credential_types") == 7
        oslo = db.session.execute(sa.text("SELECT name, county_number FROM municipalities WHERE number = '0301'"))
        assert oslo.one() == ("Oslo", "03")


def test_downgrade_to_empty_and_back(tmp_path):
    app = make_app("sqlite:///" + str(tmp_path / "roundtrip.sqlite3"))
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version"]
        upgrade()
        assert schema_differences(db.engine) == []
        db.engine.dispose()


def test_bookings_keep_room_for_updates_in_place_on_postgresql(postgres_url):
    """Flagging a booking changes no indexed column; with room on its page PostgreSQL writes none of the indexes
    (fillfactor, a PostgreSQL storage setting). Down to 0005 and up again on PostgreSQL: the setting and the
    qualifications' county triggers go and come back."""
    app = make_app(postgres_url)
    fillfactor = "SELECT reloptions FROM pg_class WHERE relname = 'bookings'"
    triggers = "SELECT count(*) FROM pg_trigger WHERE tgname IN ('qualification_county', 'interpreter_county_moves')"
    with app.app_context():
        upgrade()
        assert "fillfactor=85" in db.session.scalar(sa.text(fillfactor)) and db.session.scalar(sa.text(triggers)) == 2
        db.session.remove()
        downgrade(revision="0005")
        assert db.session.scalar(sa.text(fillfactor)) is None and db.session.scalar(sa.text(triggers)) == 0
        db.session.remove()
        upgrade()
        assert schema_differences(db.engine) == []
        db.session.remove()
        db.engine.dispose()


def test_the_checks_without_a_query_know_exactly_the_loaded_reference_data(migrated_app):
    """Languages, counties and municipalities are checked against the shipped data (no query); the tables hold
    the same, so nothing is accepted that a foreign key would refuse, and nothing refused that is there."""
    with migrated_app.app_context():
        codes = lambda sql: set(db.session.scalars(sa.text(sql)))  # noqa: E731
        languages = codes("SELECT code FROM languages")
        counties = codes("SELECT number FROM counties")
        municipalities = codes("SELECT number FROM municipalities")
    assert all(is_language(c) for c in languages) and not is_language("xx") and not is_language(None)
    assert {c for c in LANGUAGE_CODES if is_language(c)} == languages
    assert all(is_county(c) for c in counties) and not is_county("99") and not is_county("")
    assert all(is_municipality(m) for m in municipalities) and not is_municipality("0000")
    rows = read_municipalities()
    assert {r["county_number"] for r in rows} == counties and {r["municipality_number"] for r in rows} == municipalities
    # The select lists hold the same, by name in Norwegian order (Æ, Ø, Å after Z), municipalities within counties.
    assert {number for number, _ in county_choices()} == counties and county_choices()[-1] == ("31", "Østfold")
    grouped = {number for _, items in municipality_groups() for number, _ in items}
    assert grouped == municipalities
    agder = dict(municipality_groups())["Agder"]
    assert [name for _, name in agder][-2:] == ["Åmli", "Åseral"]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_upgrade_copies_each_holders_name_into_their_qualifications(kind, tmp_path, request):
    """Migration 0010 on a register that has people: the copy of each name that the register's order reads is
    filled in for the qualifications already there, and kept from then on by the triggers."""
    sqlite = "sqlite:///" + str(tmp_path / "names.sqlite3")
    app = make_app(sqlite if kind == "sqlite" else request.getfixturevalue("postgres_url"))
    copies = "SELECT q.language_code, q.name_key FROM qualifications q ORDER BY q.language_code"
    with app.app_context():
        upgrade()
        interpreter(db.session, "Åse  Ødegård", credentials=[("authorisation", "ar"), ("basic_course", "pl")])
        db.session.commit()
        downgrade(revision="0009")
        db.session.remove()
        upgrade()
        assert db.session.execute(sa.text(copies)).all() == [("ar", "åse ødegård"), ("pl", "åse ødegård")]
        db.session.execute(sa.text("UPDATE interpreters SET name_key = 'aase oedegaard'"))
        db.session.commit()
        assert {row[1] for row in db.session.execute(sa.text(copies))} == {"aase oedegaard"}
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_upgrade_folds_the_names_of_the_public_bodies_already_registered(kind, tmp_path, request):
    """Migration 0011 on a register with public bodies, their users and bookings referring to them: each body gets
    the folded copy of its name that the administrators' search and list read, and the users stay with their body
    (on SQLite the column is added in place: copying the table would drop the one they refer to)."""
    sqlite = "sqlite:///" + str(tmp_path / "agencies.sqlite3")
    app = make_app(sqlite if kind == "sqlite" else request.getfixturevalue("postgres_url"))
    keys = "SELECT orgnr, name_key FROM agencies ORDER BY orgnr"
    with app.app_context():
        upgrade()
        agency = accounts.create_agency(db.session, "974760673", "Ålesund  Kommune", "municipal")
        accounts.create_user(db.session, "booker@aalesund.no", "Booker", "booker", agency=agency)
        agency_id = agency.id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")
        db.session.remove()
        # A body registered while 0010 was the schema, without a name_key.
        db.session.execute(sa.text("INSERT INTO agencies (orgnr, name, sector, active, created_at) "
                                   "VALUES ('983971636', 'Sykehuset ØSTFOLD HF', 'health', true, '2026-11-30')"))
        db.session.commit()
        upgrade()
        assert db.session.execute(sa.text(keys)).all() == [
            ("974760673", "ålesund kommune"), ("983971636", "sykehuset østfold hf")]
        assert db.session.scalar(sa.text("SELECT agency_id FROM users WHERE email = 'booker@aalesund.no'")) == agency_id
        assert schema_differences(db.engine) == []
        db.session.remove()
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:  # NOT NULL on both
            conn.exec_driver_sql("INSERT INTO agencies (orgnr, name, sector, active, created_at, name_key) "
                                 "VALUES ('990993122', 'Nameless', 'other', true, '2026-12-01', NULL)")
        db.engine.dispose()


# What a migration may take from the app: its column types, and the reference data 0001 loads (the country's
# counties, municipalities and languages, loaded as they are).
MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations" / "versions"
TAKEN_FROM_THE_APP = {"registry.models.types", "registry.domain.languages", "registry.domain.places"}


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("*.py")), ids=lambda path: path.name[:4])
def test_a_migration_runs_its_own_sql_not_the_apps_of_today(path):
    """A migration must do the same for ever: the triggers and constraints it installs are written in it, not
    imported from the models, where a later change would change what an old migration does on a new database (and
    could install a trigger on columns a later migration adds)."""
    tree = ast.parse(path.read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert {name for name in imported if name.split(".")[0] == "registry"} <= TAKEN_FROM_THE_APP
