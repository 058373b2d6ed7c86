"""The public report of a breach. It only parses; the rules are in registry/domain/sanction_decisions.py."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField


class ReportForm(FlaskForm):
    register_number = StringField(_l("The interpreter's register number"))
    what_happened = TextAreaField(_l("What happened"))
    reporter_name = StringField(_l("Your name (optional)"))
    reporter_email = EmailField(_l("Your email (optional)"))
