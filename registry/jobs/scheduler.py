"""The scheduler process: APScheduler's blocking scheduler in Norwegian time, one per installation.

Schedules are crontab lines (JOB_SCHEDULE_* settings). Coalescing and the misfire grace time make a
scheduler that fell behind run a job once, not once per missed time; at start, a daily or hourly run
missed while the scheduler was down (within JOB_CATCH_UP_HOURS) is made once, at once. Each run gets
an app context of its own and begins its transactions as writes (SQLite: BEGIN IMMEDIATE).
"""

import contextlib
import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from ..domain import clock
from ..domain.clock import OSLO
from ..extensions import db
from ..models import JobRun
from . import runner
from .registry import JOBS, Job

log = logging.getLogger("registry.jobs")
# Clocks change between 02:00 and 03:00: a daily run then would be skipped or made twice.
DST_HOUR = 2


class ScheduleError(ValueError):
    pass


def hours_of(field: str) -> set[int]:
    """The hours a crontab hour field names ("*", "1", "1-4", "*/6", "1,13")."""
    hours: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            low, high = 0, 23
        elif "-" in span:
            low, high = (int(x) for x in span.split("-", 1))
        else:
            low = int(span)
            high = 23 if step else low
        hours.update(range(low, high + 1, int(step) if step else 1))
    return hours


def trigger_for(job: Job, config) -> CronTrigger:
    """The job's trigger from its crontab setting; a bad line, or a nightly job in the DST hour, is refused."""
    line = job.schedule(config)
    try:
        trigger = CronTrigger.from_crontab(line, timezone=OSLO)
        hours = hours_of(line.split()[1])
    except (ValueError, IndexError) as error:
        raise ScheduleError(f"{job.schedule_setting} = {line!r} is not a crontab line "
                            f"(minute hour day month weekday): {error}") from None
    if job.period == "day" and DST_HOUR in hours:
        raise ScheduleError(f"{job.schedule_setting} = {line!r} runs between 02:00 and 03:00, the hour the clocks "
                            "change; choose another time.")
    return trigger


def next_run(job: Job, config, now: datetime) -> datetime | None:
    try:
        return trigger_for(job, config).get_next_fire_time(None, now.astimezone(OSLO))
    except ScheduleError:
        return None


def last_due(trigger: CronTrigger, now: datetime, window: timedelta) -> datetime | None:
    """The latest time at or before `now` (and within `window`) that the trigger fired or should have."""
    last = None
    moment = trigger.get_next_fire_time(None, (now - window).astimezone(OSLO))
    while moment is not None and moment <= now:
        last = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(microseconds=1))
    return last


def missed(session, config, now: datetime) -> list[str]:
    """Daily and hourly jobs whose last due run (within JOB_CATCH_UP_HOURS) never ran or failed."""
    window = timedelta(hours=config["JOB_CATCH_UP_HOURS"])
    names = []
    for job in JOBS.values():
        if job.period == "minute":
            continue  # they run again within minutes anyway
        due = last_due(trigger_for(job, config), now, window)
        if due is None:
            continue
        done = session.scalar(sa.select(JobRun.id).where(
            JobRun.job == job.name, JobRun.as_of >= due, JobRun.outcome.in_(("ok", "running"))).limit(1))
        if done is None:
            names.append(job.name)
    session.rollback()
    return names


def run_scheduled(app, name: str) -> None:
    """One scheduled run, in an app context of its own; an error is logged, never kills the scheduler."""
    with app.app_context():
        try:
            result = runner.run(db.session, name, clock.now(), trigger="schedule")
            if result.outcome == "failed":
                log.error("Job %s failed: %s", name, result.error)
        except Exception:
            log.exception("Job %s could not be run", name)
        finally:
            db.session.remove()


def build(app) -> BlockingScheduler:
    """The scheduler with every job added; raises ScheduleError for a bad schedule setting."""
    config = app.config
    triggers = {name: trigger_for(job, config) for name, job in JOBS.items()}
    # Missed times collapse into one run; one run of a job at a time; a run later than the grace is dropped.
    policy = {"coalesce": True, "max_instances": 1, "misfire_grace_time": int(config["JOB_MISFIRE_GRACE_SECONDS"])}
    scheduler = BlockingScheduler(timezone=OSLO, job_defaults=policy)
    with app.app_context():
        catch_up = set(missed(db.session, config, clock.now()))
        db.session.remove()
    start = datetime.now(OSLO)
    for name, trigger in triggers.items():
        extra = {"next_run_time": start} if name in catch_up else {}
        if name in catch_up:
            log.info("Job %s missed its last run; running it once now", name)
        scheduler.add_job(run_scheduled, trigger, args=(app, name), id=name, name=name, **policy, **extra)
    return scheduler


class Stopper:
    """What SIGTERM and Ctrl-C do to the scheduler process: stop it once, as Ctrl-C would stop a program (no new
    runs; the running ones finish as Python exits), and ignore the signals that follow, such as the second SIGTERM
    `make run`'s trap sends to its process group.

    A signal handler runs in the main thread wherever that thread is, also inside the scheduler holding one of its
    locks: submitting a job to its thread pool holds the pool's lock. Shutting the scheduler down from the handler
    then waited for that lock forever (1 of 42 stops, at start, when the runs it missed are submitted at once), so
    the handler hands the shutdown to a thread of its own, which waits for the main thread to let the lock go.
    Before the scheduler runs, the handler raises KeyboardInterrupt, which leaves `start()` or keeps it from being
    called; a KeyboardInterrupt once it runs could be swallowed by the scheduler (it logs any exception while
    submitting a job and goes on)."""

    def __init__(self, process: BlockingScheduler):
        self.process = process
        self.stopping = False

    def __call__(self, _signum=None, _frame=None) -> None:
        if self.stopping:
            return
        self.stopping = True
        if not self.process.running:
            raise KeyboardInterrupt
        threading.Thread(target=self.shut_down, name="scheduler-stop").start()

    def shut_down(self) -> None:
        """Stop the scheduler if it runs; a second stop (a signal and Ctrl-C at once) changes nothing."""
        self.stopping = True
        with contextlib.suppress(SchedulerNotRunningError):
            self.process.shutdown(wait=False)
