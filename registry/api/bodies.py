"""The request bodies and query parameters of each operation (checked by schemas.py, described in OpenAPI)."""

from flask_babel import lazy_gettext as _l

from ..labels import POLICE_CERTIFICATE_SECTORS_NAMED
from ..models.account import SECTORS
from ..models.booking import NO_SHOW, STATUSES
from ..models.credential import CREDENTIAL_TYPES
from ..models.interpreter import AVAILABILITY, CATEGORIES, GENDERS, MODALITIES
from .schemas import EXAMPLE_END, EXAMPLE_START, Body, Prop

MAX_LIMIT = 100
REGISTER_NUMBER = r"[0-9]{1,9}"
LANGUAGE = Prop("string", _l("Language code (ISO 639), as listed by GET /languages."), max_length=12, example="ar")
CATEGORY = Prop("string", _l("The lowest category accepted: A is the highest, E the lowest."), enum=CATEGORIES,
                example="C")
MODALITY = Prop("string", _l("How the interpreter works: on site, by video or by phone."), enum=MODALITIES,
                example="video")
COUNTY = Prop("string", _l("County number (two digits, 2024 numbering)."), pattern=r"[0-9]{2}", example="03")
MUNICIPALITY = Prop("string", _l("Municipality number (four digits, 2024 numbering)."), pattern=r"[0-9]{4}",
                    example="0301")


def required(prop: Prop, example=None) -> Prop:
    values = {**prop.__dict__, "required": True}
    if example is not None:
        values["example"] = example
    return Prop(**values)


# Query parameters ---------------------------------------------------------------------------------

PAGING = {
    "cursor": Prop("string", _l("The next_cursor of the previous page; leave out for the first page."),
                   max_length=2000),
    "limit": Prop("integer", _l("Items per page, at most 100."), minimum=1, maximum=MAX_LIMIT, default=25),
}
REGISTER_SEARCH = {
    "language": LANGUAGE,
    "min_category": CATEGORY,
    "county": COUNTY,
    "gender": Prop("string", _l("Gender."), enum=GENDERS),
    "modality": MODALITY,
    "q": Prop("string", _l("Part of the name, or a register number."), max_length=100),
    **PAGING,
}
VERIFY = {"language": Prop("string", _l("Ask about this language only."), max_length=12, example="ar")}
AVAILABILITY_SEARCH = {
    "language": required(LANGUAGE),
    "min_category": required(CATEGORY),
    "modality": required(MODALITY),
    "start": Prop("string", _l("Start, RFC 3339 with an offset."), required=True, format="date-time",
                  example=EXAMPLE_START),
    "end": Prop("string", _l("End, RFC 3339 with an offset."), required=True, format="date-time",
                example=EXAMPLE_END),
    "county": Prop("string", _l("On site: only interpreters living in this county (default: the municipality's "
                                "county). Not used for video and phone."), pattern=r"[0-9]{2}", example="03"),
    "municipality": Prop("string", _l("On site: where the assignment is; interpreters living nearby rank first. "
                                      "Not used for video and phone."), pattern=r"[0-9]{4}", example="0301"),
    "gender": Prop("string", _l("Only interpreters of this gender."), enum=("female", "male")),
    "sector": Prop("string", _l("The sector the assignment is in. In those that need an interpreter holding a police "
                                "certificate valid on the day (%(sectors)s), only such interpreters are found.",
                                sectors=POLICE_CERTIFICATE_SECTORS_NAMED), enum=SECTORS, example="health"),
    **PAGING,
}
BOOKING_LIST = {
    "status": Prop("string", _l("Only bookings with this status."), enum=STATUSES),
    "from": Prop("string", _l("Only bookings that start at or after this time (RFC 3339 with an offset)."),
                 format="date-time"),
    "to": Prop("string", _l("Only bookings that start before this time (RFC 3339 with an offset)."),
               format="date-time"),
    **PAGING,
}
MY_BOOKINGS = {
    "from": Prop("string", _l("Only bookings that end after this time (RFC 3339 with an offset). "
                              "Default: 30 days ago."), format="date-time"),
    "to": Prop("string", _l("Only bookings that start before this time (RFC 3339 with an offset)."),
               format="date-time"),
    **PAGING,
}

# Bodies -------------------------------------------------------------------------------------------

NEW_BOOKING = Body("BookingRequest", {
    "language": required(LANGUAGE),
    "min_category": required(CATEGORY),
    "modality": required(MODALITY),
    "start": Prop("string", _l("Start, RFC 3339 with an offset."), required=True, format="date-time",
                  example=EXAMPLE_START),
    "end": Prop("string", _l("End, RFC 3339 with an offset."), required=True, format="date-time",
                example=EXAMPLE_END),
    "interpreter": Prop("string", _l("Register number of the interpreter asked directly; leave out for an open "
                                     "request offered to every qualified, free interpreter."),
                        pattern=REGISTER_NUMBER, example="1001"),
    "sector": Prop("string", _l("The sector the assignment is in. These need an interpreter holding a police "
                                "certificate valid on the day: %(sectors)s.", sectors=POLICE_CERTIFICATE_SECTORS_NAMED),
                   required=True, enum=SECTORS, example="health"),
    "address": Prop("string", _l("Where to meet (required on site)."), max_length=300),
    "municipality": Prop("string", _l("The municipality where the interpreter is to meet (required on site)."),
                         pattern=r"[0-9]{4}", example="0301"),
    "meeting_url": Prop("string", _l("The video meeting link (https://)."), max_length=500),
    "description": Prop("string", _l("A short description. Never the client's name or health information."),
                        max_length=500),
    "gender_preference": Prop("string", _l("Only an interpreter of this gender."), enum=("female", "male")),
    "reference": Prop("string", _l("Your own reference, such as a case or appointment number."), max_length=100),
    "contact_name": Prop("string", _l("Who the interpreter can contact; default: the token's user."),
                         max_length=200),
    "contact_phone": Prop("string", _l("The contact's phone number."), max_length=32),
}, _l("A request for an interpreter."), {
    "language": "ar", "min_category": "C", "modality": "video", "start": EXAMPLE_START, "end": EXAMPLE_END,
    "interpreter": "1001", "sector": "health", "meeting_url": "https://meet.example/room-42", "reference": "PAS-42"})

CANCEL = Body("Cancellation", {
    "reason": Prop("string", _l("Why the booking is cancelled."), max_length=500),
}, _l("A cancellation; the body may be left out."), {"reason": "The appointment was moved."})

TIME_DISPUTE = Body("TimeDispute", {
    "reason": Prop("string", _l("What is wrong with the reported time; the interpreter reads it and can report again."),
                   required=True, min_length=1, max_length=500),
}, _l("A dispute of the time the interpreter reported."), {"reason": "The assignment ended at 10:00, not 10:20."})

NO_SHOW_REPORT = Body("NoShow", {
    "party": Prop("string", _l("Who did not come: the client (the assignment is billable) or the interpreter (it is "
                               "not)."), required=True, enum=NO_SHOW),
}, _l("A no-show at a confirmed assignment that has started."), {"party": "client"})

TIME_REPORT = Body("TimeReport", {
    "actual_start": Prop("string", _l("When the assignment actually started (RFC 3339 with an offset)."),
                         required=True, format="date-time", example=EXAMPLE_START),
    "actual_end": Prop("string", _l("When it actually ended (RFC 3339 with an offset)."), required=True,
                       format="date-time", example=EXAMPLE_END),
    "travel_minutes": Prop("integer", _l("Travel time in minutes (on-site assignments only)."), minimum=0,
                           maximum=1440),
}, _l("The interpreter's report of the time an assignment took."), {
    "actual_start": "2027-03-01T09:00:00+01:00", "actual_end": "2027-03-01T10:20:00+01:00"})

PERIOD = Body("WorkingPeriod", {
    "weekday": Prop("integer", _l("0 = Monday ... 6 = Sunday."), required=True, minimum=0, maximum=6),
    "start": Prop("string", _l("Start, HH:MM in Norwegian time."), required=True, pattern=r"[0-2][0-9]:[0-5][0-9]",
                  example="08:00"),
    "end": Prop("string", _l("End, HH:MM in Norwegian time."), required=True, pattern=r"[0-2][0-9]:[0-5][0-9]",
                example="16:00"),
}, _l("A weekly working period."))

NEW_INTERPRETER = Body("NewInterpreter", {
    "name": Prop("string", _l("Full name."), required=True, min_length=1, max_length=200, example="Amina Hussein"),
    "gender": Prop("string", _l("Gender."), required=True, enum=GENDERS, example="female"),
    "county": required(COUNTY),
    "municipality": MUNICIPALITY,
    "email": Prop("string", _l("Email address."), required=True, min_length=3, max_length=254,
                  example="amina@example.no"),
    "phone": Prop("string", _l("Phone number."), max_length=40, example="+47 912 34 567"),
    "modalities": Prop("array", _l("The ways the interpreter works."), required=True,
                       items=Prop("string", enum=MODALITIES, required=True), min_items=1, max_items=3, unique=True,
                       example=["onsite", "video"]),
    "availability": Prop("string", _l("How much the interpreter can work."), required=True, enum=AVAILABILITY,
                         example="part_time"),
    "publish_contact": Prop("boolean", _l("Whether the email and phone are shown in the public register."),
                            required=True, example=False),
    "working_hours": Prop("array", _l("Weekly hours; leave out for Monday to Friday 08:00-16:00, give [] for "
                                      "none."), items=PERIOD, max_items=50),
}, _l("An interpreter to enter in the register."), {
    "name": "Amina Hussein", "gender": "female", "county": "03", "municipality": "0301", "email": "amina@example.no",
    "phone": "+47 912 34 567", "modalities": ["onsite", "video"], "availability": "part_time",
    "publish_contact": False, "working_hours": [{"weekday": 0, "start": "08:00", "end": "16:00"}]})

NEW_CREDENTIAL = Body("NewCredential", {
    "type": Prop("string", _l("The kind of credential."), required=True, enum=CREDENTIAL_TYPES,
                 example="authorisation"),
    "language": Prop("string", _l("The language (required for every type but tao and police_certificate)."),
                     max_length=12, example="ar"),
    "issued_on": Prop("string", _l("Date of issue."), required=True, format="date", example="2020-06-15"),
    "valid_until": Prop("string", _l("Last valid day; leave out for the type's default validity."), format="date"),
}, _l("A credential the registry administrator has verified."), {
    "type": "authorisation", "language": "ar", "issued_on": "2020-06-15"})

NEW_SANCTION = Body("NewSanction", {
    "kind": Prop("string", _l("The decision."), required=True, enum=("warning", "suspension", "exclusion"),
                 example="warning"),
    "reason": Prop("string", _l("The reasons for the decision."), required=True, min_length=1, max_length=4000,
                   example="Breach of confidentiality at an assignment."),
    "decided_on": Prop("string", _l("The day it was decided; default today. A warning counts for five years "
                                    "from it."), format="date"),
    "starts_on": Prop("string", _l("The first day a suspension or exclusion holds: not before it was decided, "
                                   "and not after today. For a warning the decision date is used."),
                      required=True, format="date", example="2027-03-01"),
    "ends_on": Prop("string", _l("The last day a suspension or exclusion holds; leave out for good. A warning has "
                                 "none."), format="date"),
    "serious_breach": Prop("boolean", _l("An exclusion for one serious breach of good interpreting practice. Without "
                                         "it, an exclusion needs three written warnings within five years; other "
                                         "decisions must leave it false."), default=False),
}, _l("A sanction under tolkeloven §§ 19-21."), {
    "kind": "warning", "reason": "Breach of confidentiality at an assignment.", "starts_on": "2027-03-01"})
