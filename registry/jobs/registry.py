"""The job table: every scheduled job, its schedule setting, its period and its words for people."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..domain.clock import OSLO
from . import (
    close_bookings,
    deliver_outbox,
    end_sanctions,
    expire_credentials,
    expiry_reminders,
    lapse_requests,
    purge_personal_data,
)
from .context import Context

# The period a scheduled run is for: at most one run of a job per period (JobRun's unique key).
PERIOD_FORMATS = {"day": "%Y-%m-%d", "hour": "%Y-%m-%dT%H%z", "minute": "%Y-%m-%dT%H:%M%z"}


class UnknownJob(LookupError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"There is no job called {self.name!r}. The jobs are: {', '.join(JOBS)}."


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[Context], dict[str, int]]
    schedule_setting: str
    period: str
    title: object
    description: object
    # The job commits as it goes (deliver-outbox claims each message in its own transaction), so it takes
    # no job-wide lock; its own claims keep it safe.
    own_transactions: bool = False

    def schedule(self, config) -> str:
        return str(config[self.schedule_setting]).strip()

    def period_key(self, now: datetime) -> str:
        """The Oslo date (daily jobs), hour or minute of `now`; with the offset, so the hour repeated when
        the clocks go back is a period of its own."""
        return now.astimezone(OSLO).strftime(PERIOD_FORMATS[self.period])


JOBS: dict[str, Job] = {job.name: job for job in (
    Job("expire-credentials", expire_credentials.run, "JOB_SCHEDULE_EXPIRE_CREDENTIALS", "day",
        _l("Expire credentials"),
        _l("Credentials past their last valid day expire, categories are recomputed, and coming bookings whose "
           "interpreter no longer qualifies are flagged. Interpreters and bookers are told.")),
    Job("expiry-reminders", expiry_reminders.run, "JOB_SCHEDULE_EXPIRY_REMINDERS", "day",
        _l("Remind before credentials expire"),
        _l("Interpreters are reminded before a credential expires (90, 30 and 7 days before), once each time.")),
    Job("end-sanctions", end_sanctions.run, "JOB_SCHEDULE_END_SANCTIONS", "day",
        _l("End sanctions"),
        _l("Suspensions and time-limited exclusions that have ended are lifted, and the interpreter is active "
           "again. Warnings stop counting after five years.")),
    Job("lapse-requests", lapse_requests.run, "JOB_SCHEDULE_LAPSE_REQUESTS", "minute",
        _l("Lapse unanswered requests"),
        _l("Direct requests that were not answered in time lapse, and so do open requests no one took before "
           "they started; the booker is told.")),
    Job("close-bookings", close_bookings.run, "JOB_SCHEDULE_CLOSE_BOOKINGS", "hour",
        _l("Close ended assignments"),
        _l("Confirmed assignments that have ended wait for the interpreter's time report; the interpreter is "
           "reminded after a day.")),
    Job("deliver-outbox", deliver_outbox.run, "JOB_SCHEDULE_DELIVER_OUTBOX", "minute",
        _l("Send email"),
        _l("Queued notifications are sent, in each recipient's language, and tried again later when sending "
           "fails."), own_transactions=True),
    Job("purge-personal-data", purge_personal_data.run, "JOB_SCHEDULE_PURGE_PERSONAL_DATA", "day",
        _l("Delete old personal data"),
        _l("Personal data past its retention period is deleted or made anonymous: booking free text, evidence "
           "of rejected applications, ended login sessions and sent email.")),
)}

OUTCOME_LABELS = {"running": _l("Running"), "ok": _l("Completed"), "failed": _l("Failed"),
                  "skipped": _l("Skipped")}
TRIGGER_LABELS = {"schedule": _l("On schedule"), "manual": _l("By command"), "admin": _l("By an administrator")}
COUNT_LABELS = {
    "expired": _l("Credentials expired"),
    "renewed": _l("Of those, already renewed"),
    "interpreters": _l("Interpreters affected"),
    "bookings_flagged": _l("Bookings flagged"),
    "notified": _l("Interpreters told"),
    "reminded": _l("Reminders sent"),
    "due_credentials": _l("Credentials due a reminder"),
    "lifted": _l("Sanctions lifted"),
    "reactivated": _l("Interpreters active again"),
    "warnings_counting": _l("Warnings that still count"),
    "lapsed": _l("Requests lapsed"),
    "awaiting_report": _l("Assignments waiting for a time report"),
    "sent": _l("Sent"),
    "retrying": _l("To be tried again"),
    "failed": _l("Failed"),
    "requeued": _l("Interrupted deliveries queued again"),
    "taken_by_another": _l("Taken by another sender"),
    "booking_texts": _l("Bookings made anonymous"),
    "evidence_files": _l("Evidence files deleted"),
    "sessions": _l("Login sessions deleted"),
    "rejected_applicants": _l("Rejected applicants made anonymous"),
    "sent_mail": _l("Sent and undeliverable emails made anonymous"),
    "job_runs": _l("Old run records deleted"),
}


def get(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(name) from None
