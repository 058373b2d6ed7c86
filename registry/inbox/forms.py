"""Forms of the interpreter's assignment pages. They only parse; every rule is in registry/domain."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, ValidationError

# What happened to a booking, as its history lists it (the audit log's action codes).
HISTORY = {
    "booking.requested": _l("Requested"),
    "booking.opened": _l("Sent as an open request"),
    "booking.accepted": _l("Accepted"),
    "booking.offer_declined": _l("You said no to the offer"),
    "booking.declined": _l("Declined"),
    "booking.cancelled": _l("Cancelled"),
    "booking.withdrawn": _l("The interpreter withdrew"),
    "booking.time_reported": _l("Time reported"),
    "booking.time_approved": _l("Time approved"),
    "booking.time_disputed": _l("Time disputed"),
    "booking.no_show": _l("No-show recorded"),
    "booking.lapsed": _l("Lapsed without an answer"),
    "booking.flagged_not_qualified": _l("Flagged: the interpreter no longer qualifies"),
    "booking.qualified_again": _l("No longer flagged: the interpreter can take it again"),
}
# Who did it, by their part only.
WHO = {
    "you": _l("You"), "agency": _l("The public body"), "interpreter": _l("Another interpreter"),
    "registry": _l("The registry administrators"), "system": _l("The system"), "unknown": _l("Someone"),
}
# The same words as the booker's form (registry/booking/labels.py FOLD): one translation for both.
FOLD_CHOICES = [("0", _l("Summer time: the first time the clock shows it (UTC+2)")),
                ("1", _l("Winter time: the second time, after the clocks went back (UTC+1)"))]
_MINUTES = re.compile(r"\d{1,5}")


class ActionForm(FlaskForm):
    """A button that only needs its CSRF token."""


class TimeForm(FlaskForm):
    actual_start = StringField(_l("Actual start"))
    start_fold = StringField(_l("Which start time do you mean?"))  # radio buttons of FOLD_CHOICES
    actual_end = StringField(_l("Actual end"))
    end_fold = StringField(_l("Which end time do you mean?"))
    travel_minutes = StringField(_l("Travel time in minutes (optional)"))

    def validate_travel_minutes(self, field) -> None:
        text = (field.data or "").strip()
        if text and not _MINUTES.fullmatch(text):
            raise ValidationError(_l("Write the travel time in whole minutes, such as 45."))

    def travel(self) -> int | None:
        text = (self.travel_minutes.data or "").strip()
        return int(text) if text else None

    @staticmethod
    def fold(field) -> int | None:
        return int(field.data) if field.data in ("0", "1") else None
