"""Forms for managing public bodies and their users, used by the agency and the admin pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..auth.forms import REQUIRED
from ..domain.errors import DomainError
from ..domain.places import county_choices
from ..labels import SECTOR
from ..models.account import SECTORS


def _at_most(n: int):
    return Length(max=n, message=_l("At most %(n)s characters.", n=n))


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(REQUIRED), _at_most(200)])
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), _at_most(254)])


class AgencyForm(FlaskForm):
    """The fields of a public body that can be changed after it is registered."""

    name = StringField(_l("Name of the public body"), validators=[DataRequired(REQUIRED), _at_most(200)])
    # The domain checks the choices, with a translated message.
    sector = SelectField(_l("Sector"), validate_choice=False)
    county = SelectField(_l("County"), validate_choice=False)
    invoicing_reference = StringField(_l("Invoicing reference"), validators=[_at_most(100)])


class NewAgencyForm(AgencyForm):
    orgnr = StringField(_l("Organisation number"), validators=[DataRequired(REQUIRED), _at_most(20)])


def agency_form(form_class, session, **kwargs):
    """A public body's form with the sector and county choices filled in."""
    form = form_class(**kwargs)
    form.sector.choices = [SelectChoice(code, SECTOR[code]) for code in SECTORS]
    counties = county_choices()
    form.county.choices = [SelectChoice("", _l("No county (national)"))] + [SelectChoice(number, name)
                                                                           for number, name in counties]
    return form


def show_error(form, error: DomainError) -> None:
    """Put a domain error on the form field it names (else the first field), for the error summary."""
    fields = [f for f in form if f.short_name != "csrf_token"]
    field = next((f for f in fields if f.short_name == error.field), fields[0])
    field.errors = [*field.errors, error.message]
