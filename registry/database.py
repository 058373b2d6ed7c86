"""Engine set-up: SQLite pragmas and IMMEDIATE write transactions; nothing to do for PostgreSQL.

SQLite's default deferred BEGIN lets two writers both read, then one fails to upgrade its lock
("database is locked") after the busy timeout. A write transaction that starts with BEGIN IMMEDIATE
takes the write lock first, so a check-then-insert (an overlap check, say) is atomic. Reads keep the
deferred BEGIN so they run beside a writer under WAL. What counts as a write: any transaction begun
inside `writing()` (jobs, CLI, domain commands) and every request with an unsafe HTTP method, except a
transaction begun inside `reading()`: on SQLite a write request reads its API token or its login in a read
transaction of its own before its own work begins, so the lock is not held for that read.
"""

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

_writing: ContextVar[bool] = ContextVar("writing", default=False)
_reading: ContextVar[bool] = ContextVar("reading", default=False)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@contextmanager
def writing() -> Iterator[None]:
    """Transactions begun inside this block take SQLite's write lock at BEGIN."""
    token = _writing.set(True)
    try:
        yield
    finally:
        _writing.reset(token)


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside this block are reads, also in a request with an unsafe method: on SQLite they
    begin deferred and take no write lock (inside `writing()` this changes nothing)."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


@contextmanager
def read_apart(session) -> Iterator[bool]:
    """Around what a request that writes reads before its writing begins: who is asking (an API token, a login),
    and what a direct booking checks first (booking.choose). On SQLite it is read in a read transaction of its
    own, which the caller ends with `commit_read` before the request's own work begins: a write transaction there
    holds the one write lock from its BEGIN, so every other writer would wait for these reads too. Yields whether
    it is read apart; on PostgreSQL, where writers do not queue at BEGIN, it is read in the request's own
    transaction (apart, the extra COMMIT and BEGIN cost 3%)."""
    apart = (has_request_context() and request.method not in SAFE_METHODS
             and session.get_bind().dialect.name == "sqlite")
    with reading() if apart else nullcontext():
        yield apart


def chunks(items: Iterable, size: int = 1000) -> Iterator[Sequence]:
    """Slices small enough for an IN list on both databases (SQLite allows 32,766 parameters)."""
    items = items if isinstance(items, Sequence) else list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def batches(session, items: Sequence, size: int = 1000) -> Iterator[Sequence]:
    """The values `among` is given at a time: all of them where `among` makes them one parameter (PostgreSQL
    always; SQLite for whole numbers and text), otherwise slices of `size` for an IN list (chunks)."""
    if session.get_bind().dialect.name == "postgresql" or _as_json(items):
        if items:
            yield items
    else:
        yield from chunks(items, size)


# SQLite: from this many whole numbers or texts, `among` sends them as one JSON array, `column IN (SELECT value
# FROM json_each(?))`, instead of an IN list of as many placeholders. Measured on the bench data (credentials of n
# interpreters): 0.16 against 0.21 ms for 5 values, 0.43 against 0.45 for 50, 0.69 against 0.67 for 100, 12.4
# against 12.0 for 1,000. The gain is in what one parameter allows: one statement for any number of values, as
# on PostgreSQL, instead of one per thousand, each with its IN list rendered again. The expiry job on the bench
# data went from 4.7-5.2 to 3.8-4.2 s.
JSON_FROM = 100


def _array_text(values: list) -> str:
    """PostgreSQL: whole numbers or texts (_one_parameter) as an array written out ('{1,2,3}', '{"a","b"}'), which the
    statement casts to the column's array type. psycopg turns a Python list into an array element by
    element, and for the expiry job's lists of 50,000 bookings that took most of the time of sending them: 46-60
    ms of CPU against 6 ms as text. Texts are quoted, with backslash and double quote escaped, so any text is one
    element (postgresql.org/docs/current/arrays.html, "Array Value Input")."""
    if values and type(values[0]) is str:
        return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return "{" + ",".join(map(str, values)) + "}"


def _one_parameter(values) -> bool:
    """Whole numbers only or texts only: what `_Values` sends as one parameter."""
    return {type(v) for v in values} in ({int}, {str})


def _as_json(values) -> bool:
    return len(values) >= JSON_FROM and _one_parameter(values)


def among(session, column, values: Sequence) -> sa.ColumnElement[bool]:
    """`column IN values`, for a batch of values (`batches`). One value is `=`. On SQLite, JSON_FROM or more whole
    numbers or texts are one JSON array (above), fewer an IN list. On PostgreSQL two or more are
    `column = ANY(array)`: one parameter, so the statement's text is the same for any number of values. psycopg
    prepares a statement after its text has run five times, and an IN list's text changes with its length: the
    availability search asks for the credentials of its 2 to 26 candidates whose credential ends before the slot,
    so those IN lists were seldom prepared, and a thousand placeholders are over psycopg's 4 KB parse cache
    too. With arrays the expiry job on the bench data went from 5.7 to 5.1 s, and the availability load from
    282-283 to 290-293 requests a second. (With a list of one fixed length, which does get prepared, an IN list
    is faster than an array: 0.54 against 0.69 ms a query; `=` 0.45.)"""
    values = list(values)
    if len(values) == 1:
        return column == values[0]
    postgresql_ = session.get_bind().dialect.name == "postgresql"
    if _as_json(values) or postgresql_ and _one_parameter(values):
        return _InValues(column, sa.bindparam(None, values, type_=_Values(column.type)))
    if postgresql_:  # dates and other values: an array psycopg builds
        return column == sa.any_(sa.bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


class _Values(sa.types.TypeDecorator):
    """A list of whole numbers or texts as one text parameter: an array written out on PostgreSQL (_array_text),
    a JSON array on SQLite.

    Sent without a type (no ::VARCHAR after it), so PostgreSQL reads it as the array type it is cast to and the
    array is a constant of the plan. Cast from VARCHAR it is a conversion done while the statement runs, again
    for each row a filter looks at: the expiry job's look for 12,471 queued messages took 8 s so."""

    impl = sa.types.NullType
    cache_ok = True

    def __init__(self, item_type):
        super().__init__()
        self.item_type = item_type

    def process_bind_param(self, value, dialect):
        values = list(value)
        if values and not _one_parameter(values):
            raise TypeError("a list sent as one parameter holds whole numbers only or texts only")
        return _array_text(values) if dialect.name == "postgresql" else json.dumps(values)


class _InValues(FunctionElement):
    """`column IN` a list sent as one parameter (_Values): `column = ANY(CAST(? AS type[]))` on PostgreSQL,
    `column IN (SELECT value FROM json_each(?))` on SQLite. What `among` and `among_bound` both write."""

    inherit_cache = True
    name = "in_values"
    type = sa.Boolean()
    # A condition as it stands: without this SQLite gets `... IN (...) = 1`, for which it uses no index on the column.
    _is_implicitly_boolean = True

    def __init__(self, column, values: sa.BindParameter):
        super().__init__(column, values)


def among_bound(column, name: str) -> sa.ColumnElement[bool]:
    """`column IN` the whole numbers or texts given at execution as the parameter `name`, in a statement that is
    built once and run many times. `among` takes its values while the statement is built, so a statement that uses
    it is built, and its cache key worked out, on each call; for a query on a hot path that cost more CPU than
    running it. (The availability search's credentials of its candidates: 0.81 against 0.53 ms a query,
    PostgreSQL, bench data.)"""
    return _InValues(column, sa.bindparam(name, type_=_Values(column.type)))


def rows_bound(name: str, columns: dict, dialect: str) -> sa.FromClause:
    """A table of the rows given at execution as the one parameter `name`, a list of dicts of these columns' values
    (name: type), for a statement built once and run many times (as `among_bound` is for a list of values): its
    text is the same for any number of rows, so SQLAlchemy compiles it once and psycopg prepares it. Sent as a JSON
    array of objects, read by `json_to_recordset` on PostgreSQL and `json_each` on SQLite; `dialect` is the
    database's name, as the two are written differently."""
    rows = sa.bindparam(name, type_=_Rows(tuple(columns.items())))
    if dialect == "postgresql":
        return (sa.func.json_to_recordset(sa.cast(rows, postgresql.JSON))
                .table_valued(*(sa.column(n, t) for n, t in columns.items())).render_derived(name, with_types=True))
    each = sa.func.json_each(rows).table_valued("value")
    return sa.select(*(sa.type_coerce(sa.func.json_extract(each.c.value, f"$.{n}"), t).label(n)
                       for n, t in columns.items())).subquery(name)


class _Rows(sa.types.TypeDecorator):
    """Rows as one JSON text parameter (rows_bound), each value as the column's type sends it to the database: on
    SQLite the text it stores, so the tables' columns are compared with text of the same form; on PostgreSQL times
    and dates as ISO 8601, which json_to_recordset reads as the columns' types. Sent without a type, like
    `_Values`, so PostgreSQL casts it once."""

    impl = sa.types.NullType
    cache_ok = True

    def __init__(self, columns: tuple):
        super().__init__()
        self.columns = columns

    def process_bind_param(self, value, dialect):
        sending = [(n, t.dialect_impl(dialect).bind_processor(dialect)) for n, t in self.columns]
        return json.dumps([{n: send(row[n]) if send else row[n] for n, send in sending} for row in value],
                          default=lambda v: v.isoformat())


@compiles(_InValues)
def _in_json_each(element, compiler, **kw):
    column, values = element.clauses
    return f"{compiler.process(column, **kw)} IN (SELECT value FROM json_each({compiler.process(values, **kw)}))"


@compiles(_InValues, "postgresql")
def _equals_any(element, compiler, **kw):
    column, values = element.clauses
    array = compiler.dialect.type_compiler_instance.process(postgresql.ARRAY(values.type.item_type))
    return f"{compiler.process(column, **kw)} = ANY (CAST({compiler.process(values, **kw)} AS {array}))"


@contextmanager
def listening(target, **handlers) -> Iterator[None]:
    """SQLAlchemy event handlers on `target` (an engine, say) for the block only, by event name:
    `with listening(engine, before_cursor_execute=note): ...`. For the bench's and the tests' watching."""
    for name, handler in handlers.items():
        sa.event.listen(target, name, handler)
    try:
        yield
    finally:
        for name, handler in handlers.items():
            sa.event.remove(target, name, handler)


def select_rows(session, stmt, params: dict) -> sa.CursorResult:
    """A SELECT of columns (no ORM entities) run on the session's connection: in the session's transaction, after
    its autoflush, as `session.execute` would, but without the ORM's handling of the statement and its result,
    which cost 0.1 ms of CPU a statement (0.65 against 0.55 ms, PostgreSQL, bench data). For the queries on the
    hottest paths: the availability search and its candidates' credentials."""
    if session.autoflush:
        session.flush()  # pending changes first, as autoflush does; nothing to do when there are none
    return session.connection().execute(stmt, params)


def keyset_page(session, stmt, order: tuple, after: tuple | None, limit: int) -> tuple[list, tuple | None]:
    """One page of the ORM objects `stmt` selects, ordered by the columns `order`, after the key `after` (their
    values in the last row of the page before), and the next page's key (None: this is the last page)."""
    if after is not None:
        stmt = stmt.where(sa.tuple_(*order) > sa.tuple_(*after))
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)).unique())
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], tuple(getattr(last, column.key) for column in order)


def count_rows(session, stmt) -> int:
    """How many rows `stmt` selects: the total a keyset page shows beside itself ("1,503 found")."""
    return session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def expire_loaded(session, model, ids, attributes: list[str]) -> None:
    """After a Core statement changed these rows, objects of them already loaded in the session are refreshed
    on next use. Only the identity map is looked at: nothing is loaded for this."""
    ids = set(ids)
    for key, obj in list(session.identity_map.items()):
        if key[0] is model and key[1][0] in ids:
            session.expire(obj, attributes)


class no_index(FunctionElement):
    """An expression that the planner is not to pick an index for: on SQLite with a unary + (the documented way,
    sqlite.org/optoverview.html), elsewhere as it is. Without ANALYZE statistics, which production databases do
    not have, SQLite takes an IN list of two statuses for more selective than one of a thousand interpreters."""

    inherit_cache = True
    name = "no_index"

    def __init__(self, expression):
        super().__init__(expression)
        self.type = expression.type


@compiles(no_index)
def _as_it_is(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(no_index, "sqlite")
def _plus(element, compiler, **kw):
    return "+" + compiler.process(element.clauses, **kw)


class json_object(FunctionElement):
    """A JSON object built in the database from keys and SQL values: json_build_object on PostgreSQL, json_object
    on SQLite. A Python True or False is written as JSON true or false on both (SQLite would write 1 or 0)."""

    inherit_cache = True
    name = "json_object"

    def __init__(self, pairs: dict):
        args = []
        for key, value in pairs.items():
            args += [sa.literal(key, sa.String), _json_bool(value) if isinstance(value, bool) else value]
        super().__init__(*args)
        self.type = sa.JSON()


class _json_bool(FunctionElement):
    inherit_cache = True
    name = "json_bool"

    def __init__(self, value: bool):
        super().__init__(sa.literal_column("true" if value else "false"))
        self.type = sa.Boolean()


@compiles(json_object)
def _json_object(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object, "postgresql")
def _json_build_object(element, compiler, **kw):
    return f"json_build_object({compiler.process(element.clauses, **kw)})"


@compiles(_json_bool)
def _bool_as_it_is(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(_json_bool, "sqlite")
def _bool_as_json(element, compiler, **kw):
    return f"json('{compiler.process(element.clauses, **kw)}')"


def _is_write() -> bool:
    if _writing.get():
        return True
    return not _reading.get() and has_request_context() and request.method not in SAFE_METHODS


SQLITE_CACHE_KIB = 32 * 1024


def configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys, WAL, a busy timeout, and BEGIN IMMEDIATE for write transactions."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, emit BEGIN (SQLAlchemy's documented pysqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # SQLite's own page cache (2 MB by default) holds the hot part of the search's indexes, so a search
            # does not go to the operating system for every page of a national-size register.
            cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(conn):
        if _is_write():
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


# How long a statement waits for a lock another connection holds before "database is locked".
SQLITE_BUSY_MS = 15_000
SQLITE_WRITER_POLL_SECONDS = (0.0005, 0.002)  # first and longest pause between tries for the write lock


def _begin_immediate(conn) -> None:
    """BEGIN IMMEDIATE, trying again every 0.5 to 2 ms while another connection writes, for SQLITE_BUSY_MS.

    SQLite's own busy handler sleeps the longer the longer it has waited (1, 2, 5, 10, 15, 20, 25, 50, 100 ms), so
    under steady contention a waiting writer sleeps through most of the moments the lock is free: four gunicorn
    workers booking at once got 90 bookings a second, p95 600 ms (bench/, 5,000,000 bookings). The busy timeout
    is off while this loop waits instead, and on again for the transaction's own statements.
    """
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        first, longest = SQLITE_WRITER_POLL_SECONDS
        pause, deadline = first, time.monotonic() + SQLITE_BUSY_MS / 1000
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise
            time.sleep(pause)
            pause = min(pause * 2, longest)
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # still taken: fails through SQLAlchemy, "database is locked"
    finally:
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")


def configure_postgresql(engine: sa.Engine, random_page_cost: float) -> None:
    """The planner's cost of a page read at random, for the app's connections (POSTGRES_RANDOM_PAGE_COST).

    PostgreSQL's default, 4 against 1 for a page read in sequence, is for spinning disks; on SSDs and with the
    working set in memory PostgreSQL's own advice is about 1.1. At 4, the availability search for a popular
    language reads all 50,000 interpreters to hash-join them with the few hundred holders of the language (22 ms
    on the bench data); at 1.1 it looks up those few hundred by key (9 ms). Given as a libpq option at connect,
    so it costs no round trip; the server's own setting is left alone. libpq reads PGOPTIONS only for a connection
    given no options, so without options of the connection's own the operator's PGOPTIONS come first: giving
    this one alone had dropped them without a word.
    """

    @sa.event.listens_for(engine, "do_connect")
    def _planner_costs(_dialect, _record, _args, params):
        given = params.get("options", os.environ.get("PGOPTIONS", ""))
        params["options"] = f"{given} -c random_page_cost={random_page_cost}".strip()


WRITES = ("INSERT", "UPDATE", "DELETE")


def configure_engine(engine: sa.Engine, random_page_cost: float | None = None) -> None:
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    if random_page_cost is not None and not (isinstance(random_page_cost, int | float) and 0 < random_page_cost <= 100):
        raise ValueError(f"POSTGRES_RANDOM_PAGE_COST must be a number above 0, such as 1.1, not {random_page_cost!r}")
    if engine.dialect.name == "postgresql" and random_page_cost is not None:
        configure_postgresql(engine, random_page_cost)

    # Which transactions wrote, so that finish_read commits only reads (also a write already flushed).
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note_write(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper().startswith(WRITES):
            conn.info["wrote"] = True

    @sa.event.listens_for(engine, "commit")
    @sa.event.listens_for(engine, "rollback")
    def _forget_writes(conn):
        conn.info.pop("wrote", None)


def end_reads_with_commit(app) -> None:
    """A request with a safe method (GET, HEAD, OPTIONS) ends its read transaction with COMMIT, not ROLLBACK.

    psycopg forgets every prepared statement on ROLLBACK (DEALLOCATE ALL), so a read that was rolled back made
    the next request plan each of its statements again: for the availability search PostgreSQL then plans the
    values at hand, a hash join and a sort of every holder of a popular language (12 ms), where the prepared
    statement's plan checks the candidates in order (5 ms). A read has nothing to keep or undo, so COMMIT is
    the same for the data. Only when the transaction wrote nothing and the session holds no pending change, and
    never after an error: a stray change in a read, flushed or not, is rolled back, as before."""
    from flask import request

    from .extensions import db

    @app.teardown_request
    def _end_read(error) -> None:
        if error is None and request.method in SAFE_METHODS and not _writing.get():
            finish_read(db.session())


def commit_read(session) -> None:
    """Commit a read and keep what it loaded (no expiry on commit): for a login or token read apart, before the
    request's own write transaction, whose work then uses the user without reading it again."""
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def discard(session) -> None:
    """End a refused change's transaction keeping nothing of it: ROLLBACK, or COMMIT when it wrote nothing and holds
    no pending change, which is the same for the data (finish_read).

    psycopg forgets every prepared statement on ROLLBACK, so each refusal (a booking answered 409 because the
    interpreter is not free, a 404, a 422) made its worker parse and plan each statement again for its next
    requests. Under the bench's booking load on PostgreSQL, where 8% are refused, keeping them took a booking from
    10.1 to 8.6 ms alone and the load from 163-170 to 194 bookings a second."""
    finish_read(session)
    session.rollback()


def finish_read(session) -> None:
    """End a read transaction with COMMIT when it wrote nothing and holds no pending change (see
    end_reads_with_commit); otherwise leave it to be rolled back."""
    if not session.in_transaction() or not session.is_active or session.new or session.dirty or session.deleted:
        return  # nothing begun; or a failed flush, which only a rollback ends; or changes not to be kept
    with reading():  # had the transaction no connection yet, one is begun as a read: no write lock to wait for
        wrote = session.connection().info.get("wrote")
    if wrote:
        return
    try:
        session.commit()
    except sa.exc.SQLAlchemyError:
        session.rollback()
