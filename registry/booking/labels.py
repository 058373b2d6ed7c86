"""Words for booking codes, translated. (Candidates for registry/labels.py once the inbox needs them too.)"""

from flask_babel import lazy_gettext as _l

STATUS = {
    "requested": _l("Requested, waiting for the interpreter's answer"),
    "open": _l("Open, offered to qualified interpreters"),
    "confirmed": _l("Confirmed"),
    "declined": _l("Declined by the interpreter"),
    "lapsed": _l("Lapsed: not answered in time"),
    "cancelled": _l("Cancelled"),
    "completed": _l("Completed"),
}
# Short, for the list; the booking's page explains each one in full (WARNING).
WARNING_SHORT = {
    "credential_expires_before_start": _l("The interpreter's credential ends before the start"),
    "interpreter_not_qualified": _l("The interpreter no longer qualifies"),
}
WARNING = {
    "credential_expires_before_start": _l(
        "A credential behind the interpreter's category ends before this assignment starts. Unless it is renewed "
        "in time, the interpreter will not hold the category on the day. Check with the interpreter, or book "
        "another."),
    "interpreter_not_qualified": _l(
        "The interpreter can no longer take this booking: a credential it needs (one behind the category, or the "
        "police certificate some sectors need) has expired or been revoked, or the interpreter has been suspended "
        "or excluded. Cancel this booking and book another interpreter."),
}
ACTION = {
    "booking.requested": _l("Request sent to the interpreter"),
    "booking.opened": _l("Open request created and offered to interpreters"),
    "booking.accepted": _l("Accepted by the interpreter"),
    "booking.declined": _l("Declined by the interpreter"),
    "booking.cancelled": _l("Cancelled"),
    "booking.withdrawn": _l("The interpreter withdrew; the request is open again"),
    "booking.lapsed": _l("Lapsed: the interpreter did not answer in time"),
    "booking.time_reported": _l("Actual time reported by the interpreter"),
    "booking.time_approved": _l("Reported time approved"),
    "booking.time_disputed": _l("Reported time disputed"),
    "booking.no_show": _l("No-show recorded"),
    "booking.flagged_not_qualified": _l("Warning: the interpreter no longer qualifies"),
    "booking.qualified_again": _l("Warning taken away: the interpreter can take the booking again"),
    "booking.offer_declined": _l("An interpreter declined the open request"),
}
REPORT_STATE = {
    "awaiting": _l("Waiting for the interpreter to report the time"),
    "reported": _l("Reported, waiting for your approval"),
    "approved": _l("Approved"),
    "disputed": _l("Disputed, waiting for the interpreter"),
}
NO_SHOW = {
    "client": _l("The client did not come"),
    "interpreter": _l("The interpreter did not come"),
}
FOLD = {
    "0": _l("Summer time: the first time the clock shows it (UTC+2)"),
    "1": _l("Winter time: the second time, after the clocks went back (UTC+1)"),
}
