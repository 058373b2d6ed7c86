"""Interpreter self-service: profile, working hours, absences, credential applications and evidence.

Every page is the logged-in interpreter's own: no URL names an interpreter, and an absence or credential
of someone else answers 404. Views parse, call registry/domain, and render.
"""

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..access import roles
from ..database import discard, writing
from ..domain import applications, booking, clock, evidence, profile
from ..domain.errors import InvalidInput
from ..domain.languages import LANGUAGE_CODES, language_choices
from ..domain.places import county_choices, municipality_groups
from ..extensions import db
from ..i18n import current_language
from ..models import Application
from . import forms

bp = Blueprint("interpreter", __name__, url_prefix="/me")


@bp.context_processor
def labels() -> dict:
    return {"CREDENTIAL_TYPE_LABELS": forms.CREDENTIAL_TYPE, "CREDENTIAL_STATE_LABELS": forms.CREDENTIAL_STATE,
            "weekday_name": forms.weekday_name}


def _me():
    return current_user.interpreter


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("interpreter.home"), 303)


def _invalid(template: str, form, error: InvalidInput, **context):
    forms.show_errors(form, error)
    return render_template(template, form=form, **context), 422


def _page(template: str, form, **context):
    return render_template(template, form=form, **context), 422 if form.is_submitted() else 200


def commit_or_discard(refs: list[str]) -> None:
    """Commit; if that fails, remove the evidence files the failed change had stored."""
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        evidence.discard(current_app.config["EVIDENCE_DIR"], refs)
        raise


def place_choices() -> dict:
    """Counties, and municipalities grouped by county, for the select lists."""
    return {"counties": county_choices(), "municipality_groups": municipality_groups()}


def language_options() -> list[tuple[str, str]]:
    return language_choices(LANGUAGE_CODES, current_language())


@bp.get("/")
@roles("interpreter")
def home():
    me = _me()
    now = clock.now()
    hours = profile.current_hours(db.session, me)
    return render_template(
        "interpreter/home.html", interpreter=me, credentials=me.credentials,
        hours={day: [h for h in hours if h.weekday == day] for day in range(7)},
        absences=profile.upcoming_absences(db.session, me, now),
        application=db.session.scalar(sa.select(Application).where(Application.interpreter_id == me.id)))


@bp.route("/profile", methods=["GET", "POST"])
@roles("interpreter")
def edit_profile():
    me = _me()
    saved = {"email": me.email, "phone": me.phone, "publish_contact": me.publish_contact, "county": me.county_number,
             "municipality": me.municipality_number or "", "modalities": me.modalities,
             "availability": me.availability}
    # What is posted replaces everything: a field left out of a POST is empty, not the saved value.
    form = forms.ProfileForm(data=saved if request.method == "GET" else None)
    if not form.validate_on_submit():
        return _page("interpreter/profile.html", form, **place_choices())
    try:
        changed = profile.update_profile(
            db.session, me, email=form.email.data, phone=form.phone.data, publish_contact=form.publish_contact.data,
            county_number=form.county.data, municipality_number=form.municipality.data,
            modalities=form.modalities.data, availability=form.availability.data, actor=current_user,
            ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        return _invalid("interpreter/profile.html", form, error, **place_choices())
    db.session.commit()
    return _done(_("Your profile is saved.") if changed else _("Nothing was changed."))


def _hours_data(me) -> dict:
    """The saved hours as form data: the first periods of each day, in order."""
    data, saved = {}, profile.current_hours(db.session, me)
    for day in range(7):
        day_hours = [h for h in saved if h.weekday == day]
        for n, h in enumerate(day_hours[:forms.PERIODS_PER_DAY], start=1):
            data[f"{forms.HoursForm.key(day, n)}_start"] = h.start_time.strftime("%H:%M")
            data[f"{forms.HoursForm.key(day, n)}_end"] = h.end_time.strftime("%H:%M")
    return data


@bp.route("/hours", methods=["GET", "POST"])
@roles("interpreter")
def hours():
    me = _me()
    form = forms.HoursForm(data=_hours_data(me) if request.method == "GET" else None)
    context = {"periods": range(1, forms.PERIODS_PER_DAY + 1)}
    if not form.validate_on_submit():
        return _page("interpreter/hours.html", form, **context)
    periods = []
    for day in range(7):
        for n in context["periods"]:
            key = forms.HoursForm.key(day, n)
            periods.append(profile.Period(day, form[f"{key}_start"].data, form[f"{key}_end"].data, key=key))
    try:
        changed = profile.set_working_hours(db.session, me, periods, actor=current_user, ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        return _invalid("interpreter/hours.html", form, error, **context)
    db.session.commit()
    return _done(_("Your working hours are saved.") if changed else _("Nothing was changed."))


def _absences_page(form, status: int = 200):
    absences = profile.upcoming_absences(db.session, _me(), clock.now())
    return render_template("interpreter/absences.html", form=form, absences=absences,
                           confirm=forms.ConfirmForm()), status


@bp.get("/absences")
@roles("interpreter")
def absences():
    return _absences_page(forms.AbsenceForm())


@bp.post("/absences")
@roles("interpreter")
def add_absence():
    form = forms.AbsenceForm()
    if not form.validate_on_submit():
        return _absences_page(form, 422)
    try:
        absence = profile.add_absence(db.session, _me(), starts=form.starts_at.data, ends=form.ends_at.data,
                                      note=form.note.data, now=clock.now(), actor=current_user, ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        forms.show_errors(form, error)
        return _absences_page(form, 422)
    held = booking.held_during(db.session, absence.interpreter_id, absence.starts_at, absence.ends_at)
    db.session.commit()
    flash(_("The absence is registered."), "success")
    if held:
        flash(ngettext("You have %(num)d assignment in this period. It still stands: under My assignments, decline "
                       "it or withdraw from it if you cannot do it, so the public body can find someone else.",
                       "You have %(num)d assignments in this period. They still stand: under My assignments, decline "
                       "or withdraw from those you cannot do, so the public bodies can find someone else.",
                       len(held)), "warning")
    return redirect(url_for("interpreter.absences"), 303)


@bp.post("/absences/<int:absence_id>/delete")
@roles("interpreter")
def delete_absence(absence_id: int):
    profile.delete_absence(db.session, _me(), absence_id, actor=current_user, ip=request.remote_addr)
    db.session.commit()
    flash(_("The absence is deleted."), "success")
    return redirect(url_for("interpreter.absences"), 303)


@bp.route("/credentials/new", methods=["GET", "POST"])
@roles("interpreter")
def new_credential():
    form = forms.CredentialForm()
    context = {"max_mb": current_app.config["MAX_UPLOAD_MB"], "type_choices": forms.CREDENTIAL_TYPE_CHOICES,
               "language_choices": [("", _("No language (TAO course or police certificate)"))] + language_options()}
    if not form.validate_on_submit():
        return _page("interpreter/credential_new.html", form, **context)
    upload = form.evidence.data
    claim = applications.CredentialClaim(
        type=form.type.data, language=form.language.data, issued_on=form.issued_on.data,
        valid_until=form.valid_until.data,
        upload=evidence.Upload(upload.stream, upload.filename or "") if upload else None)
    config = current_app.config
    try:
        credential = applications.apply_for_credential(
            db.session, _me(), claim, today=clock.oslo_date(), evidence_dir=config["EVIDENCE_DIR"],
            max_bytes=config["MAX_UPLOAD_MB"] * 1024 * 1024, actor=current_user, ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        return _invalid("interpreter/credential_new.html", form, error, **context)
    commit_or_discard([credential.evidence_ref])
    return _done(_("Thank you. The credential waits for a registry administrator to check the evidence."))


@bp.get("/credentials/<int:credential_id>/evidence")
@roles("interpreter")
def credential_evidence(credential_id: int):
    # The audit entry is a write during a GET: do it in a write transaction of its own (see database.py).
    discard(db.session())
    with writing():
        credential, file = evidence.open_for(db.session, current_user, credential_id,
                                             current_app.config["EVIDENCE_DIR"], ip=request.remote_addr)
        media_type, name = credential.evidence_type, credential.evidence_name
        db.session.commit()
    response = send_file(file, mimetype=media_type, as_attachment=True, download_name=name or "evidence",
                         etag=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
