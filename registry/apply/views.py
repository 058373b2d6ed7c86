"""The public application to join the register: a form, and a receipt saying what happens next."""

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..access import public
from ..database import discard
from ..domain import applications, clock, evidence
from ..domain.errors import InvalidInput
from ..extensions import db, limiter
from ..i18n import current_language
from ..interpreter.forms import show_errors
from ..interpreter.views import commit_or_discard, language_options, place_choices
from ..labels import GENDER
from . import forms

bp = Blueprint("apply", __name__, url_prefix="/apply")
RECEIPT = "application_receipt"


def _rate_limit() -> str:
    return current_app.config.get("APPLY_RATE_LIMIT", "10 per hour")


def _upload(file) -> evidence.Upload | None:
    return evidence.Upload(file.stream, file.filename or "") if file else None


def _claims(form) -> tuple[list[applications.CredentialClaim], applications.CredentialClaim]:
    rows = []
    for n in range(1, forms.LANGUAGE_ROWS + 1):
        prefix = form.row(n)
        rows.append(applications.CredentialClaim(
            type=form[prefix + "type"].data, language=form[prefix + "language"].data,
            issued_on=form[prefix + "issued_on"].data, valid_until=form[prefix + "valid_until"].data,
            upload=_upload(form[prefix + "evidence"].data), prefix=prefix))
    tao = applications.CredentialClaim(type="tao", language=None, issued_on=form.tao_issued_on.data,
                                       upload=_upload(form.tao_evidence.data), prefix="tao_")
    return rows, tao


def _page(form, status: int):
    return render_template(
        "apply/form.html", form=form, rows=range(1, forms.LANGUAGE_ROWS + 1),
        max_mb=current_app.config["MAX_UPLOAD_MB"],
        language_choices=[("", _("Choose a language"))] + language_options(), type_choices=forms.TYPE_CHOICES,
        gender_choices=list(GENDER.items()), **place_choices()), status


@bp.route("", methods=["GET", "POST"])
@public
@limiter.limit(_rate_limit, methods=["POST"])
def form():
    form = forms.ApplicationForm()
    if not form.validate_on_submit():
        return _page(form, 422 if form.is_submitted() else 200)
    claims, tao = _claims(form)
    applicant = applications.Applicant(
        name=form.name.data, email=form.email.data, phone=form.phone.data, gender=form.gender.data,
        county_number=form.county.data, municipality_number=form.municipality.data,
        birth_date=form.birth_date.data, message=form.message.data)
    config = current_app.config
    try:
        application = applications.submit_application(
            db.session, applicant, claims, tao, today=clock.oslo_date(), evidence_dir=config["EVIDENCE_DIR"],
            max_bytes=config["MAX_UPLOAD_MB"] * 1024 * 1024, locale=current_language(), ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        show_errors(form, error)
        return _page(form, 422)
    interpreter = application.interpreter
    receipt = {"reference": interpreter.register_number, "email": interpreter.email,
               "credentials": len(interpreter.credentials)}
    commit_or_discard([c.evidence_ref for c in interpreter.credentials])
    session[RECEIPT] = receipt
    return redirect(url_for("apply.received"), 303)


@bp.get("/received")
@public
def received():
    receipt = session.get(RECEIPT)
    if not receipt:
        return redirect(url_for("apply.form"))
    return render_template("apply/received.html", receipt=receipt)
