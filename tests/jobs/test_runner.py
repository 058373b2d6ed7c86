"""Exactly once: run records unique per job and period, a transaction-scoped lock, take-over of dead runs;
and the scheduler: schedules, DST, coalescing, catching up once."""

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from apscheduler.triggers.cron import CronTrigger

from registry.database import writing
from registry.domain.clock import OSLO
from registry.extensions import db
from registry.jobs import registry as job_table
from registry.jobs import runner, scheduler
from registry.jobs.registry import JOBS, UnknownJob
from registry.models import Credential, JobRun
from tests.helpers import interpreter
from tests.jobs.conftest import messages, oslo, run_job

NOW = oslo(date(2027, 2, 1), 1, 15)


def runs(session) -> list[JobRun]:
    session.rollback()
    return session.scalars(sa.select(JobRun).order_by(JobRun.id)).all()


@pytest.fixture
def expiring(session):
    return interpreter(session, "Amina Ali", email="amina@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 1, 31)})])


def test_a_scheduled_run_is_recorded_once_per_period(session, expiring):
    first = run_job(session, "expire-credentials", NOW)
    assert (first.outcome, first.period_key, first.counts["expired"]) == ("ok", "2027-02-01", 1)
    # The same day again (a second scheduler, a restart): the period is taken, nothing runs.
    second = run_job(session, "expire-credentials", NOW + timedelta(hours=5))
    assert (second.outcome, second.run_id) == ("skipped", None)
    (record,) = runs(session)
    assert (record.job, record.period_key, record.trigger, record.outcome) == (
        "expire-credentials", "2027-02-01", "schedule", "ok")
    assert record.counts == {"expired": 1, "renewed": 0, "interpreters": 1, "bookings_flagged": 0, "notified": 1}
    assert record.as_of == NOW and record.finished_at is not None and record.error is None
    assert len(messages(session, "credential_expired")) == 1


def test_period_keys_follow_the_schedule_and_the_clock_change():
    fall_back_first = datetime(2027, 10, 31, 0, 30, tzinfo=UTC)  # 02:30 summer time
    fall_back_second = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 winter time
    hourly, minutely, daily = JOBS["close-bookings"], JOBS["deliver-outbox"], JOBS["expire-credentials"]
    assert hourly.period_key(fall_back_first) != hourly.period_key(fall_back_second)
    assert hourly.period_key(fall_back_first) == "2027-10-31T02+0200"
    assert minutely.period_key(fall_back_second) == "2027-10-31T02:30+0100"
    # 23:30 UTC on 31 January is already 1 February in Norway.
    assert daily.period_key(datetime(2027, 1, 31, 23, 30, tzinfo=UTC)) == "2027-02-01"
    assert runner.manual_key(oslo(date(2027, 1, 31), 23, 30)) == "manual:2027-01-31T22:30:00+00:00"


def test_a_failed_run_is_recorded_and_the_period_can_be_run_again(session, expiring, monkeypatch):
    def broken(ctx):
        ctx.session.execute(sa.update(Credential).values(state="expired"))
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(JOBS, "expire-credentials", _replace(JOBS["expire-credentials"], run=broken))
    failed = run_job(session, "expire-credentials", NOW)
    assert (failed.outcome, failed.error) == ("failed", "RuntimeError: disk on fire")
    assert session.scalar(sa.select(Credential.state)) == "verified"  # rolled back: nothing half-done
    (record,) = runs(session)
    assert (record.outcome, record.error, record.counts) == ("failed", "RuntimeError: disk on fire", None)

    monkeypatch.undo()
    retried = run_job(session, "expire-credentials", NOW + timedelta(hours=1))
    assert (retried.outcome, retried.run_id, retried.counts["expired"]) == ("ok", record.id, 1)
    assert [r.outcome for r in runs(session)] == ["ok"]


def _replace(job, **changes):
    from dataclasses import replace

    return replace(job, **changes)


def test_a_run_left_running_by_a_dead_process_is_taken_over_only_when_stale(app, session, expiring):
    session.add(JobRun(job="expire-credentials", period_key="2027-02-01", trigger="schedule", as_of=NOW,
                       started_at=NOW, outcome="running", worker="dead:1"))
    session.commit()
    assert run_job(session, "expire-credentials", NOW + timedelta(minutes=30)).outcome == "skipped"
    taken = run_job(session, "expire-credentials", NOW + timedelta(minutes=61))
    assert taken.outcome == "ok" and taken.counts["expired"] == 1
    (record,) = runs(session)
    assert record.outcome == "ok" and record.worker != "dead:1"


def test_one_run_of_a_job_at_a_time_even_with_different_periods(app, session, expiring):
    """Another transaction holding the job's lock: PostgreSQL skips at once (advisory transaction lock);
    SQLite waits for the writer to finish (BEGIN IMMEDIATE). Either way the job's effects happen once."""
    holding, release = threading.Event(), threading.Event()

    def other_run():
        with app.app_context(), writing(), db.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(runner.lock_key(JOBS["expire-credentials"]))))
            else:
                conn.exec_driver_sql("SELECT 1")  # begun as BEGIN IMMEDIATE: the write lock
            holding.set()
            release.wait(10)
            conn.rollback()

    thread = threading.Thread(target=other_run)
    thread.start()
    holding.wait(10)
    if db.engine.dialect.name == "sqlite":
        threading.Timer(0.5, release.set).start()
    result = run_job(session, "expire-credentials", NOW, trigger="manual")
    release.set()
    thread.join(10)
    if db.engine.dialect.name == "postgresql":
        assert (result.outcome, result.error) == ("skipped", "Another run of this job was in progress.")
        assert runs(session)[0].outcome == "skipped"
        assert run_job(session, "expire-credentials", NOW + timedelta(seconds=1), trigger="manual").outcome == "ok"
    else:
        assert result.outcome == "ok"
    assert len(messages(session, "credential_expired")) == 1
    again = run_job(session, "expire-credentials", NOW + timedelta(seconds=2), trigger="manual")
    assert again.counts["expired"] == 0


def test_an_unknown_job_is_refused(session):
    with pytest.raises(UnknownJob, match="There is no job called 'nope'"):
        runner.run(session, "nope", NOW)


# The scheduler ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field, hours", [
    ("*", set(range(24))), ("1", {1}), ("1-3", {1, 2, 3}), ("*/6", {0, 6, 12, 18}), ("1,13", {1, 13}),
    ("22/1", {22, 23}),
])
def test_hours_of_a_crontab_field(field, hours):
    assert scheduler.hours_of(field) == hours


def test_nightly_jobs_stay_out_of_the_hour_the_clocks_change(app):
    for job in JOBS.values():  # the defaults
        trigger = scheduler.trigger_for(job, app.config)
        assert isinstance(trigger, CronTrigger)
        if job.period == "day":
            assert scheduler.DST_HOUR not in scheduler.hours_of(job.schedule(app.config).split()[1])
    config = dict(app.config, JOB_SCHEDULE_EXPIRE_CREDENTIALS="30 2 * * *")
    with pytest.raises(scheduler.ScheduleError, match="between 02:00 and 03:00"):
        scheduler.trigger_for(JOBS["expire-credentials"], config)
    config = dict(app.config, JOB_SCHEDULE_DELIVER_OUTBOX="every minute")
    with pytest.raises(scheduler.ScheduleError, match="not a crontab line"):
        scheduler.trigger_for(JOBS["deliver-outbox"], config)


def test_schedules_run_in_norwegian_time_across_the_clock_change(app):
    trigger = scheduler.trigger_for(JOBS["expire-credentials"], app.config)
    spring = trigger.get_next_fire_time(None, datetime(2027, 3, 28, 0, 0, tzinfo=OSLO))
    autumn = trigger.get_next_fire_time(None, datetime(2027, 10, 31, 0, 0, tzinfo=OSLO))
    assert (spring.hour, spring.minute, spring.utcoffset()) == (1, 15, timedelta(hours=1))
    assert (autumn.hour, autumn.minute, autumn.utcoffset()) == (1, 15, timedelta(hours=2))


def test_the_scheduler_coalesces_and_allows_one_instance(app, session):
    built = scheduler.build(app)
    jobs = {j.id: j for j in built.get_jobs()}
    assert set(jobs) == set(JOBS)
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 3600)
    assert str(built.timezone) == "Europe/Oslo"


def test_last_due_and_missed_runs(app, session):
    trigger = scheduler.trigger_for(JOBS["expire-credentials"], app.config)
    now = oslo(date(2027, 2, 1), 9, 0)
    assert scheduler.last_due(trigger, now, timedelta(hours=24)) == datetime(2027, 2, 1, 1, 15, tzinfo=OSLO)
    assert scheduler.last_due(trigger, oslo(date(2027, 2, 1), 1, 0), timedelta(hours=12)) is None
    missed = scheduler.missed(session, app.config, now)
    assert "expire-credentials" in missed and "deliver-outbox" not in missed  # minute jobs need no catching up
    run_job(session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))
    assert "expire-credentials" not in scheduler.missed(session, app.config, now)


def test_a_scheduler_that_was_down_catches_up_once(app, session):
    """Started with every daily and hourly run missed, it runs each once, at once, and records it."""
    saved = {k: app.config[k] for k in ("JOB_SCHEDULE_DELIVER_OUTBOX", "JOB_SCHEDULE_LAPSE_REQUESTS")}
    # Far-off schedules for the every-minute jobs, so only the catch-up runs happen during the test.
    app.config.update(JOB_SCHEDULE_DELIVER_OUTBOX="0 0 1 1 *", JOB_SCHEDULE_LAPSE_REQUESTS="0 0 1 1 *")
    try:
        process = scheduler.build(app)
        thread = threading.Thread(target=process.start, daemon=True)
        thread.start()
        expected = {name for name, job in JOBS.items() if job.period != "minute"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            done = {r.job for r in runs(session) if r.outcome != "running"}
            if done >= expected:
                break
            time.sleep(0.2)
        time.sleep(0.5)
        process.shutdown(wait=True)
        thread.join(10)
    finally:
        app.config.update(saved)
    records = runs(session)
    assert sorted(r.job for r in records) == sorted(expected)
    assert {(r.trigger, r.outcome) for r in records} == {("schedule", "ok")}


def test_each_job_has_words_for_people():
    for job in JOBS.values():
        assert str(job.title) and str(job.description)
    with pytest.raises(UnknownJob):
        job_table.get("expire")


def test_scheduled_runs_never_take_down_the_scheduler(app, session, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(JOBS, "lapse-requests", _replace(JOBS["lapse-requests"], run=broken))
    with time_machine.travel(NOW, tick=False):
        scheduler.run_scheduled(app, "lapse-requests")
    (record,) = runs(session)
    assert (record.job, record.outcome, record.error) == ("lapse-requests", "failed", "RuntimeError: boom")
