"""The interpreter record: everything about one interpreter on one page, corrections, credentials, sanctions."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from .. import paging
from ..access import roles
from ..agency.views import me
from ..domain import admin_records, clock, sanction_decisions
from ..domain import interpreter_record as record
from ..extensions import db
from ..interpreter.forms import CREDENTIAL_TYPE
from ..interpreter.views import language_options, place_choices
from ..labels import GENDER, STATUS
from ..models.credential import CREDENTIAL_TYPES
from ..models.interpreter import STATUSES
from . import forms
from .views import bp, submit_form


@bp.get("/interpreters")
@roles("registry_admin")
def interpreters():
    form = forms.InterpreterSearchForm(formdata=request.args)
    status = (form.status.data or "").strip()
    if status and status not in STATUSES:
        status = ""
    after = paging.decode_named("admin-interpreters", request.args.get("cursor"))
    found = record.search(db.session, form.q.data, status or None, after, current_app.config["PAGE_SIZE"])
    return render_template("admin/interpreters.html", form=form, found=found,
                           next_cursor=paging.encode("admin-interpreters", found.next_key),
                           searched=bool((form.q.data or "").strip() or status),
                           status_choices=list(STATUS.items()))


def _record_page(register_number: int, status: int = 200, **forms_given):
    interpreter = record.find(db.session, register_number)
    now = clock.now()
    today = clock.oslo_date(now)
    coming, past = record.bookings(db.session, interpreter, now)
    warnings = sanction_decisions.warnings_counting(db.session, interpreter.id, today)
    context = {
        "interpreter": interpreter, "today": today,
        "languages": record.languages(interpreter, today),
        "coming": coming, "past": past,
        "sanctions": sanction_decisions.history(db.session, interpreter.id, today),
        "warnings": warnings, "may_be_excluded": sanction_decisions.may_be_excluded(warnings),
        "login": record.login_of(db.session, interpreter),
        "application": record.application_of(db.session, interpreter),
        "history": record.history(db.session, interpreter),
        "credential_form": forms_given.get("credential_form") or forms.NewCredentialForm(
            prefix="cred", formdata=None),
        "sanction_form": forms_given.get("sanction_form") or forms.SanctionForm(
            prefix="sanction", formdata=None, data={"decided_on": today.isoformat()}),
        "valid_forms": {c.id: forms.ValidUntilForm(prefix=f"vu{c.id}", formdata=None, data={
            "valid_until": c.valid_until.isoformat() if c.valid_until else ""}) for c in interpreter.credentials},
        "revoke_forms": {c.id: forms.ReasonForm(prefix=f"rv{c.id}", formdata=None) for c in interpreter.credentials},
        "language_choices": language_options(),
        "type_choices": [(t, CREDENTIAL_TYPE[t]) for t in CREDENTIAL_TYPES],
        "kind_choices": forms.SANCTION_CHOICES,
    }
    if "valid_form" in forms_given:
        context["valid_forms"][forms_given["credential_id"]] = forms_given["valid_form"]
    context["end_forms"] = {d.sanction.id: forms.LastDayForm(prefix=f"end{d.sanction.id}", formdata=None, data={
        "ends_on": d.sanction.ends_on.isoformat() if d.sanction.ends_on else ""})
        for d in context["sanctions"] if d.state == "holding"}
    if "end_form" in forms_given:
        context["end_forms"][forms_given["sanction_id"]] = forms_given["end_form"]
    if "revoke_form" in forms_given:
        context["revoke_forms"][forms_given["credential_id"]] = forms_given["revoke_form"]
    context["failed"] = forms_given.get("failed")
    return render_template("admin/interpreter.html", **context), status


@bp.get("/interpreters/<int:register_number>")
@roles("registry_admin")
def interpreter(register_number: int):
    return _record_page(register_number)


def _back(register_number: int, anchor: str | None = None):
    return redirect(url_for("admin.interpreter", register_number=register_number, _anchor=anchor), 303)


# Correcting the details -----------------------------------------------------------------------------

def _correction_data(i) -> dict:
    return {"name": i.name, "gender": i.gender, "birth_date": i.birth_date.isoformat() if i.birth_date else "",
            "email": i.email or "", "phone": i.phone or "", "publish_contact": i.publish_contact,
            "county": i.county_number, "municipality": i.municipality_number or "",
            "modalities": i.modalities, "availability": i.availability, "status": i.status}


def _edit_page(interpreter, form, status: int = 200):
    return render_template("admin/interpreter_edit.html", interpreter=interpreter, form=form,
                           gender_choices=list(GENDER.items()), status_choices=forms.SETTABLE_STATUS_CHOICES,
                           **place_choices()), status


@bp.get("/interpreters/<int:register_number>/edit")
@roles("registry_admin")
def edit_interpreter(register_number: int):
    interpreter = record.find(db.session, register_number)
    return _edit_page(interpreter, forms.CorrectionForm(formdata=None, data=_correction_data(interpreter)))


@bp.post("/interpreters/<int:register_number>/edit")
@roles("registry_admin")
def correct_interpreter(register_number: int):
    interpreter = record.find(db.session, register_number)
    form = forms.CorrectionForm()
    return submit_form(
        form, lambda: record.correct(
            db.session, me(), interpreter, name=form.name.data, gender=form.gender.data,
            birth_date=form.birth_date.data, email=form.email.data, phone=form.phone.data,
            publish_contact=form.publish_contact.data, county=form.county.data, municipality=form.municipality.data,
            modalities=form.modalities.data, availability=form.availability.data, status=form.status.data,
            now=clock.now(), ip=request.remote_addr),
        lambda status: _edit_page(record.find(db.session, register_number), form, status),
        lambda changed: _saved(_("The changes are saved.") if changed else _("Nothing was changed."),
                               register_number))


def _saved(message: str, register_number: int, anchor: str | None = None):
    flash(message, "success")
    return _back(register_number, anchor)


# Credentials ----------------------------------------------------------------------------------------

@bp.post("/interpreters/<int:register_number>/credentials")
@roles("registry_admin")
def add_credential(register_number: int):
    interpreter = record.find(db.session, register_number)
    form = forms.NewCredentialForm(prefix="cred")
    return submit_form(
        form, lambda: admin_records.add_verified_credential(
            db.session, me(), interpreter, type=form.type.data, language=form.language.data or None,
            issued_on=form.issued_on.data, valid_until=form.valid_until.data, now=clock.now(), ip=request.remote_addr),
        lambda status: _record_page(register_number, status, credential_form=form, failed="credential"),
        lambda _result: _saved(_("The credential is recorded as verified; the categories are updated."),
                               register_number, "credentials-heading"))


@bp.post("/interpreters/<int:register_number>/credentials/<int:credential_id>/valid-until")
@roles("registry_admin")
def set_valid_until(register_number: int, credential_id: int):
    interpreter = record.find(db.session, register_number)
    record.credential_of(db.session, interpreter, credential_id)
    form = forms.ValidUntilForm(prefix=f"vu{credential_id}")
    return submit_form(
        form, lambda: record.set_valid_until(db.session, me(), interpreter, credential_id, form.valid_until.data,
                                             clock.now(), ip=request.remote_addr),
        lambda status: _record_page(register_number, status, valid_form=form, credential_id=credential_id,
                                    failed="valid"),
        lambda _result: _saved(_("The validity is saved; the categories are updated."), register_number,
                               "credentials-heading"))


@bp.post("/interpreters/<int:register_number>/credentials/<int:credential_id>/revoke")
@roles("registry_admin")
def revoke_credential(register_number: int, credential_id: int):
    interpreter = record.find(db.session, register_number)
    record.credential_of(db.session, interpreter, credential_id)
    form = forms.ReasonForm(prefix=f"rv{credential_id}")
    return submit_form(
        form, lambda: record.revoke_credential(db.session, me(), interpreter, credential_id, form.reason.data,
                                               clock.now(), ip=request.remote_addr),
        lambda status: _record_page(register_number, status, revoke_form=form, credential_id=credential_id,
                                    failed="revoke"),
        lambda _result: _saved(_("The credential is revoked; the categories are updated."), register_number,
                               "credentials-heading"))


# Sanctions ------------------------------------------------------------------------------------------

@bp.post("/interpreters/<int:register_number>/sanctions")
@roles("registry_admin")
def record_sanction(register_number: int):
    interpreter = record.find(db.session, register_number)
    form = forms.SanctionForm(prefix="sanction")

    def recorded(sanction):
        if sanction.kind in ("suspension", "exclusion"):
            return _saved(_("The decision is recorded. %(name)s is out of the public register and booking search; "
                            "the bookers of their coming assignments are told.", name=interpreter.name),
                          register_number, "sanctions-heading")
        return _saved(_("The decision is recorded."), register_number, "sanctions-heading")

    return submit_form(
        form, lambda: sanction_decisions.decide(
            db.session, me(), interpreter, kind=form.kind.data, reason=form.reason.data,
            decided_on=form.decided_on.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            serious_breach=form.serious_breach.data, now=clock.now(), ip=request.remote_addr),
        lambda status: _record_page(register_number, status, sanction_form=form, failed="sanction"),
        recorded)


@bp.post("/interpreters/<int:register_number>/sanctions/<int:sanction_id>/last-day")
@roles("registry_admin")
def set_sanction_last_day(register_number: int, sanction_id: int):
    interpreter = record.find(db.session, register_number)
    form = forms.LastDayForm(prefix=f"end{sanction_id}")
    return submit_form(
        form, lambda: sanction_decisions.set_last_day(db.session, me(), interpreter, sanction_id, form.ends_on.data,
                                                      clock.now(), ip=request.remote_addr),
        lambda status: _record_page(register_number, status, end_form=form, sanction_id=sanction_id, failed="end"),
        lambda sanction: _saved(
            _("The last day is set to %(date)s. The scheduled job lifts it the day after; run the job “End sanctions” "
              "on the jobs page to lift it at once once that day has passed.",
              date=format_date(sanction.ends_on, "long")), register_number, "sanctions-heading"))
