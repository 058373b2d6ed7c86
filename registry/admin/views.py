"""The registry administrators' console (IMDi)."""

from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError
from wtforms.validators import Length

from .. import paging
from ..access import roles
from ..agency import forms
from ..agency.views import invite_again, me, send_invitation
from ..database import discard
from ..domain import agencies as agency_rules
from ..domain import audit, clock
from ..domain.errors import Conflict, DomainError, InvalidInput
from ..domain.typed import BIGINT_DIGITS, INTEGER_DIGITS, whole_number
from ..extensions import db
from ..interpreter.forms import show_errors
from ..models import User
from . import forms as admin_forms

bp = Blueprint("admin", __name__, url_prefix="/admin")


def submit_form(form, act, refused, done):
    """One decision from a form: a valid form, then the domain call (`act`), then commit and `done(result)`.
    Refused input changes nothing: the transaction is rolled back, the domain's messages are put on the form's
    fields, and `refused(status)` renders the page again, 422 (409 when it conflicts with the record)."""
    if not form.validate_on_submit():
        return refused(422)
    try:
        result = act()
    except (InvalidInput, Conflict) as error:
        discard(db.session())
        show_errors(form, error)
        return refused(409 if isinstance(error, Conflict) else 422)
    db.session.commit()
    return done(result)


AUDIT_PAGE_SIZE = 50


# Public bodies ------------------------------------------------------------------------------------

# The status filter's values, and what each asks of Agency.active.
AGENCY_STATUS = {"active": True, "deactivated": False}


def _list_page(form=None, status: int = 200):
    """The bodies that match the search in the address, a page of them, and the form to register one (`form`:
    the form refused, when a registration is shown again)."""
    form = form or forms.agency_form(forms.NewAgencyForm, db.session, formdata=None)
    search = admin_forms.AgencySearchForm(formdata=request.args)
    active = AGENCY_STATUS.get((search.status.data or "").strip())
    after = paging.decode_named("agencies", request.args.get("cursor"))
    found = agency_rules.agency_overview(db.session, search.q.data, active, after, current_app.config["PAGE_SIZE"])
    return render_template(
        "admin/agencies.html", found=found, rows=found.rows, form=form, search=search,
        searched=bool((search.q.data or "").strip()) or active is not None,
        next_cursor=paging.encode("agencies", found.next_key),
        status_choices=[("active", _("Active")), ("deactivated", _("Deactivated"))]), status


@bp.get("/agencies")
@roles("registry_admin")
def agencies():
    return _list_page()


@bp.post("/agencies")
@roles("registry_admin")
def create_agency():
    form = forms.agency_form(forms.NewAgencyForm, db.session)
    if not form.validate_on_submit():
        return _list_page(form, 422)
    try:
        agency = agency_rules.create_agency(
            db.session, me(), orgnr=form.orgnr.data, name=form.name.data, sector=form.sector.data,
            county_number=form.county.data, invoicing_reference=form.invoicing_reference.data,
            ip=request.remote_addr)
    except DomainError as error:
        discard(db.session())
        forms.show_error(form, error)
        return _list_page(form, 409 if isinstance(error, Conflict) else 422)
    db.session.commit()
    flash(_("%(name)s is registered.", name=agency.name), "success")
    return redirect(url_for("admin.agency", agency_id=agency.id), 303)


def _edit_form(agency, formdata=None):
    data = {"name": agency.name, "sector": agency.sector, "county": agency.county_number or "",
            "invoicing_reference": agency.invoicing_reference or ""}
    kwargs = {} if formdata is not None else {"formdata": None}
    return forms.agency_form(forms.AgencyForm, db.session, prefix="edit", data=data, **kwargs)


def _detail_page(agency, edit_form=None, invite_form=None, status: int = 200):
    return render_template(
        "admin/agencies_detail.html", agency=agency,
        users=agency_rules.agency_users(db.session, agency), tokens=agency_rules.agency_tokens(db.session, agency),
        edit_form=edit_form or _edit_form(agency),
        invite_form=invite_form or forms.InviteForm(prefix="invite", formdata=None),
    ), status


@bp.get("/agencies/<int:agency_id>")
@roles("registry_admin")
def agency(agency_id: int):
    return _detail_page(agency_rules.get_agency(db.session, agency_id))


@bp.post("/agencies/<int:agency_id>")
@roles("registry_admin")
def update_agency(agency_id: int):
    agency = agency_rules.get_agency(db.session, agency_id)
    form = _edit_form(agency, formdata=request.form)
    if not form.validate_on_submit():
        return _detail_page(agency, edit_form=form, status=422)
    try:
        changed = agency_rules.update_agency(
            db.session, me(), agency, name=form.name.data, sector=form.sector.data, county_number=form.county.data,
            invoicing_reference=form.invoicing_reference.data, ip=request.remote_addr)
    except DomainError as error:
        discard(db.session())
        forms.show_error(form, error)
        return _detail_page(agency, edit_form=form, status=422)
    db.session.commit()
    flash(_("The changes are saved.") if changed else _("Nothing was changed."), "success")
    return redirect(url_for("admin.agency", agency_id=agency.id), 303)


def _set_agency_active(agency_id: int, active: bool):
    agency = agency_rules.get_agency(db.session, agency_id)
    agency_rules.set_agency_active(db.session, me(), agency, active, clock.now(), ip=request.remote_addr)
    db.session.commit()
    if active:
        flash(_("%(name)s is active again; its users can log in.", name=agency.name), "success")
    else:
        flash(_("%(name)s is deactivated; its users are logged out and cannot log in.", name=agency.name),
              "success")
    return redirect(url_for("admin.agency", agency_id=agency.id), 303)


@bp.post("/agencies/<int:agency_id>/deactivate")
@roles("registry_admin")
def deactivate_agency(agency_id: int):
    return _set_agency_active(agency_id, False)


@bp.post("/agencies/<int:agency_id>/activate")
@roles("registry_admin")
def activate_agency(agency_id: int):
    return _set_agency_active(agency_id, True)


@bp.post("/agencies/<int:agency_id>/invite")
@roles("registry_admin")
def invite_agency_admin(agency_id: int):
    agency = agency_rules.get_agency(db.session, agency_id)
    form = forms.InviteForm(prefix="invite")
    if not form.validate_on_submit():
        return _detail_page(agency, invite_form=form, status=422)
    user, status = send_invitation(agency, "agency_admin", form)
    if user is None:
        return _detail_page(agency_rules.get_agency(db.session, agency_id), invite_form=form, status=status)
    return redirect(url_for("admin.agency", agency_id=agency_id), 303)


def _set_user_active(agency_id: int, user_id: int, active: bool):
    agency = agency_rules.get_agency(db.session, agency_id)
    user = agency_rules.find_user(db.session, me(), user_id, agency)
    agency_rules.set_user_active(db.session, me(), user, active, clock.now(), ip=request.remote_addr)
    db.session.commit()
    if active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and has been logged out.", name=user.name), "success")
    return redirect(url_for("admin.agency", agency_id=agency_id), 303)


@bp.post("/agencies/<int:agency_id>/users/<int:user_id>/deactivate")
@roles("registry_admin")
def deactivate_user(agency_id: int, user_id: int):
    return _set_user_active(agency_id, user_id, False)


@bp.post("/agencies/<int:agency_id>/users/<int:user_id>/activate")
@roles("registry_admin")
def activate_user(agency_id: int, user_id: int):
    return _set_user_active(agency_id, user_id, True)


@bp.post("/agencies/<int:agency_id>/users/<int:user_id>/invite-again")
@roles("registry_admin")
def invite_user_again(agency_id: int, user_id: int):
    agency = agency_rules.get_agency(db.session, agency_id)
    invite_again(agency_rules.find_user(db.session, me(), user_id, agency))
    return redirect(url_for("admin.agency", agency_id=agency_id), 303)


@bp.post("/agencies/<int:agency_id>/tokens/<int:token_id>/revoke")
@roles("registry_admin")
def revoke_token(agency_id: int, token_id: int):
    agency = agency_rules.get_agency(db.session, agency_id)
    token = agency_rules.find_token(db.session, me(), token_id, agency)
    agency_rules.revoke_token(db.session, me(), token, clock.now(), ip=request.remote_addr)
    db.session.commit()
    flash(_("The API token %(name)s is revoked.", name=token.name), "success")
    return redirect(url_for("admin.agency", agency_id=agency_id), 303)


# The audit log ------------------------------------------------------------------------------------

DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
BAD_DATE = _l("Enter the date as YYYY-MM-DD, for example 2027-03-01.")


def parse_date(text: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def oslo_midnight(day: date) -> datetime:
    """The start of `day` in Norway, in UTC (midnight always exists: clocks change at 02:00 and 03:00)."""
    return datetime.combine(day, time(0), tzinfo=clock.OSLO).astimezone(UTC)


class AuditSearchForm(FlaskForm):
    """Filters of the audit log, read from the query string."""

    class Meta:
        csrf = False

    actor = StringField(_l("Person (email contains)"), validators=[Length(max=254)])
    action = StringField(_l("Action starts with"), validators=[Length(max=64)])
    object_type = StringField(_l("Object type"), validators=[Length(max=32)])
    object_id = StringField(_l("Object number"), validators=[Length(max=64)])
    date_from = StringField(_l("From date"))
    date_to = StringField(_l("To date (inclusive)"))

    def validate_date_from(self, field):
        try:
            parse_date(field.data)
        except ValueError:
            raise ValidationError(BAD_DATE) from None

    def validate_date_to(self, field):
        try:
            last = parse_date(field.data)
        except ValueError:
            raise ValidationError(BAD_DATE) from None
        try:
            first = parse_date(self.date_from.data)
        except ValueError:
            return
        if first and last and first > last:
            raise ValidationError(_l("The to-date is before the from-date."))

    def filters(self) -> dict:
        """Arguments for audit.search: text filters, and the period as UTC instants."""
        first, last = parse_date(self.date_from.data), parse_date(self.date_to.data)
        clean = {name: (getattr(self, name).data or "").strip() or None
                 for name in ("actor", "action", "object_type", "object_id")}
        return {**clean, "since": oslo_midnight(first) if first else None,
                "until": oslo_midnight(last + timedelta(days=1)) if last else None}


def _link_number(name: str, digits: int) -> tuple[int | None, bool]:
    """A number from a link the page made (an entry's id, a person's): the number or None, and whether the link
    was changed (not a number, or more digits than the id's column holds: on PostgreSQL that was a 500)."""
    text = (request.args.get(name) or "").strip()
    number = whole_number(text, digits)
    return number, bool(text) and number is None


@bp.get("/audit")
@roles("registry_admin")
def audit_log():
    form = AuditSearchForm(formdata=request.args)
    before_id, changed_before = _link_number("before_id", BIGINT_DIGITS)
    actor_id, changed_actor = _link_number("actor_id", INTEGER_DIGITS)
    page_error = None
    if changed_before:
        page_error = _("The link to older entries is not valid. Start the search again.")
    if changed_actor:
        page_error = _("The link to a person's entries is not valid. Start the search again.")
    if not form.validate() or page_error:
        return render_template("admin/audit.html", form=form, entries=[], older_url=None,
                               page_error=page_error, actor_id=actor_id), 400
    # A person's entries (the link from a person in the log), whatever address they had: named by their login.
    person = None
    if actor_id is not None:
        user = db.session.get(User, actor_id)
        person = user.email if user else str(actor_id)
    found = audit.search(db.session, **form.filters(), actor_id=actor_id, before_id=before_id,
                         limit=AUDIT_PAGE_SIZE + 1)
    entries, more = found[:AUDIT_PAGE_SIZE], len(found) > AUDIT_PAGE_SIZE
    args = {k: v for k, v in request.args.items() if k != "before_id" and v}
    older_url = url_for("admin.audit_log", **args, before_id=entries[-1].id) if more else None
    newest_url = url_for("admin.audit_log", **args) if before_id else None
    everyone_url = url_for("admin.audit_log", **{k: v for k, v in args.items() if k != "actor_id"})
    return render_template("admin/audit.html", form=form, entries=entries, older_url=older_url,
                           newest_url=newest_url, page_error=None, person=person, actor_id=actor_id,
                           everyone_url=everyone_url)


# The rest of the console, on this blueprint ---------------------------------------------------------

@bp.context_processor
def admin_labels() -> dict:
    from ..booking.labels import STATUS as BOOKING_STATUS
    from ..interpreter.forms import CREDENTIAL_STATE, CREDENTIAL_TYPE
    from .forms import SANCTION_KIND, SANCTION_SHORT, SANCTION_STATE

    return {"CREDENTIAL_TYPE_LABELS": CREDENTIAL_TYPE, "CREDENTIAL_STATE_LABELS": CREDENTIAL_STATE,
            "APPLICATION_STATE_LABELS": APPLICATION_STATE, "SANCTION_KIND": SANCTION_KIND,
            "SANCTION_SHORT": SANCTION_SHORT, "SANCTION_STATE": SANCTION_STATE,
            "BOOKING_STATUS_LABELS": BOOKING_STATUS}


APPLICATION_STATE = {"pending": _l("Waiting for a decision"), "approved": _l("Approved"), "rejected": _l("Rejected")}

from . import credential_types, imports, interpreters, queue, sanctions, statistics  # noqa: E402,F401
