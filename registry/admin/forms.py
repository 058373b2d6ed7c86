"""Forms of the admin console. They only parse: every rule is in registry/domain, which names the field at fault."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TelField, TextAreaField

from ..labels import STATUS
from ..models.sanction import SANCTION_KINDS

SANCTION_KIND = {
    "report": _l("Report of a breach of good interpreting practice"),
    "warning": _l("Written warning (tolkeloven § 20)"),
    "suspension": _l("Suspension while a case runs (tolkeloven § 21)"),
    "exclusion": _l("Exclusion from the register (tolkeloven § 21)"),
}
SANCTION_SHORT = {"report": _l("Report"), "warning": _l("Warning"), "suspension": _l("Suspension"),
                  "exclusion": _l("Exclusion")}
SANCTION_STATE = {
    "report": _l("Reported"), "counting": _l("Counts (less than five years old)"), "old": _l("No longer counts"),
    "holding": _l("In force"), "ended": _l("Ended"), "lifted": _l("Lifted"),
}
SANCTION_CHOICES = [(k, SANCTION_KIND[k]) for k in SANCTION_KINDS]
SETTABLE_STATUS_CHOICES = [(s, STATUS[s]) for s in ("active", "paused", "inactive")]


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"))


class ApproveCredentialForm(FlaskForm):
    valid_until = StringField(_l("Valid until"))


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token (fields of its own are read from the request)."""


class InterpreterSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or register number"))
    status = StringField(_l("Status"))


class AgencySearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Name or organisation number"))
    status = StringField(_l("Status"))


class CorrectionForm(FlaskForm):
    name = StringField(_l("Full name"))
    gender = StringField(_l("Gender"))
    birth_date = StringField(_l("Date of birth"))
    email = EmailField(_l("Contact email"))
    phone = TelField(_l("Contact phone"))
    publish_contact = BooleanField(_l("Show the contact email and phone in the public register"))
    county = StringField(_l("County"))
    municipality = StringField(_l("Municipality"))
    modalities = SelectMultipleField(_l("Ways of working"), validate_choice=False)
    availability = StringField(_l("Availability"))
    status = StringField(_l("Status"))


class NewCredentialForm(FlaskForm):
    type = StringField(_l("Kind of credential"))
    language = StringField(_l("Language"))
    issued_on = StringField(_l("Date of issue"))
    valid_until = StringField(_l("Valid until (optional)"))


class ValidUntilForm(FlaskForm):
    valid_until = StringField(_l("Valid until"))


class SanctionForm(FlaskForm):
    kind = StringField(_l("Decision"))
    reason = TextAreaField(_l("Reasons"))
    decided_on = StringField(_l("Decision date"))
    starts_on = StringField(_l("Takes effect on"))
    ends_on = StringField(_l("Last day (optional)"))
    serious_breach = BooleanField(_l("An exclusion for a serious breach of good interpreting practice"))


class LastDayForm(FlaskForm):
    ends_on = StringField(_l("Last day"))


class CredentialTypeForm(FlaskForm):
    years = StringField(_l("Default validity in years"))


class UploadForm(FlaskForm):
    file = FileField(_l("CSV file"))
