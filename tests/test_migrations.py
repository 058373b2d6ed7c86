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
