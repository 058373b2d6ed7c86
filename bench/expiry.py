"""The expire-credentials job over the generated credentials (1,000,000 at scale 1, 5% due), against a raw SQL
UPDATE of the same rows, in the same run.

The baseline is the job's own first statement without the job around it: one UPDATE of the due rows in a write
transaction, timed until its COMMIT returns, as the job is. The statement's own time, before its COMMIT, is
reported beside it. That was the baseline until 2026-11-29, rolled back instead of committed, so it left out what
the job's time holds: a COMMIT (on the bench data 0.14-0.15 s on SQLite, against 0.33-0.47 s for the statement;
0.01 s on PostgreSQL). Then the job runs as the scheduler runs it (registry.jobs.runner.run, committed), and
afterwards everything it changed is put back: the credentials' state, the stored categories, the warnings it set,
queued messages, its audit entries (the append-only triggers are lifted for that, inside the restoring
transaction) and its run record. Each is made three times, in turns (the UPDATE, then the job), and the medians
count; the rows are made verified again after each UPDATE.

Runs in a process of its own (`python -m bench.expiry URL`, started by bench/run.py) so a job that takes
longer than the run allows can be stopped; its transaction is then never committed and nothing needs undoing.
"""

import json
import statistics
import sys
import time
from contextlib import contextmanager

import sqlalchemy as sa

from registry.database import chunks, listening, writing
from registry.domain.clock import now, oslo_date
from registry.extensions import db
from registry.jobs import runner
from registry.models import AuditEntry, Booking, Credential, JobRun, OutboxMessage, Qualification
from registry.models.audit import append_only_lifted

APPLICATION_NAME = "bench-expiry"
JOB = "expire-credentials"


def raw_update(today, moment, due: list[int]) -> tuple[float, float]:
    """Seconds for the bare UPDATE of the due rows: until the statement returns, and until its COMMIT returns, as
    the job's time runs until its own COMMIT returns. The rows are then made verified again (not timed)."""
    with writing():
        started = time.perf_counter()
        db.session.execute(sa.update(Credential).where(Credential.state == "verified", Credential.valid_until < today)
                           .values(state="expired", updated_at=moment).execution_options(synchronize_session=False))
        executed = time.perf_counter() - started
        db.session.commit()
        committed = time.perf_counter() - started
    with writing():
        verify_again(due)
        db.session.commit()
    return executed, committed


def verify_again(credential_ids: list[int]) -> None:
    for chunk in chunks(credential_ids):
        db.session.execute(sa.update(Credential).where(Credential.id.in_(chunk))
                           .values(state="verified").execution_options(synchronize_session=False))


def vacuum(table: str) -> None:
    """PostgreSQL: clear the dead rows a rolled-back or undone UPDATE leaves, so each measurement starts alike."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (ANALYZE) {table}")


def snapshot(today) -> dict:
    session = db.session
    state = {
        "due": session.scalars(sa.select(Credential.id).where(Credential.state == "verified",
                                                              Credential.valid_until < today)).all(),
        "qualifications": [tuple(r) for r in session.execute(sa.select(
            Qualification.interpreter_id, Qualification.language_code, Qualification.category, Qualification.rank))],
        "outbox": session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0,
        "audit": session.scalar(sa.select(sa.func.max(AuditEntry.id))) or 0,
        # Warnings the data already holds (paused, suspended or excluded interpreters' bookings) stay after restore.
        "warned": set(session.scalars(sa.select(Booking.id).where(Booking.warn_not_qualified.is_(True)))),
        "total": session.scalar(sa.select(sa.func.count()).select_from(Credential)),
    }
    session.remove()
    return state


def restore(state: dict, run_id: int | None) -> None:
    session = db.session
    with writing():
        verify_again(state["due"])
        session.execute(sa.delete(Qualification))
        rows = [dict(zip(("interpreter_id", "language_code", "category", "rank"), r, strict=True))
                for r in state["qualifications"]]
        for start in range(0, len(rows), 10_000):
            session.execute(sa.insert(Qualification), rows[start:start + 10_000])
        flagged = [i for i in session.scalars(sa.select(Booking.id).where(Booking.warn_not_qualified.is_(True)))
                   if i not in state["warned"]]
        for chunk in chunks(flagged):
            session.execute(sa.update(Booking).where(Booking.id.in_(chunk))
                            .values(warn_not_qualified=False).execution_options(synchronize_session=False))
        session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id > state["outbox"]))
        delete_audit_after(state["audit"])
        if run_id is not None:
            session.execute(sa.delete(JobRun).where(JobRun.id == run_id))
        session.commit()
    for table in ("credentials", "qualifications", "bookings", "outbox", "audit_log"):
        vacuum(table)


def delete_audit_after(last_id: int) -> None:
    """The job's audit entries go, in the restoring transaction: the bench data is not a register to keep."""
    conn = db.session.connection()
    with append_only_lifted(conn):
        conn.execute(sa.delete(AuditEntry).where(AuditEntry.id > last_id))


@contextmanager
def statement_time(engine):
    """Seconds spent in SQL statements on the engine meanwhile, from each statement's execution until its result
    is back (an executemany's statements together; COMMIT not included), and how many were run: the part of the
    job's time the database and the wire take, beside the Python around them. PostgreSQL only: psycopg has every
    row when the statement returns, where SQLite runs a statement as its rows are fetched, which no event marks
    (on the bench data the job's fetches took 0.65 s there, against 1.15 s in the statements)."""
    spent = {"seconds": 0.0, "statements": 0}
    started = []

    def before(conn, cursor, statement, parameters, context, executemany):
        started.append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        spent["seconds"] += time.perf_counter() - started.pop()
        spent["statements"] += 1

    with listening(engine, before_cursor_execute=before, after_cursor_execute=after):
        yield spent


def measure(rounds: int = 3) -> dict:
    """The raw UPDATE and the job, in turns, `rounds` times each; the medians count. With a raw UPDATE of a third of
    a second (on a fast machine) a few tenths of a second of one job run moved the ratio by several points: one run
    each gave 10.1 and then 13.2 for the same code on SQLite, an hour apart."""
    moment = now()
    today = oslo_date(moment)
    state = snapshot(today)
    statement, baseline, job, in_sql = [], [], [], []
    for n in range(rounds):
        vacuum("credentials")  # each UPDATE and its undoing leave the due rows' dead versions behind (PostgreSQL)
        executed, committed = raw_update(today, moment, state["due"])
        statement.append(executed)
        baseline.append(committed)
        vacuum("credentials")
        with statement_time(db.engine) as spent:  # reported for PostgreSQL only (statement_time)
            started = time.perf_counter()
            result = runner.run(db.session, JOB, moment, trigger="manual")
            job.append(time.perf_counter() - started)
        in_sql.append(spent["seconds"])
        db.session.remove()
        print(f"BENCH-PROGRESS job run {n + 1} of {rounds} done; restoring", file=sys.stderr, flush=True)
        restore(state, result.run_id)
        # The data must be as before for the next run: the warnings it held, no more and no fewer.
        warned = set(db.session.scalars(sa.select(Booking.id).where(Booking.warn_not_qualified.is_(True))))
        db.session.remove()
        restored = warned == state["warned"]
        if result.outcome != "ok" or not restored:
            break
    return {"restored": restored, "warned_before": len(state["warned"]),
            "credentials": state["total"], "due": len(state["due"]), "rounds": len(job),
            "raw_update_s": statistics.median(baseline), "raw_update_all_s": baseline,
            "raw_update_statement_s": statistics.median(statement), "job_s": statistics.median(job),
            "job_all_s": job,
            "job_sql_s": statistics.median(in_sql) if db.engine.dialect.name == "postgresql" else None,
            "job_statements": spent["statements"],
            "outcome": result.outcome, "counts": result.counts, "error": result.error}


def main(argv: list[str]) -> int:
    from .run import bench_app

    app = bench_app(argv[0], application_name=APPLICATION_NAME)
    with app.app_context():
        result = measure()
        db.engine.dispose()
    print("BENCH-JSON " + json.dumps(result, default=str), flush=True)
    return 0 if result["outcome"] == "ok" and result["restored"] else 1


def clean_after_kill(app) -> None:
    """The job was stopped: end its server session (PostgreSQL) and drop the run record it left `running`."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     f"WHERE application_name = '{APPLICATION_NAME}' AND pid <> pg_backend_pid()")
        with writing():
            db.session.execute(sa.delete(JobRun).where(JobRun.job == JOB, JobRun.outcome == "running",
                                                       JobRun.period_key.like("manual:%")))
            db.session.commit()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
