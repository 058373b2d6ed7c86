"""`flask --app registry jobs list|run` and `scheduler`: output, bad input, and two processes at once."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.blocking import BlockingScheduler

from registry.domain.clock import OSLO
from registry.jobs.scheduler import Stopper
from registry.models import AuditEntry, Booking, Credential, JobRun, OutboxMessage
from tests.helpers import interpreter, user
from tests.jobs.conftest import make_booking, oslo, run_job

ROOT = Path(__file__).resolve().parents[2]
NOW_TEXT = "2027-02-01T01:15:00+01:00"


@pytest.fixture
def cli(app):
    return app.test_cli_runner()


@pytest.fixture
def expiring(session):
    person = interpreter(session, "Amina Ali", email="amina@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 1, 31)})])
    return person


def test_jobs_list_shows_every_job_with_schedule_last_run_outcome_and_counts(cli, session, expiring):
    run_job(session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))
    result = cli.invoke(args=["jobs", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["JOB", "SCHEDULE", "NEXT", "RUN", "LAST", "RUN", "OUTCOME", "COUNTS"]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"expire-credentials", "expiry-reminders", "end-sanctions", "lapse-requests",
                         "close-bookings", "deliver-outbox", "purge-personal-data"}
    assert "15 1 * * *" in rows["expire-credentials"]
    assert "2027-02-01 01:15 +0100" in rows["expire-credentials"]
    assert "ok" in rows["expire-credentials"] and "expired=1, renewed=0, interpreters=1" in rows["expire-credentials"]
    assert "never" in rows["deliver-outbox"]


def test_jobs_run_runs_once_as_if_at_the_time_given_and_prints_counts(cli, session, expiring):
    result = cli.invoke(args=["jobs", "run", "expire-credentials", "--now", NOW_TEXT])
    assert result.exit_code == 0, result.output
    assert "expire-credentials as of 2027-02-01T01:15:00+01:00: ok" in result.output
    assert "  expired: 1" in result.output and "  notified: 1" in result.output
    record = session.scalar(sa.select(JobRun))
    assert (record.trigger, record.period_key) == ("manual", "manual:2027-02-01T00:15:00+00:00")

    again = cli.invoke(args=["jobs", "run", "expire-credentials", "--now", NOW_TEXT])
    assert again.exit_code == 0 and "skipped" in again.output and "already run" in again.output


def test_a_time_without_offset_is_norwegian_time(cli, session, expiring):
    # 31 January 23:30 in Norway: the credential is still valid.
    result = cli.invoke(args=["jobs", "run", "expire-credentials", "--now", "2027-01-31T23:30"])
    assert result.exit_code == 0 and "expired: 0" in result.output
    result = cli.invoke(args=["jobs", "run", "expire-credentials", "--now", "2027-02-01T00:00:30"])
    assert result.exit_code == 0 and "expired: 1" in result.output


@pytest.mark.parametrize("args, message", [
    (["jobs", "run", "expire-everything"], "There is no job called 'expire-everything'. The jobs are: "
                                           "expire-credentials, expiry-reminders"),
    (["jobs", "run", "deliver-outbox", "--now", "tomorrow"], "'tomorrow' is not an ISO 8601 time"),
    (["jobs", "run", "deliver-outbox", "--now", "2027-13-01T00:00:00"], "is not an ISO 8601 time"),
    (["jobs", "run", "deliver-outbox", "--now", "2027-03-28T02:30"], "does not exist in Norway"),
    (["jobs", "run", "deliver-outbox", "--now", "2027-10-31T02:30"], "happens twice in Norway"),
    (["jobs", "run"], "Missing argument 'NAME'"),
])
def test_bad_input_gets_a_clear_message_and_a_non_zero_exit(cli, session, args, message):
    result = cli.invoke(args=args)
    assert result.exit_code == 2
    assert message in result.output
    assert session.scalar(sa.select(sa.func.count(JobRun.id))) == 0


def test_a_failing_job_exits_non_zero_with_its_error(app, cli, session):
    from registry.domain import notifications

    notifications.enqueue(session, "sanction_ended", "kari@example.no", event_key="e1", name="Kari")
    session.commit()
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=1)  # nothing listens there
    try:
        result = cli.invoke(args=["jobs", "run", "deliver-outbox"])
    finally:
        app.config.update(saved)
    assert result.exit_code == 1
    assert "failed" in result.output and "cannot use the mail server 127.0.0.1:1" in result.output
    assert session.scalar(sa.select(OutboxMessage.state)) == "queued"


def test_the_scheduler_refuses_a_bad_schedule(app, cli):
    app.config["JOB_SCHEDULE_PURGE_PERSONAL_DATA"], saved = "15 2 * * *", app.config["JOB_SCHEDULE_PURGE_PERSONAL_DATA"]
    try:
        result = cli.invoke(args=["scheduler"])
    finally:
        app.config["JOB_SCHEDULE_PURGE_PERSONAL_DATA"] = saved
    assert result.exit_code == 1
    assert "JOB_SCHEDULE_PURGE_PERSONAL_DATA = '15 2 * * *' runs between 02:00 and 03:00" in result.output


def test_a_stop_while_the_scheduler_submits_a_job_does_not_wait_for_itself():
    """A signal's handler runs in the main thread wherever it is. While the scheduler submits a job, that thread
    holds its thread pool's lock; a shutdown made by the handler itself then waited for that lock forever (seen:
    the scheduler hung on SIGTERM in 1 of 42 starts with missed runs to make). Here a thread plays the main thread,
    holding the lock as it does while submitting, and is stopped; the scheduler runs in a thread of its own.
    (The pool and its lock are APScheduler's and concurrent.futures' own attributes, read to stand where the
    signal came.)"""
    process = BlockingScheduler(timezone=OSLO)
    scheduling = threading.Thread(target=process.start, daemon=True)
    scheduling.start()
    for _ in range(500):
        if process.running:
            break
        time.sleep(0.01)
    stop = Stopper(process)
    pool = process._lookup_executor("default")._pool

    def interrupted_while_submitting():
        with pool._shutdown_lock:
            stop()

    main = threading.Thread(target=interrupted_while_submitting, daemon=True)
    main.start()
    main.join(5)
    assert not main.is_alive()  # the handler returned while the lock was held
    scheduling.join(5)
    assert not scheduling.is_alive() and not process.running
    stop()  # a second signal changes nothing


def test_a_stop_before_the_scheduler_runs_keeps_it_from_starting():
    stop = Stopper(BlockingScheduler(timezone=OSLO))
    with pytest.raises(KeyboardInterrupt):  # leaves start(), or keeps it from being called, as Ctrl-C would
        stop()
    stop()  # a second signal changes nothing
    stop.shut_down()  # nothing runs: nothing to stop, and no error
    assert not stop.process.running


@pytest.mark.parametrize("after, first", [(0.0, signal.SIGTERM), (1.5, signal.SIGTERM), (1.5, signal.SIGINT)],
                         ids=["at-once", "running", "ctrl-c"])
def test_the_scheduler_stops_on_sigterm_and_a_second_one_changes_nothing(app, after, first):
    """`kill` stops the scheduler as Ctrl-C does; when `make run` is stopped by a signal to its process group, the
    scheduler gets that SIGTERM and then the Makefile trap's own, and it still exits cleanly, without a traceback,
    also when that one comes as Python exits (on a fast machine it came 2-80 ms after "Scheduler stopped." and the
    process was killed, exit status -15). At once, the signals may come before the scheduler has started: it then
    does not start."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="test-secret-key",
               REGISTRY_MAIL_LOG_ON_QUEUE="false", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "scheduler"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    watchdog = threading.Timer(90, process.kill)  # a scheduler that never stops fails the test, not the suite
    watchdog.start()
    try:
        lines = []
        for line in process.stdout:  # started once it lists the jobs
            lines.append(line)
            if line.startswith("  purge-personal-data"):
                break
        assert any("Scheduler running" in line for line in lines), lines
        time.sleep(after)
        process.send_signal(first)  # Ctrl-C (SIGINT) stops it the same way, once (scheduler.Stopper)
        for line in process.stdout:  # the trap's SIGTERM comes as the scheduler stops
            lines.append(line)
            if "Scheduler stopped." in line:
                process.send_signal(signal.SIGTERM)
                # And one as Python exits, which puts back the default (death) for a signal it handles itself.
                time.sleep(0.02)
                os.kill(process.pid, signal.SIGTERM)  # not reaped until communicate(): this pid is the scheduler's
                break
        output = "".join(lines) + process.communicate(timeout=60)[0]
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output
    assert "Scheduler stopped." in output
    assert "Traceback" not in output and "SchedulerNotRunningError" not in output, output


def _process(app, now_text: str) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="test-secret-key",
               REGISTRY_MAIL_LOG_ON_QUEUE="false", PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "registry", "jobs", "run", "expire-credentials",
                             "--now", now_text], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


@pytest.mark.parametrize("second_now", [NOW_TEXT, "2027-02-01T01:15:01+01:00"],
                         ids=["same-period", "different-periods"])
def test_two_processes_at_the_same_moment_do_everything_once(app, session, second_now):
    """Two `jobs run` processes on one database: with the same --now one of them runs (the run record's
    unique key); with different ones both may run, and the lock and idempotent statements leave every
    effect once: each credential expired once, each booking flagged once, each person told once."""
    booker = user(session, "booker@helse.example")
    people = []
    for n in range(30):
        person = interpreter(session, f"Tolk {n}", email=f"tolk{n}@example.no", today=date(2027, 1, 1), credentials=[
            ("authorisation", "ar"), ("bachelor", "ar", {"valid_until": date(2027, 1, 31)})])
        make_booking(session, booker, person, oslo(date(2027, 2, 10), 10) + timedelta(hours=n), min_category="B")
        people.append(person)

    first, second = _process(app, NOW_TEXT), _process(app, second_now)
    outputs = [p.communicate(timeout=120)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert sum("expired: 30" in out for out in outputs) == 1, outputs

    session.rollback()
    assert session.scalars(sa.select(Credential.state).where(Credential.type == "bachelor")).all() == ["expired"] * 30
    assert session.scalar(sa.select(sa.func.count(Booking.id)).where(Booking.warn_not_qualified)) == 30
    kinds = session.execute(sa.select(OutboxMessage.kind, sa.func.count()).group_by(OutboxMessage.kind)).all()
    # Each interpreter's notice lists their flagged booking; the one booker gets one message listing all 30.
    assert dict(kinds) == {"credential_expired": 30, "booking_flagged": 1}
    (digest,) = session.scalars(sa.select(OutboxMessage).where(OutboxMessage.kind == "booking_flagged")).all()
    assert len(digest.params["bookings"]) == 30
    flagged = session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "booking.flagged_not_qualified"))
    assert flagged == 30
    outcomes = sorted(session.scalars(sa.select(JobRun.outcome)))
    if second_now == NOW_TEXT:
        assert outcomes == ["ok"]
        assert sum("already run for this period" in out for out in outputs) == 1
    else:
        assert outcomes in (["ok", "ok"], ["ok", "skipped"])
