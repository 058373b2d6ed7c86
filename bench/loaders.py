"""Bulk paths into a freshly migrated database: COPY on PostgreSQL, executemany in large transactions on SQLite.

While loading, the tables' secondary indexes, foreign keys and the no-overlap guard (SQLite triggers,
PostgreSQL exclusion constraint) are set aside and made again afterwards from their own saved definitions,
so what stands after the load is exactly what the migrations built. Building an index once is far cheaper
than maintaining it row by row; re-adding the exclusion constraint and the foreign keys on PostgreSQL
validates every row, and on SQLite `validate()` checks the same (no overlap, no dangling reference).
"""

import sqlite3
import time
from collections.abc import Iterable, Iterator
from itertools import islice

import psycopg

from registry.domain.qualification import POLICE_CERTIFICATE_SECTORS

# The overlap invariant, checked over the loaded rows: no slot-holding booking starts before the previous one
# of the same interpreter ends (sorted by start, it is enough to look at the neighbour).
OVERLAPS = (
    "SELECT count(*) FROM (SELECT starts_at, LAG(ends_at) OVER (PARTITION BY interpreter_id ORDER BY starts_at, id) "
    "AS previous_end FROM bookings WHERE status IN ('requested', 'confirmed')) AS ordered "
    "WHERE previous_end > starts_at"
)
# Slot-holding bookings (in the generated data all are coming ones) whose interpreter is not active, yet without
# the warning the app gives them when an interpreter stops being active (booking.flag_unqualified).
UNMARKED = (
    "SELECT count(*) FROM bookings JOIN interpreters ON interpreters.id = bookings.interpreter_id "
    "WHERE bookings.status IN ('requested', 'confirmed') AND interpreters.status <> 'active' "
    "AND NOT bookings.warn_not_qualified"
)
# Bookings with an interpreter in a sector that needs a police certificate, and of them those whose interpreter holds
# none valid on the booking's day (qualification.valid_on), its date in Europe/Oslo. {day} is that date in each
# database's SQL: on SQLite, which has no time zones, the UTC date, the same for the generated bookings (all inside
# working hours, which never cross midnight UTC).
NEEDING_CERTIFICATE = (
    "FROM bookings WHERE bookings.interpreter_id IS NOT NULL AND bookings.sector IN ("
    + ", ".join(f"'{sector}'" for sector in sorted(POLICE_CERTIFICATE_SECTORS)) + ")"
)
UNCERTIFIED = (
    f"SELECT count(*) {NEEDING_CERTIFICATE} AND NOT EXISTS (SELECT 1 FROM credentials "
    "WHERE credentials.interpreter_id = bookings.interpreter_id AND credentials.type = 'police_certificate' "
    "AND credentials.state = 'verified' AND credentials.issued_on <= {day} "
    "AND (credentials.valid_until IS NULL OR credentials.valid_until >= {day}))"
)
SQLITE_DAY = "date(bookings.starts_at)"
POSTGRES_DAY = "(bookings.starts_at AT TIME ZONE 'Europe/Oslo')::date"


def batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class Timings(dict):
    """Seconds per step, in the order the steps ran."""

    def timed(self, name: str):
        timings = self

        class _Step:
            def __enter__(self):
                self.start = time.perf_counter()

            def __exit__(self, *exc):
                timings[name] = round(timings.get(name, 0) + time.perf_counter() - self.start, 2)

        return _Step()


class SqliteLoader:
    def __init__(self, path, timings: Timings):
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.timings = timings
        self.saved: list[tuple[str, str, str]] = []
        # CHECK constraints cost more than the inserts themselves; validate() checks them once instead.
        # No checkpoints while loading (one at the end), and worker threads for the sorts of CREATE INDEX.
        for pragma in ("journal_mode=WAL", "synchronous=OFF", "cache_size=-1000000", "temp_store=MEMORY",
                       "foreign_keys=OFF", "ignore_check_constraints=ON", "wal_autocheckpoint=0", "threads=2"):
            self.conn.execute(f"PRAGMA {pragma}")

    def suspend(self, tables: list[str]) -> None:
        """Drop the secondary indexes and triggers of these tables, keeping their SQL to make them again."""
        marks = ", ".join("?" for _ in tables)
        self.saved = self.conn.execute(
            f"SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY type, name", tables).fetchall()
        for kind, name, _ in self.saved:
            self.conn.execute(f'DROP {kind.upper()} "{name}"')

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple], commit_every: int = 1_000_000) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        count = pending = 0
        with self.timings.timed(f"load {table}"):
            self.conn.execute("BEGIN")
            for batch in batches(rows, 50_000):
                self.conn.executemany(sql, batch)
                count += len(batch)
                pending += len(batch)
                if pending >= commit_every:
                    self.conn.execute("COMMIT")
                    self.conn.execute("BEGIN")
                    pending = 0
            self.conn.execute("COMMIT")
        return count

    def execute(self, sql: str, params=()) -> list:
        return self.conn.execute(sql, params).fetchall()

    def resume(self) -> None:
        """Indexes first, then the triggers (which need nothing but exist from here on)."""
        for kind, _, sql in sorted(self.saved, key=lambda s: s[0] != "index"):
            with self.timings.timed(f"create {kind}s"):
                self.conn.execute(sql)
        self.saved = []

    def validate(self) -> dict:
        with self.timings.timed("validate overlaps"):
            overlaps = self.conn.execute(OVERLAPS).fetchone()[0]
        with self.timings.timed("validate warnings"):
            unmarked = self.conn.execute(UNMARKED).fetchone()[0]
        with self.timings.timed("validate police certificates"):
            uncertified = self.conn.execute(UNCERTIFIED.format(day=SQLITE_DAY)).fetchone()[0]
        with self.timings.timed("validate foreign keys"):
            dangling = len(self.conn.execute("PRAGMA foreign_key_check").fetchall())
        self.conn.execute("PRAGMA ignore_check_constraints=OFF")  # quick_check skips CHECKs while ignored
        with self.timings.timed("validate checks (quick_check)"):
            problems = [r[0] for r in self.conn.execute("PRAGMA quick_check").fetchall() if r[0] != "ok"]
        return {"overlaps": overlaps, "unmarked_bookings": unmarked, "uncertified_bookings": uncertified,
                "dangling_references": dangling, "check_violations": len(problems)}

    def finish(self, analyze: bool) -> None:
        if analyze:
            with self.timings.timed("analyze"):
                self.conn.execute("ANALYZE")
        with self.timings.timed("checkpoint"):
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.conn.execute("PRAGMA wal_autocheckpoint=1000")
        self.conn.close()


class PostgresLoader:
    def __init__(self, url: str, timings: Timings):
        self.conn = psycopg.connect(url, autocommit=True)
        self.timings = timings
        self.indexes: list[str] = []
        self.constraints: list[tuple[str, str, str]] = []
        for setting in ("synchronous_commit = off", "maintenance_work_mem = '1GB'", "timezone = 'UTC'",
                        "max_parallel_maintenance_workers = 2"):
            self.conn.execute(f"SET {setting}")

    def suspend(self, tables: list[str]) -> None:
        """Drop plain indexes, foreign keys and exclusion constraints of these tables (keys and checks stay)."""
        for table in tables:
            constraints = self.conn.execute(
                "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                "WHERE conrelid = %s::regclass AND contype IN ('f', 'x') ORDER BY contype, conname",
                (table,)).fetchall()
            indexes = self.conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = %s "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) "
                "ORDER BY indexname", (table, table)).fetchall()
            for name, definition, _ in constraints:
                self.conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                self.constraints.append((table, name, definition))
            for name, definition in indexes:
                self.conn.execute(f'DROP INDEX "{name}"')
                self.indexes.append(definition)

    def load(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        count = 0
        with self.timings.timed(f"load {table}"), self.conn.transaction():
            cursor = self.conn.cursor()
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def execute(self, sql: str, params=()) -> list:
        cursor = self.conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    def resume(self) -> None:
        """Indexes, then the constraints: the exclusion constraint and foreign keys validate every row."""
        with self.timings.timed("create indexes"):
            for definition in self.indexes:
                self.conn.execute(definition)
        for table, name, definition in self.constraints:
            kind = "exclusion constraint" if definition.startswith("EXCLUDE") else "foreign keys"
            with self.timings.timed(f"create {kind} (validating)"):
                self.conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.indexes, self.constraints = [], []

    def sequences(self, tables: list[str]) -> None:
        """Explicit ids were loaded: move each table's id sequence past them."""
        for table in tables:
            sequence = self.conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
            if sequence:
                self.conn.execute(f"SELECT setval('{sequence}', GREATEST((SELECT max(id) FROM {table}), 1))")

    def validate(self) -> dict:
        with self.timings.timed("validate overlaps"):
            overlaps = self.conn.execute(OVERLAPS).fetchone()[0]
        with self.timings.timed("validate warnings"):
            unmarked = self.conn.execute(UNMARKED).fetchone()[0]
        with self.timings.timed("validate police certificates"):
            uncertified = self.conn.execute(UNCERTIFIED.format(day=POSTGRES_DAY)).fetchone()[0]
        # COPY checked every CHECK constraint; the foreign keys were validated when re-added.
        return {"overlaps": overlaps, "unmarked_bookings": unmarked, "uncertified_bookings": uncertified,
                "dangling_references": 0, "check_violations": 0}

    def finish(self, tables: list[str]) -> None:
        with self.timings.timed("vacuum analyze"):
            for table in tables:
                self.conn.execute(f"VACUUM (ANALYZE) {table}")
        self.conn.close()
