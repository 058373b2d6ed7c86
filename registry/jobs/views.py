"""The registry admins' page of scheduled jobs: schedule, last run, outcome and counts, a "run now"
button for each, and the email that could not be delivered."""

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..access import roles
from ..domain import clock
from ..extensions import db
from ..models import JobRun
from . import deliver_outbox, runner
from .registry import COUNT_LABELS, JOBS, OUTCOME_LABELS, TRIGGER_LABELS, Job, UnknownJob, get
from .scheduler import next_run

bp = Blueprint("jobs_admin", __name__, url_prefix="/admin/jobs")


@dataclass(frozen=True)
class Row:
    job: Job
    schedule: str
    next_run: datetime | None
    last: JobRun | None


@bp.get("")
@roles("registry_admin")
def index():
    config, now = current_app.config, clock.now()
    runs = runner.last_runs(db.session)
    rows = [Row(job, job.schedule(config), next_run(job, config, now), runs.get(name)) for name, job in JOBS.items()]
    failed, failed_total = deliver_outbox.failed_messages(db.session)
    return render_template("jobs/index.html", rows=rows, failed=failed, failed_total=failed_total,
                           mail_backend=config["MAIL_BACKEND"], mail_server=config["MAIL_SERVER"],
                           COUNT_LABELS=COUNT_LABELS, OUTCOME_LABELS=OUTCOME_LABELS, TRIGGER_LABELS=TRIGGER_LABELS)


@bp.post("/<name>/run")
@roles("registry_admin")
def run_now(name: str):
    try:
        job = get(name)
    except UnknownJob:
        abort(404)
    result = runner.run_by_hand(db.session, name, clock.now(), actor=current_user._get_current_object(),
                                ip=request.remote_addr)
    if result.outcome == "ok":
        done = ", ".join(f"{COUNT_LABELS.get(k, k)}: {v}" for k, v in result.counts.items())
        flash(_("%(job)s has run. %(counts)s", job=job.title, counts=done), "success")
    elif result.outcome == "failed":
        flash(_("%(job)s failed: %(error)s", job=job.title, error=result.error), "error")
    else:
        flash(_("%(job)s did not run: another run of it was in progress. Try again in a moment.", job=job.title),
              "warning")
    return redirect(url_for("jobs_admin.index"), 303)


@bp.post("/outbox/<int:message_id>/retry")
@roles("registry_admin")
def retry_message(message_id: int):
    message = deliver_outbox.retry(db.session, message_id, clock.now(), actor=current_user._get_current_object(),
                                   ip=request.remote_addr)
    db.session.commit()
    flash(_("The message to %(recipient)s is queued again and goes out with the next delivery.",
            recipient=message.recipient), "success")
    return redirect(url_for("jobs_admin.index", _anchor="failed-mail"), 303)
