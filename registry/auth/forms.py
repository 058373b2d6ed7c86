"""Forms of the login and account pages; every message is translated."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..domain.accounts import PASSWORD_MAX, PASSWORD_MIN

REQUIRED = _l("This field is required.")


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)])


class CodeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(REQUIRED), Length(max=20)])


class EmailForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(REQUIRED), Length(max=254)])


def new_password_fields():
    password = PasswordField(_l("New password"), validators=[
        DataRequired(REQUIRED),
        Length(min=PASSWORD_MIN, max=PASSWORD_MAX,
               message=_l("The password must be %(min)s to %(max)s characters.", min=PASSWORD_MIN,
                          max=PASSWORD_MAX)),
    ])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        DataRequired(REQUIRED), EqualTo("password", message=_l("The two passwords are not the same.")),
    ])
    return password, confirm


class SetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)])
    password, confirm = new_password_fields()


class ReauthForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(REQUIRED), Length(max=PASSWORD_MAX)])


class TwoFactorSetupForm(FlaskForm):
    code = StringField(_l("Code from the authenticator app"), validators=[DataRequired(REQUIRED), Length(max=20)])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language of the service and of emails"),
                         choices=[SelectChoice("nb", "Norsk bokmål"), SelectChoice("nn", "Norsk nynorsk"),
                                  SelectChoice("en", "English")])


class TokenForm(FlaskForm):
    name = StringField(_l("Name of the token"), validators=[DataRequired(REQUIRED), Length(max=100)])


class ConfirmForm(FlaskForm):
    """A button that only needs its CSRF token."""

    confirm = BooleanField(default=True)
