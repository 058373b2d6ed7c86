"""Read requests end with COMMIT (so PostgreSQL keeps its prepared statements, registry/database.py), but a
read never keeps a change: one left pending, or one already flushed by a query, is rolled back as before."""

import sqlalchemy as sa

from registry.access import public
from registry.extensions import db
from registry.models import Language
from tests.conftest import make_app


def test_a_read_request_keeps_no_change_whether_pending_or_flushed(migrated_app, database_url, session):
    app = make_app(database_url)

    @app.get("/probe/<how>")
    @public
    def probe(how):
        db.session.add(Language(code=f"x-{how}"))
        if how == "flushed":
            db.session.scalar(sa.select(sa.func.count()).select_from(Language))  # autoflush writes the row
        return "read"

    client = app.test_client()
    assert client.get("/probe/pending").text == "read"
    assert client.get("/probe/flushed").text == "read"
    session.rollback()
    assert session.scalars(sa.select(Language.code).where(Language.code.like("x-%"))).all() == []
    with app.app_context():
        db.engine.dispose()
