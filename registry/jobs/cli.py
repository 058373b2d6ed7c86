"""`flask --app registry jobs list|run` and `flask --app registry scheduler`."""

import logging
import signal
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..domain import clock
from ..domain.clock import OSLO
from ..domain.errors import InvalidInput
from ..domain.times import AmbiguousTime, to_utc
from ..extensions import db
from . import runner
from .registry import JOBS, UnknownJob, get
from .scheduler import ScheduleError, Stopper, build, next_run

jobs = AppGroup("jobs", help="Scheduled jobs: list them, or run one now.")


def parse_now(value: str) -> datetime:
    """An ISO 8601 time; with no offset it is Norwegian time (refused when that time does not exist or is
    ambiguous, as on the nights the clocks change)."""
    text = (value or "").strip()
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time; give one like 2027-01-31T23:30:00+01:00.",
                                 param_hint="--now") from None
    if moment.tzinfo is not None:
        return moment
    try:
        return to_utc(moment, "now")
    except AmbiguousTime:
        raise click.BadParameter(f"{text} happens twice in Norway (the clocks go back); add the offset, "
                                 "+02:00 for the first or +01:00 for the second.", param_hint="--now") from None
    except InvalidInput:
        raise click.BadParameter(f"{text} does not exist in Norway (the clocks go forward); add an offset or "
                                 "choose another time.", param_hint="--now") from None


def _when(moment: datetime | None) -> str:
    return moment.astimezone(OSLO).strftime("%Y-%m-%d %H:%M %z") if moment else "-"


def _counts(counts: dict | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in (counts or {}).items()) or "-"


@jobs.command("list")
def jobs_list() -> None:
    """Every job with its schedule, next and last run, outcome and counts (or error)."""
    config, now = current_app.config, clock.now()
    runs = runner.last_runs(db.session)
    rows = [("JOB", "SCHEDULE", "NEXT RUN", "LAST RUN", "OUTCOME", "COUNTS")]
    for name, job in JOBS.items():
        last = runs.get(name)
        rows.append((name, job.schedule(config), _when(next_run(job, config, now)),
                     _when(last.started_at) if last else "never", last.outcome if last else "-",
                     (last.error or _counts(last.counts)) if last else "-"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for *cells, last_cell in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + "  " + last_cell)


@jobs.command("run")
@click.argument("name")
@click.option("--now", "now_text", metavar="ISO-8601",
              help="Run as if at this time, e.g. 2027-01-31T23:30:00+01:00 (without an offset: Norwegian time).")
def jobs_run(name: str, now_text: str | None) -> None:
    """Run one job once, now or as if at --now, and print what it did."""
    try:
        get(name)
    except UnknownJob as error:
        raise click.UsageError(str(error)) from None
    now = parse_now(now_text) if now_text is not None else clock.now()
    result = runner.run(db.session, name, now, trigger="manual")
    click.echo(f"{name} as of {now.astimezone(OSLO).isoformat()}: {result.outcome}"
               + (f" (run {result.run_id})" if result.run_id else ""))
    for key, value in result.counts.items():
        click.echo(f"  {key}: {value}")
    if result.outcome == "failed":
        raise click.ClickException(result.error or "the job failed")
    if result.outcome == "skipped":
        click.echo(result.error)


@click.command("scheduler")
@with_appcontext
def scheduler() -> None:
    """Run the scheduler process (one per installation, never inside web workers)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("registry").setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # misfires and errors; not every run
    app = current_app._get_current_object()
    try:
        process = build(app)
    except ScheduleError as error:
        raise click.ClickException(str(error)) from None
    # `kill` (and `make run` ending) stops it as Ctrl-C does, once (scheduler.Stopper). The handlers are in place
    # before the jobs are listed, so a signal once they are (before the scheduler runs) stops it before it starts.
    stop = Stopper(process)
    interrupt = signal.getsignal(signal.SIGINT)  # Python's KeyboardInterrupt; ignored when started with & (make run)
    try:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        now = clock.now()
        click.echo("Scheduler running (Europe/Oslo). Jobs:")
        for name, job in JOBS.items():
            click.echo(f"  {name:<22} {job.schedule(app.config):<14} next {_when(next_run(job, app.config, now))}")
        process.start()
    except KeyboardInterrupt:
        stop.shut_down()
    # Stopped: a later SIGTERM is ignored by the operating system, also while Python exits (it puts back the default,
    # death, for a signal with a handler of its own as it exits, and then a second SIGTERM killed the stopped
    # process, exit status -15; it leaves SIG_IGN alone). Ctrl-C does again what it did before the scheduler ran.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, interrupt)
    click.echo("Scheduler stopped.")


COMMANDS = [jobs, scheduler]
