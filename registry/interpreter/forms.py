"""Forms of the interpreter's own pages. They only parse; every rule is in registry/domain."""

from babel.dates import get_day_names
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, SelectMultipleField, StringField, TelField

from ..domain.errors import InvalidInput
from ..domain.profile import errors_of
from ..models.credential import CREDENTIAL_TYPES

# Until these move to registry/labels.py: the words for credential types and states.
CREDENTIAL_TYPE = {
    "authorisation": _l("State authorisation as interpreter"),
    "bachelor": _l("Bachelor's degree in interpreting"),
    "basic_course": _l("Basic course in public-sector interpreting (30 credits)"),
    "bilingual_test": _l("Bilingual test (Tospråktesten)"),
    "translator": _l("State-authorised translator"),
    "tao": _l("Course on the interpreter's role and duties (TAO)"),
    "police_certificate": _l("Police certificate"),
}
CREDENTIAL_STATE = {
    "pending": _l("Waiting for verification"),
    "verified": _l("Verified"),
    "rejected": _l("Rejected"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}
CREDENTIAL_TYPE_CHOICES = [(t, CREDENTIAL_TYPE[t]) for t in CREDENTIAL_TYPES]
PERIODS_PER_DAY = 2


def weekday_name(day: int) -> str:
    """The weekday's name (0 = Monday) in the reader's language, from Babel, with a capital letter."""
    name = get_day_names("wide", locale=get_locale() or "nb")[day]
    return name[:1].upper() + name[1:]


def show_errors(form, error: InvalidInput) -> None:
    """Put a domain error (or several) on the form's fields, for the field messages and the summary."""
    for fault in errors_of(error):
        field = form._fields.get(fault.field or "") or _first_visible(form)
        field.errors = [*field.errors, fault.message]


def _first_visible(form):
    return next(f for f in form if f.type not in ("CSRFTokenField", "HiddenField"))


class ProfileForm(FlaskForm):
    email = EmailField(_l("Contact email"))
    phone = TelField(_l("Contact phone"))
    publish_contact = BooleanField(_l("Show my contact email and phone in the public register"))
    county = StringField(_l("County"))
    municipality = StringField(_l("Municipality"))
    # Choices are rendered by the template from labels.py and checked by the domain.
    modalities = SelectMultipleField(_l("Ways of working"), validate_choice=False)
    availability = StringField(_l("Availability"))


class HoursForm(FlaskForm):
    """One fieldset per weekday, each with PERIODS_PER_DAY periods: d<day>_<n>_start and d<day>_<n>_end."""

    @staticmethod
    def key(day: int, n: int) -> str:
        return f"d{day}_{n}"


for _day in range(7):
    for _n in range(1, PERIODS_PER_DAY + 1):
        _name = LazyString(weekday_name, _day)
        setattr(HoursForm, f"d{_day}_{_n}_start",
                StringField(_l("%(day)s, period %(n)s, from", day=_name, n=_n)))
        setattr(HoursForm, f"d{_day}_{_n}_end", StringField(_l("%(day)s, period %(n)s, to", day=_name, n=_n)))


class AbsenceForm(FlaskForm):
    starts_at = StringField(_l("Absent from"))
    ends_at = StringField(_l("Absent until"))
    note = StringField(_l("Note (optional)"))


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""


class CredentialForm(FlaskForm):
    type = StringField(_l("Kind of credential"))
    language = StringField(_l("Language"))
    issued_on = StringField(_l("Date of issue"))
    valid_until = StringField(_l("Valid until (optional)"))
    evidence = FileField(_l("Evidence"))
