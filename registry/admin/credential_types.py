"""Credential types: the default validity of each, editable by the registry administrators."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..access import roles
from ..agency.views import me
from ..database import discard
from ..domain import credential_types as rules
from ..domain.errors import InvalidInput
from ..extensions import db
from ..interpreter.forms import CREDENTIAL_TYPE, show_errors
from . import forms
from .views import bp


def _page(failed: str | None = None, failed_form=None, status: int = 200):
    types = rules.all_types(db.session)
    type_forms = {t.code: forms.CredentialTypeForm(prefix=t.code, formdata=None, data={
        "years": "" if t.default_validity_years is None else str(t.default_validity_years)}) for t in types}
    if failed:
        type_forms[failed] = failed_form
    return render_template("admin/credential_types.html", types=types, type_forms=type_forms,
                           max_years=rules.MAX_YEARS), status


@bp.get("/credential-types")
@roles("registry_admin")
def credential_types():
    return _page()


@bp.post("/credential-types/<code>")
@roles("registry_admin")
def set_credential_type(code: str):
    form = forms.CredentialTypeForm(prefix=code)
    if not form.validate_on_submit():
        return _page(code if code in CREDENTIAL_TYPE else None, form, 422)
    try:
        changed = rules.set_default_validity(db.session, me(), code, form.years.data, ip=request.remote_addr)
    except InvalidInput as error:
        discard(db.session())
        show_errors(form, error)
        return _page(code, form, 422)
    db.session.commit()
    if changed:
        flash(_("The default validity of %(type)s is saved. It applies to credentials approved or recorded from "
                "now on.", type=CREDENTIAL_TYPE[code]), "success")
    else:
        flash(_("Nothing was changed."), "success")
    return redirect(url_for("admin.credential_types"), 303)
