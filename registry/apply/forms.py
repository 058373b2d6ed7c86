"""The application form. It only parses; the rules are in registry/domain/applications.py."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, StringField, TelField, TextAreaField

from ..interpreter.forms import CREDENTIAL_TYPE
from ..models.credential import PER_LANGUAGE_TYPES

# Rows of languages on the form: enough for almost everyone, and it works without JavaScript.
LANGUAGE_ROWS = 3
# Choices are rendered by the template and checked by the domain.
TYPE_CHOICES = [("", _l("Choose a credential"))] + [(t, CREDENTIAL_TYPE[t]) for t in PER_LANGUAGE_TYPES]


class ApplicationForm(FlaskForm):
    name = StringField(_l("Full name"))
    email = EmailField(_l("Email"))
    phone = TelField(_l("Phone"))
    gender = StringField(_l("Gender"))
    county = StringField(_l("County"))
    municipality = StringField(_l("Municipality (optional)"))
    birth_date = StringField(_l("Date of birth"))

    @staticmethod
    def row(n: int) -> str:
        """The prefix of the fields of language row n (1-based)."""
        return f"lang{n}_"


for _n in range(1, LANGUAGE_ROWS + 1):
    _prefix = ApplicationForm.row(_n)
    setattr(ApplicationForm, _prefix + "language", StringField(_l("Language %(n)s: language", n=_n)))
    setattr(ApplicationForm, _prefix + "type", StringField(_l("Language %(n)s: credential", n=_n)))
    setattr(ApplicationForm, _prefix + "issued_on", StringField(_l("Language %(n)s: date of issue", n=_n)))
    setattr(ApplicationForm, _prefix + "valid_until", StringField(_l("Language %(n)s: valid until", n=_n)))
    setattr(ApplicationForm, _prefix + "evidence", FileField(_l("Language %(n)s: evidence", n=_n)))

ApplicationForm.tao_issued_on = StringField(_l("TAO course: date of issue"))
ApplicationForm.tao_evidence = FileField(_l("TAO course: evidence"))
ApplicationForm.message = TextAreaField(_l("Message to the registry (optional)"))
