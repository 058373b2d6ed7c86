"""Registry administrators: enter interpreters, their verified credentials and sanctions."""

from flask import request
from flask_babel import lazy_gettext as _l

from ..domain import admin_records, clock, sanction_decisions
from ..domain.profile import Period
from ..extensions import db
from . import bodies, serialize
from .auth import current, token
from .openapi import operation
from .views import answer, bp, location, parse_number, read_body

NUMBER = _l("The interpreter's register number.")


def _record_json(register_number: int) -> dict:
    interpreter = admin_records.record(db.session, register_number)
    decisions = sanction_decisions.history(db.session, interpreter.id, clock.oslo_date())
    return serialize.admin_record(interpreter, admin_records.working_hours(db.session, interpreter), decisions)


def _new_interpreter() -> admin_records.NewInterpreter:
    data = read_body(bodies.NEW_INTERPRETER)
    hours = data["working_hours"]
    return admin_records.NewInterpreter(
        name=data["name"], gender=data["gender"], county=data["county"], municipality=data["municipality"],
        email=data["email"], phone=data["phone"], modalities=data["modalities"], availability=data["availability"],
        publish_contact=data["publish_contact"],
        working_hours=None if hours is None else [Period(p["weekday"], p["start"], p["end"]) for p in hours])


@bp.post("/admin/interpreters")
@token("registry_admin")
@operation(id="createInterpreter", tag="admin", summary=_l("Enter an interpreter in the register"),
           description=_l("The interpreter gets the next register number and is active, but listed only once a "
                          "verified credential gives them a category. Without working_hours they work Monday to "
                          "Friday 08:00-16:00."),
           body=bodies.NEW_INTERPRETER, status=201, result="InterpreterRecord",
           headers={"Location": _l("The interpreter's record.")})
def create_interpreter():
    made = admin_records.register_interpreter(db.session, current(), _new_interpreter(), clock.now(),
                                              ip=request.remote_addr)
    db.session.commit()
    return answer(_record_json(made.register_number), 201,
                  {"Location": location("api.get_interpreter", register_number=made.register_number)})


@bp.get("/admin/interpreters/<register_number>")
@token("registry_admin")
@operation(id="getInterpreter", tag="admin", summary=_l("An interpreter's full record"),
           description=_l("Whatever their status: contact details, working hours, credentials, categories and "
                          "sanctions."), path={"register_number": NUMBER}, result="InterpreterRecord")
def get_interpreter(register_number: str):
    return answer(_record_json(parse_number(register_number)))


@bp.post("/admin/interpreters/<register_number>/credentials")
@token("registry_admin")
@operation(id="addCredential", tag="admin", summary=_l("Record a verified credential"),
           description=_l("Recorded as verified by you, and the interpreter's categories are recomputed at once."),
           path={"register_number": NUMBER}, body=bodies.NEW_CREDENTIAL, status=201, result="CredentialRecorded",
           errors=(409,))
def add_credential(register_number: str):
    data = read_body(bodies.NEW_CREDENTIAL)
    interpreter = admin_records.record(db.session, parse_number(register_number))
    made = admin_records.add_verified_credential(
        db.session, current(), interpreter, type=data["type"], language=data["language"],
        issued_on=data["issued_on"], valid_until=data["valid_until"], now=clock.now(), ip=request.remote_addr)
    db.session.commit()
    return answer({"credential": serialize.credential(made), "languages": serialize.languages_of(interpreter)}, 201)


@bp.post("/admin/interpreters/<register_number>/sanctions")
@token("registry_admin")
@operation(id="addSanction", tag="admin", summary=_l("Record a warning, suspension or exclusion"),
           description=_l("A suspension or exclusion takes effect at once: the interpreter is no longer listed or "
                          "bookable, and the bodies with future bookings are told. The interpreter is told by "
                          "email."),
           path={"register_number": NUMBER}, body=bodies.NEW_SANCTION, status=201, result="Sanction")
def add_sanction(register_number: str):
    data = read_body(bodies.NEW_SANCTION)
    interpreter = admin_records.record(db.session, parse_number(register_number))
    made = sanction_decisions.decide(
        db.session, current(), interpreter, kind=data["kind"], reason=data["reason"], decided_on=data["decided_on"],
        starts_on=data["starts_on"], ends_on=data["ends_on"], serious_breach=data["serious_breach"], now=clock.now(),
        ip=request.remote_addr)
    db.session.commit()
    decision = next(d for d in sanction_decisions.history(db.session, interpreter.id, clock.oslo_date())
                    if d.sanction.id == made.id)
    return answer(serialize.sanction(decision), 201)
