"""Forms of the calendar pages. They only parse; every rule is in registry/domain/calendar.py."""

from flask_wtf import FlaskForm


class RotateForm(FlaskForm):
    """The button that replaces the feed address: only its CSRF token."""
