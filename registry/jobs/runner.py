"""Running a job exactly once per period, and recording what it did.

1. A run record is inserted and committed first: UNIQUE(job, period_key) lets one process have it.
   A second process (another scheduler, or `jobs run` twice with the same --now) finds the key taken and
   does nothing. A record left `failed`, or `running` by a process that died, may be taken over.
2. The job runs in one transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL: plus pg_try_advisory_xact_lock
   for the job, a lock that ends with the transaction and can never stay behind on a pooled connection),
   and its run record is finished in that same transaction, so "ok" and the job's changes commit together.
3. The jobs' statements are idempotent as well: a second run, whatever its period key, changes nothing more.
"""

import logging
import os
import socket
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..database import writing
from ..domain import audit, clock
from ..models import JobRun
from .context import Context
from .registry import JOBS, Job, get

log = logging.getLogger("registry.jobs")
ERROR_MAX = 2000


@dataclass(frozen=True)
class RunResult:
    job: str
    period_key: str
    outcome: str
    counts: dict = field(default_factory=dict)
    error: str | None = None
    run_id: int | None = None


def manual_key(now: datetime) -> str:
    return "manual:" + now.astimezone(UTC).isoformat()


def run(session, name: str, now: datetime, *, trigger: str = "schedule", config=None) -> RunResult:
    """Run job `name` as of `now` (aware), once for its period: the scheduled period, or for a run by hand
    the exact `now` (so two identical `jobs run NAME --now T` run it once). Commits; use a clean session."""
    job = get(name)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    config = config if config is not None else current_app.config
    key = job.period_key(now) if trigger == "schedule" else manual_key(now)
    with writing():
        run_id = _start(session, job, key, now, trigger, config)
        if run_id is None:
            return RunResult(job.name, key, "skipped", error="This job has already run for this period.")
        return _execute(session, job, key, run_id, Context(session, now, config))


def _execute(session, job: Job, key: str, run_id: int, ctx: Context) -> RunResult:
    try:
        if not job.own_transactions and not _lock(session, job):
            session.rollback()
            error = "Another run of this job was in progress."
            _finish(session, run_id, "skipped", None, error)
            session.commit()
            return RunResult(job.name, key, "skipped", error=error, run_id=run_id)
        counts = job.run(ctx)
        _finish(session, run_id, "ok", counts, None)
        session.commit()
    except Exception as exc:
        session.rollback()
        log.exception("Job %s (%s) failed", job.name, key)
        error = describe(exc)
        _finish(session, run_id, "failed", None, error)
        session.commit()
        return RunResult(job.name, key, "failed", error=error, run_id=run_id)
    for action in ctx.after_commit:
        try:
            action()
        except Exception:  # the run's changes are committed; a file left behind is only logged
            log.exception("Job %s: an action after the commit failed", job.name)
    # A run that did something is worth a line in the log; the idle every-minute runs are not.
    log.log(logging.INFO if any(counts.values()) else logging.DEBUG, "Job %s (%s) done: %s", job.name, key, counts)
    return RunResult(job.name, key, "ok", counts, run_id=run_id)


def describe(error: BaseException) -> str:
    text = str(getattr(error, "message", None) or error)
    return f"{type(error).__name__}: {text}"[:ERROR_MAX]


def worker_name() -> str:
    return f"{socket.gethostname()[:80]}:{os.getpid()}"


def _start(session, job: Job, key: str, now: datetime, trigger: str, config) -> int | None:
    """Insert the run record and commit it; None when another process has the period."""
    started = clock.now()
    values = dict(trigger=trigger, as_of=now, started_at=started, finished_at=None, outcome="running",
                  counts=None, error=None, worker=worker_name())
    try:
        run_id = session.execute(sa.insert(JobRun).values(job=job.name, period_key=key, **values)
                                 .returning(JobRun.id)).scalar_one()
        session.commit()
        return run_id
    except sa.exc.IntegrityError:
        session.rollback()
    stale = started - timedelta(minutes=config["JOB_RUN_STALE_MINUTES"])
    run_id = session.execute(
        sa.update(JobRun)
        .where(JobRun.job == job.name, JobRun.period_key == key,
               sa.or_(JobRun.outcome == "failed", sa.and_(JobRun.outcome == "running", JobRun.started_at < stale)))
        .values(**values).returning(JobRun.id)).scalar()
    session.commit()
    return run_id


def _finish(session, run_id: int, outcome: str, counts: dict | None, error: str | None) -> None:
    session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(
        outcome=outcome, counts=counts, error=error, finished_at=clock.now()))


def lock_key(job: Job) -> int:
    return zlib.crc32(f"registry.jobs:{job.name}".encode())


def _lock(session, job: Job) -> bool:
    """PostgreSQL: one run of a job at a time, by a lock that lives only as long as this transaction.
    SQLite needs none: the transaction began with BEGIN IMMEDIATE and holds the only write lock."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(lock_key(job)))))


def run_by_hand(session, name: str, now: datetime, *, actor, ip: str | None = None) -> RunResult:
    """A registry admin runs a job now (the admin page); audited with the outcome."""
    result = run(session, name, now, trigger="admin")
    audit.record(session, "job.run", actor=actor, object_type="job", object_id=name, ip=ip,
                 after={"run_id": result.run_id, "outcome": result.outcome, "counts": result.counts,
                        "error": result.error})
    session.commit()
    return result


def last_runs(session) -> dict[str, JobRun]:
    """The newest run of each job."""
    latest = sa.select(JobRun.job, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    runs = session.scalars(sa.select(JobRun).join(latest, JobRun.id == latest.c.id)).all()
    return {r.job: r for r in runs if r.job in JOBS}
