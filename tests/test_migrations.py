"""The Alembic migrations build exactly the models' schema, on SQLite and PostgreSQL alike."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from registry.extensions import db
from tests.conftest import make_app


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


def test_bookings_keep_room_for_updates_in_place_on_postgresql(migrated_app):
    """Flagging a booking changes no indexed column; with room on its page PostgreSQL writes none of the indexes.
    The setting is PostgreSQL's own: on SQLite the migration leaves the table as it was."""
    with migrated_app.app_context():
        if db.engine.dialect.name == "postgresql":
            options = db.session.scalar(sa.text("SELECT reloptions FROM pg_class WHERE relname = 'bookings'"))
            assert "fillfactor=85" in options
        else:
            ddl = db.session.scalar(sa.text("SELECT sql FROM sqlite_master WHERE name = 'bookings'"))
            assert ddl.startswith("CREATE TABLE bookings") and "fillfactor" not in ddl
