"""What comes out: models as JSON, and the JSON Schema of each shape, side by side so they stay in step.

Times go out as RFC 3339 in Europe/Oslo with the offset; dates as YYYY-MM-DD; register numbers as strings.
"""

from datetime import date, datetime

from ..domain.clock import OSLO
from ..domain.languages import language_name
from ..i18n import current_language
from ..models import Booking, Credential, Interpreter, WorkingHours
from ..models.account import SECTORS
from ..models.booking import NO_SHOW, REPORT_STATES, STATUSES, WARNINGS
from ..models.credential import CREDENTIAL_TYPES
from ..models.credential import STATES as CREDENTIAL_STATES
from ..models.interpreter import AVAILABILITY, CATEGORIES, GENDERS, MODALITIES
from ..models.interpreter import STATUSES as INTERPRETER_STATUSES
from ..models.sanction import SANCTION_KINDS


def moment(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(OSLO).isoformat(timespec="seconds")


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def language(code: str, category: str | None = None) -> dict:
    item = {"code": code, "name": language_name(code, current_language())}
    if category is not None:
        item["category"] = category
    return item


def languages_of(interpreter: Interpreter) -> list[dict]:
    return [language(q.language_code, q.category) for q in sorted(interpreter.qualifications,
                                                                   key=lambda q: (q.rank, q.language_code))]


def register_entry(interpreter: Interpreter) -> dict:
    """An interpreter as the public register shows them; contact only with their consent."""
    item = {
        "register_number": str(interpreter.register_number), "name": interpreter.name, "gender": interpreter.gender,
        "county": interpreter.county_number, "county_name": interpreter.county.name,
        "modalities": interpreter.modalities, "availability": interpreter.availability,
        "status": interpreter.status, "languages": languages_of(interpreter),
    }
    if interpreter.publish_contact:
        item["contact"] = {"email": interpreter.email, "phone": interpreter.phone}
    return item


def candidate(c) -> dict:
    return {"register_number": str(c.register_number), "name": c.name, "county": c.county_number,
            "category": c.category, "credential_expires_before_start": c.credential_expires_before_start}


def booking(b: Booking) -> dict:
    person = b.interpreter
    reported = b.report_state not in (None, "awaiting")
    return {
        "id": b.id, "status": b.status, "language": b.language_code, "min_category": b.min_category,
        "modality": b.modality, "start": moment(b.starts_at), "end": moment(b.ends_at),
        "interpreter": None if person is None else {"register_number": str(person.register_number),
                                                    "name": person.name},
        "agency": {"orgnr": b.agency.orgnr, "name": b.agency.name}, "sector": b.sector, "address": b.address,
        "municipality": b.municipality_number, "meeting_url": b.meeting_url, "description": b.description,
        "gender_preference": b.gender_preference, "reference": b.reference,
        "contact": {"name": b.contact_name, "phone": b.contact_phone},
        "respond_by": moment(b.respond_by) if b.status == "requested" else None,
        "late_cancellation": bool(b.late_cancellation), "billable": bool(b.billable),
        "cancel_reason": b.cancel_reason, "no_show": b.no_show, "warnings": b.warnings,
        "time_report": {"state": b.report_state, "actual_start": moment(b.actual_start),
                        "actual_end": moment(b.actual_end), "travel_minutes": b.travel_minutes,
                        "dispute_reason": b.dispute_reason} if reported else None,
        "created_at": moment(b.created_at), "updated_at": moment(b.updated_at),
    }


def credential(c: Credential) -> dict:
    return {"id": c.id, "type": c.type, "language": c.language_code, "state": c.state,
            "issued_on": day(c.issued_on), "valid_until": day(c.valid_until), "verified_at": moment(c.verified_at)}


def sanction(decision) -> dict:
    """A sanction_decisions.Decision: the sanction and its state today."""
    s = decision.sanction
    return {"id": s.id, "kind": s.kind, "state": decision.state, "reason": s.reason, "decided_on": day(s.decided_on),
            "starts_on": day(s.starts_on), "ends_on": day(s.ends_on), "serious_breach": s.serious_breach,
            "lifted_at": moment(s.lifted_at),
            "created_at": moment(s.created_at)}


def hours(rows: list[WorkingHours]) -> list[dict]:
    return [{"weekday": h.weekday, "start": h.start_time.strftime("%H:%M"), "end": h.end_time.strftime("%H:%M")}
            for h in rows]


def admin_record(interpreter: Interpreter, working: list[WorkingHours], sanctions: list) -> dict:
    return {
        "register_number": str(interpreter.register_number), "name": interpreter.name, "gender": interpreter.gender,
        "county": interpreter.county_number, "municipality": interpreter.municipality_number,
        "email": interpreter.email, "phone": interpreter.phone, "publish_contact": bool(interpreter.publish_contact),
        "modalities": interpreter.modalities, "availability": interpreter.availability, "status": interpreter.status,
        "listed": interpreter.listed, "working_hours": hours(working), "languages": languages_of(interpreter),
        "credentials": [credential(c) for c in interpreter.credentials],
        "sanctions": [sanction(s) for s in sanctions],
        "created_at": moment(interpreter.created_at), "updated_at": moment(interpreter.updated_at),
    }


def page(items: list, next_cursor: str | None) -> dict:
    return {"items": items, "next_cursor": next_cursor}


# JSON Schemas of the responses (components/schemas) ----------------------------------------------

def _s(kind: str, nullable: bool = False, **more) -> dict:
    return {"type": [kind, "null"] if nullable else kind, **more}


def _enum(values, nullable: bool = False, **more) -> dict:
    return {"type": ["string", "null"] if nullable else "string", "enum": list(values) + ([None] if nullable else []),
            **more}


def _object(properties: dict, optional: tuple = (), description: str | None = None) -> dict:
    schema = {"type": "object", "additionalProperties": False, "properties": properties,
              "required": [name for name in properties if name not in optional]}
    if description:
        schema["description"] = description
    return schema


def _list(item_ref: str) -> dict:
    return _object({"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_ref}"}},
                    "next_cursor": _s("string", True, description="Give as ?cursor= for the next page; "
                                                                 "null on the last page.")})


DATE_TIME = _s("string", format="date-time")
DATE_TIME_OR_NULL = _s("string", True, format="date-time")
DATE_OR_NULL = _s("string", True, format="date")
NUMBER = _s("string", pattern="^[0-9]+$", description="Register number.")
LANGUAGE_ITEM = _object({"code": _s("string"), "name": _s("string"), "category": _enum(CATEGORIES)},
                        optional=("category",))

SCHEMAS = {
    "OpenApiDocument": {"type": "object", "required": ["openapi", "info", "paths"],
                        "description": "An OpenAPI 3.1 document."},
    "Language": _object({"code": _s("string"), "name": _s("string")}),
    "LanguageList": _list("Language"),
    "QualifiedLanguage": _object({"code": _s("string"), "name": _s("string"), "category": _enum(CATEGORIES)}),
    "RegisterEntry": _object({
        "register_number": NUMBER, "name": _s("string"), "gender": _enum(GENDERS), "county": _s("string"),
        "county_name": _s("string"), "modalities": {"type": "array", "items": _enum(MODALITIES)},
        "availability": _enum(AVAILABILITY), "status": _enum(("active", "paused")),
        "languages": {"type": "array", "items": {"$ref": "#/components/schemas/QualifiedLanguage"}},
        "contact": _object({"email": _s("string", True), "phone": _s("string", True)},
                           description="Only when the interpreter has agreed to publish it."),
    }, optional=("contact",)),
    "RegisterList": _list("RegisterEntry"),
    "Verification": _object({
        "register_number": NUMBER, "name": _s("string"), "language": _s("string", True),
        "qualified": _s("boolean"), "category": _enum(CATEGORIES, True),
        "languages": {"type": "array", "items": {"$ref": "#/components/schemas/QualifiedLanguage"}},
        "as_of": _s("string", format="date"),
    }),
    "Candidate": _object({
        "register_number": NUMBER, "name": _s("string"), "county": _s("string"), "category": _enum(CATEGORIES),
        "credential_expires_before_start": {"type": "boolean", "description": "The category rests on a credential "
                                                                             "that runs out before the start."},
    }),
    "CandidateList": _list("Candidate"),
    "Booking": _object({
        "id": _s("integer"), "status": _enum(STATUSES), "language": _s("string"), "min_category": _enum(CATEGORIES),
        "modality": _enum(MODALITIES), "start": DATE_TIME, "end": DATE_TIME,
        "interpreter": {"oneOf": [{"type": "null"}, _object({"register_number": NUMBER, "name": _s("string")})]},
        "agency": _object({"orgnr": _s("string"), "name": _s("string")}), "sector": _enum(SECTORS),
        "address": _s("string", True), "municipality": _s("string", True), "meeting_url": _s("string", True),
        "description": _s("string", True), "gender_preference": _enum(("female", "male"), True),
        "reference": _s("string", True),
        "contact": _object({"name": _s("string", True), "phone": _s("string", True)}),
        "respond_by": DATE_TIME_OR_NULL, "late_cancellation": _s("boolean"), "billable": _s("boolean"),
        "cancel_reason": _s("string", True), "no_show": _enum(NO_SHOW, True),
        "warnings": {"type": "array", "items": _enum(WARNINGS)},
        "time_report": {"oneOf": [{"type": "null"}, _object({
            "state": _enum(REPORT_STATES), "actual_start": DATE_TIME_OR_NULL, "actual_end": DATE_TIME_OR_NULL,
            "travel_minutes": _s("integer", True), "dispute_reason": _s("string", True)})]},
        "created_at": DATE_TIME, "updated_at": DATE_TIME,
    }),
    "BookingList": _list("Booking"),
    "Credential": _object({
        "id": _s("integer"), "type": _enum(CREDENTIAL_TYPES), "language": _s("string", True),
        "state": _enum(CREDENTIAL_STATES), "issued_on": _s("string", format="date"), "valid_until": DATE_OR_NULL,
        "verified_at": DATE_TIME_OR_NULL,
    }),
    "CredentialRecorded": _object({
        "credential": {"$ref": "#/components/schemas/Credential"},
        "languages": {"type": "array", "items": {"$ref": "#/components/schemas/QualifiedLanguage"}},
    }, description="The new credential, and the interpreter's categories recomputed with it."),
    "Sanction": _object({
        "id": _s("integer"), "kind": _enum(SANCTION_KINDS),
        "state": _enum(("holding", "ended", "lifted", "counting", "old", "report"),
                       description="A suspension or exclusion: holding, ended or lifted; a warning: counting "
                                   "(within five years) or old; a report of a breach: report."),
        "reason": _s("string"),
        "decided_on": _s("string", format="date"), "starts_on": DATE_OR_NULL, "ends_on": DATE_OR_NULL,
        "serious_breach": _s("boolean", description="An exclusion decided for one serious breach, not after three "
                                                    "warnings."),
        "lifted_at": DATE_TIME_OR_NULL, "created_at": DATE_TIME,
    }),
    "InterpreterRecord": _object({
        "register_number": NUMBER, "name": _s("string"), "gender": _enum(GENDERS), "county": _s("string"),
        "municipality": _s("string", True), "email": _s("string", True), "phone": _s("string", True),
        "publish_contact": _s("boolean"), "modalities": {"type": "array", "items": _enum(MODALITIES)},
        "availability": _enum(AVAILABILITY), "status": _enum(INTERPRETER_STATUSES), "listed": _s("boolean"),
        "working_hours": {"type": "array", "items": {"$ref": "#/components/schemas/WorkingPeriod"}},
        "languages": {"type": "array", "items": {"$ref": "#/components/schemas/QualifiedLanguage"}},
        "credentials": {"type": "array", "items": {"$ref": "#/components/schemas/Credential"}},
        "sanctions": {"type": "array", "items": {"$ref": "#/components/schemas/Sanction"}},
        "created_at": DATE_TIME, "updated_at": DATE_TIME,
    }),
    "Problem": _object({
        "type": _s("string", format="uri-reference", description="Identifies the kind of problem; the "
                                                                 "documentation page explains each."),
        "title": _s("string"), "status": _s("integer", minimum=400, maximum=599), "detail": _s("string"),
        "errors": {"type": "array", "description": "Each field at fault (validation problems).",
                   "items": _object({"field": _s("string", True), "message": _s("string")})},
    }, optional=("errors",), description="An error, as RFC 9457 application/problem+json."),
}
