"""The database helpers the set-based jobs rest on behave alike on SQLite and PostgreSQL."""

from datetime import date, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so

from registry.database import (
    JSON_FROM,
    among,
    among_bound,
    batches,
    discard,
    json_object,
    listening,
    select_rows,
)
from registry.domain import audit
from registry.extensions import db
from registry.models import AuditEntry


def test_among_finds_exactly_the_values_asked_for_beyond_one_in_list(session):
    """2,500 values: one array on PostgreSQL, one JSON array on SQLite; either way exactly those rows. Many texts
    alike. A few values (an array on PostgreSQL, an IN list on SQLite) or one (=) too. Values JSON does not carry
    (dates) go to SQLite in IN lists of a thousand."""
    session.execute(sa.insert(AuditEntry), [dict(action="test.row", object_type="test", object_id=str(n))
                                            for n in range(5000)])
    ids = session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()
    wanted = ids[::2] + [10**9]  # 2,500 rows, and one id that matches no row
    assert len(wanted) == 2501
    found = [i for batch in batches(session, wanted)
             for i in session.scalars(sa.select(AuditEntry.id).where(among(session, AuditEntry.id, batch)))]
    assert sorted(found) == wanted[:-1]
    assert len(list(batches(session, wanted))) == 1
    assert list(batches(session, [])) == []
    texts = [str(n) for n in range(0, 5000, 3)] + ["nothing"]
    assert sorted(session.scalars(sa.select(AuditEntry.object_id).where(among(session, AuditEntry.object_id, texts))),
                  key=int) == texts[:-1]
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(2500)]
    assert len(list(batches(session, days))) == (1 if session.get_bind().dialect.name == "postgresql" else 3)
    for few, found in ((["7", "8", "nothing"], ["7", "8"]), (["9"], ["9"]), (["nothing"], [])):
        assert session.scalars(sa.select(AuditEntry.object_id).where(among(session, AuditEntry.object_id, few))
                               .order_by(AuditEntry.id)).all() == found


def test_among_is_one_statement_whatever_the_number_of_values(session):
    """psycopg prepares a statement once its text has run five times, so on PostgreSQL a list's length must not
    change the text. On SQLite, with no prepared statements to keep, a few values are an IN list written out, and
    from JSON_FROM on one JSON array, one statement for any number."""
    def text(count: int) -> str:
        stmt = sa.select(AuditEntry.id).where(among(session, AuditEntry.id, range(count)))
        return str(stmt.compile(session.get_bind(), compile_kwargs={"render_postcompile": True}))

    postgresql = session.get_bind().dialect.name == "postgresql"
    assert (text(2) == text(26) == text(2500)) is postgresql
    assert text(JSON_FROM) == text(2500) and (text(JSON_FROM - 1) == text(JSON_FROM)) is postgresql
    assert text(1) != text(2)  # one value is `=`


def test_among_bound_runs_one_built_statement_with_any_list_given_at_execution(session):
    """Built once, run with lists of any length: exactly the rows asked for, whole numbers and texts alike, and
    nothing for an empty list or values that match no row."""
    session.execute(sa.insert(AuditEntry), [dict(action="test.row", object_type="test", object_id=str(n))
                                            for n in range(3000)])
    ids = session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)).all()
    by_id = sa.select(AuditEntry.id).where(among_bound(AuditEntry.id, "ids")).order_by(AuditEntry.id)
    by_text = sa.select(AuditEntry.object_id).where(among_bound(AuditEntry.object_id, "texts"),
                                                    AuditEntry.action == "test.row").order_by(AuditEntry.id)
    for wanted in (ids[:1], ids[5:7], ids[::2], []):
        assert session.scalars(by_id, {"ids": wanted + [10**9]}).all() == wanted
    assert session.scalars(by_id, {"ids": []}).all() == []
    assert session.scalars(by_text, {"texts": ["12", "nothing", "2999", "7"]}).all() == ["7", "12", "2999"]
    assert session.scalars(by_text, {"texts": [str(n) for n in range(0, 3000, 3)]}).all() == [
        str(n) for n in range(0, 3000, 3)]


def test_among_and_among_bound_write_one_condition_the_database_can_use_an_index_for(session):
    """Both write a list sent as one parameter as a plain condition: `= ANY (CAST(? AS type[]))` on PostgreSQL, and on
    SQLite `IN (SELECT value FROM json_each(?))` with no `= 1` after it, which SQLite answers by reading every row
    instead of looking the rows up by the column's index (a search of the credentials of a few interpreters read
    all of them so: 100 ms)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    for stmt in (sa.select(AuditEntry.id).where(among_bound(AuditEntry.id, "ids")),
                 sa.select(AuditEntry.id).where(among(session, AuditEntry.id, range(1, JSON_FROM + 1)))):
        text = str(stmt.compile(session.get_bind()))
        assert "= 1" not in text and ("IN (SELECT value FROM json_each(" if sqlite else "= ANY (CAST(") in text, text
        if sqlite:
            rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + text, ("[1, 2]",))
            plan = " ".join(row[-1] for row in rows)
            assert "SEARCH audit_log USING INTEGER PRIMARY KEY" in plan, plan


def test_among_and_among_bound_take_any_text_as_one_value(session):
    """Texts go to PostgreSQL as one array written out, so each must stay one element whatever it holds: commas,
    quotes, backslashes, braces, spaces, an empty text, the word NULL. On SQLite they go as JSON."""
    odd = ["a,b", 'say "hi"', "back\\slash", "{brace}", "NULL", "", " spaced ", "æøå", "'single'", "\\\"both"]
    plain = [f"plain {n}" for n in range(200)]
    session.execute(sa.insert(AuditEntry), [dict(action="test.odd", object_type="test", object_id=t)
                                            for t in odd + plain])
    by_bound = sa.select(AuditEntry.object_id).where(among_bound(AuditEntry.object_id, "texts"),
                                                     AuditEntry.action == "test.odd")
    for wanted in (odd, odd[:2], odd + plain, ["a", "b", "say"]):
        expected = sorted(t for t in wanted if t in odd + plain)
        assert sorted(session.scalars(sa.select(AuditEntry.object_id).where(
            among(session, AuditEntry.object_id, wanted), AuditEntry.action == "test.odd"))) == expected
        assert sorted(session.scalars(by_bound, {"texts": wanted})) == expected


def test_select_rows_sees_the_sessions_pending_changes_as_session_execute_does(session):
    """Run on the session's connection, after its autoflush: an entry added and not yet flushed is found, in the
    same transaction; inside no_autoflush it is not, as with session.execute."""
    stmt = sa.select(AuditEntry.object_id).where(AuditEntry.action == "test.pending")
    session.add(AuditEntry(action="test.pending", object_type="test", object_id="first"))
    assert select_rows(session, stmt, {}).scalars().all() == ["first"]
    with session.no_autoflush:
        session.add(AuditEntry(action="test.pending", object_type="test", object_id="second"))
        assert select_rows(session, stmt, {}).scalars().all() == ["first"]
    assert sorted(select_rows(session, stmt, {}).scalars()) == ["first", "second"]
    session.rollback()
    assert select_rows(session, stmt, {}).scalars().all() == []


def test_listening_hears_the_engines_statements_inside_the_block_only(session):
    heard = []
    engine = session.get_bind()
    with listening(engine, before_cursor_execute=lambda *args: heard.append(args[2])):
        session.execute(sa.text("SELECT 'inside'"))
    session.execute(sa.text("SELECT 'outside'"))
    assert [s for s in heard if s.startswith("SELECT")] == ["SELECT 'inside'"]


def test_json_object_writes_true_false_numbers_and_text_as_json(session):
    value = session.scalar(sa.select(json_object({"on": True, "off": False, "n": sa.literal(3),
                                                  "note": sa.literal('a "quoted" word', sa.String)})))
    assert value == {"on": True, "off": False, "n": 3, "note": 'a "quoted" word'}


def test_record_each_writes_one_entry_per_row_in_order(session):
    for n in (3, 1, 2):
        audit.record(session, "test.row", object_type="test", object_id=n)
    rows = sa.select(AuditEntry.object_id, json_object({"seen": False}),
                     json_object({"seen": True, "was": AuditEntry.action})).where(
        AuditEntry.action == "test.row").order_by(AuditEntry.object_id)
    audit.record_each(session, "test.seen", rows, actor_label="system", object_type="test")
    entries = session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "test.seen")
                              .order_by(AuditEntry.id)).all()
    assert [(e.object_id, e.actor_label, e.object_type, e.before, e.after) for e in entries] == [
        (n, "system", "test", {"seen": False}, {"seen": True, "was": "test.row"}) for n in ("1", "2", "3")]
    assert all(e.at is not None for e in entries)


def test_discard_keeps_nothing_of_a_refused_change_and_on_postgresql_keeps_the_prepared_statements(app):
    """A refused request ends its transaction with `discard`: whatever it wrote or was about to write is gone, and
    where it wrote nothing it commits instead of rolling back, because psycopg forgets every prepared statement on
    ROLLBACK and the worker would plan each statement again for its next requests."""
    with app.app_context(), db.engine.connect() as conn:
        session = so.Session(bind=conn)
        postgresql = conn.dialect.name == "postgresql"

        def prepared() -> int:
            return session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements")) if postgresql else 0

        def read_often() -> None:
            for _ in range(6):  # psycopg prepares a statement the sixth time it runs
                session.execute(sa.select(AuditEntry.id).where(AuditEntry.action == "test.kept").limit(1)).all()

        read_often()
        ready = prepared()
        assert ready > 0 or not postgresql
        discard(session)  # a refusal that wrote nothing
        assert prepared() >= ready
        session.rollback()  # what discard avoids: psycopg then deallocates them all
        assert prepared() == 0

        read_often()
        audit.record(session, "test.kept", actor_label="test")
        session.flush()  # written, so rolled back
        discard(session)
        audit.record(session, "test.kept", actor_label="test")  # pending, never flushed: not committed either
        discard(session)
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "test.kept")) == 0
        session.close()
