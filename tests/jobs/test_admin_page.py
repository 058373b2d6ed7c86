"""The registry admins' jobs page: schedules, last runs, "run now" (CSRF, audited) and failed email."""

from datetime import date

import pytest
import sqlalchemy as sa

from registry.models import AuditEntry, JobRun, OutboxMessage
from tests.helpers import interpreter
from tests.jobs.conftest import oslo, run_job
from tests.web.conftest import log_in, users, web_config  # noqa: F401  (fixtures)


def fresh(session):
    session.rollback()
    return session


@pytest.fixture
def admin_client(client, session, users):  # noqa: F811
    log_in(client, users.admin)
    session.rollback()  # the test's own session starts afresh after what the requests committed
    return client


def test_the_page_shows_every_job_with_schedule_last_run_outcome_and_counts(admin_client, session):
    interpreter(session, "Amina Ali", email="amina@example.no", today=date(2027, 1, 1), credentials=[
        ("authorisation", "ar", {"valid_until": date(2027, 1, 31)})])
    run_job(session, "expire-credentials", oslo(date(2027, 2, 1), 1, 15))
    page = admin_client.get("/admin/jobs?lang=en")
    assert page.status_code == 200
    html = page.text
    for title in ("Expire credentials", "Remind before credentials expire", "End sanctions",
                  "Lapse unanswered requests", "Close ended assignments", "Send email", "Delete old personal data"):
        assert title in html
    assert "<code>15 1 * * *</code>" in html and "<code>* * * * *</code>" in html
    row = html[html.index('id="job-expire-credentials"'):html.index('id="job-expiry-reminders"')]
    assert "Completed" in row and "Credentials expired: <strong>1</strong>" in row
    assert '<time datetime="2027-02-01T00:15:00+00:00">2/1/27, 1:15' in row and "On schedule" in row
    assert html.count(">Run now<") == 7
    assert "No messages have failed." in html


def test_run_now_runs_the_job_records_it_and_audits_who(admin_client, session, users):  # noqa: F811
    response = admin_client.post("/admin/jobs/lapse-requests/run?lang=en")
    assert response.status_code == 303 and response.location.endswith("/admin/jobs")
    record = fresh(session).scalar(sa.select(JobRun))
    assert (record.job, record.trigger, record.outcome, record.counts) == ("lapse-requests", "admin", "ok",
                                                                           {"lapsed": 0})
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "job.run"))
    assert (entry.actor_label, entry.object_type, entry.object_id) == ("admin@imdi.no", "job", "lapse-requests")
    assert entry.after["outcome"] == "ok" and entry.after["run_id"] == record.id
    page = admin_client.get("/admin/jobs?lang=en").text
    assert "Lapse unanswered requests has run. Requests lapsed: 0" in page
    assert "By an administrator" in page


def test_an_unknown_job_is_404_and_runs_nothing(admin_client, session):
    assert admin_client.post("/admin/jobs/expire-everything/run").status_code == 404
    assert fresh(session).scalar(sa.select(sa.func.count(JobRun.id))) == 0


def test_run_now_without_a_csrf_token_is_refused(app, admin_client, session):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = admin_client.post("/admin/jobs/lapse-requests/run")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert fresh(session).scalar(sa.select(sa.func.count(JobRun.id))) == 0


@pytest.mark.parametrize("who", ["booker", "interpreter", "agency_admin"])
def test_only_registry_admins_may_see_or_run_jobs(client, session, users, who):  # noqa: F811
    log_in(client, getattr(users, who))
    assert client.get("/admin/jobs").status_code == 403
    assert client.post("/admin/jobs/lapse-requests/run").status_code == 403
    assert fresh(session).scalar(sa.select(sa.func.count(JobRun.id))) == 0


def test_anonymous_visitors_are_sent_to_log_in(client, session):
    response = client.get("/admin/jobs")
    assert response.status_code == 302 and "/login" in response.location


def test_failed_email_is_shown_with_its_error_and_can_be_sent_again(admin_client, session):
    session.add(OutboxMessage(event_key="e1", kind="invitation", recipient="nobody@example.no", locale="nb",
                              params={"name": "Nobody", "link": "https://x"}, state="failed", attempts=1,
                              last_error="nobody@example.no: 550 5.1.1 No such user here"))
    session.commit()
    page = admin_client.get("/admin/jobs?lang=en").text
    assert "Email that could not be sent" in page
    assert "nobody@example.no: 550 5.1.1 No such user here" in page and "<code>invitation</code>" in page
    message_id = session.scalar(sa.select(OutboxMessage.id))

    response = admin_client.post(f"/admin/jobs/outbox/{message_id}/retry?lang=en")
    assert response.status_code == 303
    message = fresh(session).get(OutboxMessage, message_id)
    assert (message.state, message.attempts) == ("queued", 0)
    assert message.last_error.startswith("nobody@example.no: 550")  # kept until it is sent
    assert session.scalar(sa.select(AuditEntry.action).where(AuditEntry.object_type == "outbox")) == "outbox.retried"
    assert "No messages have failed." in admin_client.get("/admin/jobs?lang=en").text
    # Sent again twice (two admins at once): the second finds nothing to do.
    assert admin_client.post(f"/admin/jobs/outbox/{message_id}/retry").status_code == 409
    assert admin_client.post("/admin/jobs/outbox/999999/retry").status_code == 404
