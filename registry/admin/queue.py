"""The work queue: applications and waiting credentials, oldest first, with their evidence; approve or reject."""

from flask import current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from wtforms import StringField

from .. import paging
from ..access import roles
from ..agency.views import invitation_link, invitation_valid_for, me
from ..database import discard, writing
from ..domain import clock, evidence
from ..domain import work_queue as rules
from ..domain.admin_records import validity_years
from ..domain.errors import InvalidInput
from ..extensions import db
from ..interpreter.forms import CREDENTIAL_TYPE, show_errors
from . import forms
from .views import bp, submit_form


def _label(credential) -> str:
    name = str(CREDENTIAL_TYPE[credential.type])
    if credential.language_code:
        name += f" ({current_app.jinja_env.filters['language_name'](credential.language_code)})"
    return name


def application_form(application, formdata=None, years: dict | None = None):
    """Approval of an application: one valid-until field per waiting credential, filled with the suggestion
    (`years`: the types' default validity, read once for a page of forms)."""

    class ApplicationForm(forms.ConfirmForm):
        pass

    waiting = [c for c in application.interpreter.credentials if c.state == "pending"]
    for credential in waiting:
        setattr(ApplicationForm, f"valid_until_{credential.id}",
                StringField(_("Valid until: %(credential)s", credential=_label(credential))))
    data = {f"valid_until_{c.id}": _iso(rules.suggested_valid_until(db.session, c, years)) for c in waiting}
    kwargs = {"formdata": None} if formdata is None else {}
    return ApplicationForm(prefix=f"a{application.id}", data=data, **kwargs)


def credential_form(credential, formdata=None, years: dict | None = None):
    kwargs = {"formdata": None} if formdata is None else {}
    suggested = rules.suggested_valid_until(db.session, credential, years)
    return forms.ApproveCredentialForm(prefix=f"c{credential.id}", data={"valid_until": _iso(suggested)}, **kwargs)


def reject_form(prefix: str, formdata=None):
    kwargs = {"formdata": None} if formdata is None else {}
    return forms.ReasonForm(prefix=prefix, **kwargs)


def _iso(day) -> str:
    return day.isoformat() if day else ""


@bp.get("")
@roles("registry_admin")
def home():
    return redirect(url_for("admin.work_queue"))


@bp.get("/queue")
@roles("registry_admin")
def work_queue():
    applications = paging.decode_timed("queue-applications", request.args.get("applications"))
    credentials = paging.decode_timed("queue-credentials", request.args.get("credentials"))
    found = rules.queue(db.session, applications_after=applications, credentials_after=credentials,
                        limit=current_app.config["PAGE_SIZE"])
    years = validity_years(db.session)
    return render_template(
        "admin/queue.html", queue=found,
        applications_next=paging.encode_timed("queue-applications", found.applications_next),
        credentials_next=paging.encode_timed("queue-credentials", found.credentials_next),
        application_forms={a.id: application_form(a, years=years) for a in found.applications},
        credential_forms={c.id: credential_form(c, years=years) for c in found.credentials},
        reject_forms={**{f"ar{a.id}": reject_form(f"ar{a.id}") for a in found.applications},
                      **{f"cr{c.id}": reject_form(f"cr{c.id}") for c in found.credentials}})


def _application_page(application, approve=None, reject=None, status: int = 200):
    return render_template(
        "admin/queue_application.html", application=application,
        approve_form=approve or application_form(application),
        reject_form=reject or reject_form(f"ar{application.id}")), status


def _credential_page(credential, approve=None, reject=None, status: int = 200):
    return render_template(
        "admin/queue_credential.html", credential=credential,
        in_application=rules.pending_application_of(db.session, credential.interpreter_id) is not None,
        approve_form=approve or credential_form(credential),
        reject_form=reject or reject_form(f"cr{credential.id}")), status


@bp.get("/queue/applications/<int:application_id>")
@roles("registry_admin")
def queue_application(application_id: int):
    return _application_page(rules.get_application(db.session, application_id))


def _to_queue(message: str):
    flash(message, "success")
    return redirect(url_for("admin.work_queue"), 303)


@bp.post("/queue/applications/<int:application_id>/approve")
@roles("registry_admin")
def approve_application(application_id: int):
    application = rules.get_application(db.session, application_id)
    form = application_form(application, formdata=request.form)
    if not form.validate_on_submit():
        return _application_page(application, approve=form, status=422)
    dates = {int(name.rsplit("_", 1)[1]): field.data for name, field in form._fields.items()
             if name.startswith("valid_until_")}
    try:
        rules.approve_application(db.session, me(), application_id, dates, clock.now(), invitation_link,
                                       valid_for=invitation_valid_for(), ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        application = rules.get_application(db.session, application_id)
        form = application_form(application, formdata=request.form)
        show_errors(form, error)
        return _application_page(application, approve=form, status=422)
    db.session.commit()
    interpreter = application.interpreter
    flash(_("%(name)s is approved and listed for the languages they are qualified in. An invitation to log in "
            "has been sent to them.", name=interpreter.name), "success")
    return redirect(url_for("admin.work_queue"), 303)


@bp.post("/queue/applications/<int:application_id>/reject")
@roles("registry_admin")
def reject_application(application_id: int):
    application = rules.get_application(db.session, application_id)
    form = reject_form(f"ar{application_id}", formdata=request.form)
    return submit_form(
        form, lambda: rules.reject_application(db.session, me(), application_id, form.reason.data, clock.now(),
                                               ip=request.remote_addr),
        lambda status: _application_page(rules.get_application(db.session, application_id), reject=form,
                                         status=status),
        lambda _result: _to_queue(_("The application from %(name)s is rejected. They have been sent the reason.",
                                    name=application.interpreter.name)))


@bp.get("/queue/credentials/<int:credential_id>")
@roles("registry_admin")
def queue_credential(credential_id: int):
    return _credential_page(rules.get_credential(db.session, credential_id))


@bp.post("/queue/credentials/<int:credential_id>/approve")
@roles("registry_admin")
def approve_credential(credential_id: int):
    credential = rules.get_credential(db.session, credential_id)
    form = credential_form(credential, formdata=request.form)
    return submit_form(
        form, lambda: rules.approve_credential(db.session, me(), credential_id, form.valid_until.data, clock.now(),
                                               ip=request.remote_addr),
        lambda status: _credential_page(rules.get_credential(db.session, credential_id), approve=form, status=status),
        lambda _result: _to_queue(_("The credential of %(name)s is verified; their categories are updated.",
                                    name=credential.interpreter.name)))


@bp.post("/queue/credentials/<int:credential_id>/reject")
@roles("registry_admin")
def reject_credential(credential_id: int):
    credential = rules.get_credential(db.session, credential_id)
    form = reject_form(f"cr{credential_id}", formdata=request.form)
    return submit_form(
        form, lambda: rules.reject_credential(db.session, me(), credential_id, form.reason.data, clock.now(),
                                              ip=request.remote_addr),
        lambda status: _credential_page(rules.get_credential(db.session, credential_id), reject=form, status=status),
        lambda _result: _to_queue(_("The credential of %(name)s is rejected. They have been sent the reason.",
                                    name=credential.interpreter.name)))


@bp.get("/credentials/<int:credential_id>/evidence")
@roles("registry_admin")
def credential_evidence(credential_id: int):
    # The audit entry is a write during a GET: do it in a write transaction of its own (see database.py).
    discard(db.session())
    with writing():
        credential, file = evidence.open_for(db.session, me(), credential_id, current_app.config["EVIDENCE_DIR"],
                                             ip=request.remote_addr)
        media_type, name = credential.evidence_type, credential.evidence_name
        db.session.commit()
    # Shown in the browser (the type was checked from the content when it was uploaded), never sniffed.
    response = send_file(file, mimetype=media_type, as_attachment=request.args.get("download") == "1",
                         download_name=name or "evidence", etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
