"""Applications: a registered interpreter applying for a new credential, and a person applying to join.

Either way the credentials wait as `pending` with their evidence; categories change only when a registry
administrator verifies them. Files are checked before anything is stored, and removed again if the change
that was to use them fails.
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from ..models import Application, Credential, Interpreter
from ..models.credential import CREDENTIAL_TYPES, GENERAL_TYPES, PER_LANGUAGE_TYPES
from ..models.interpreter import GENDERS
from . import audit, evidence, notifications
from .errors import InvalidInput
from .interpreters import add_credential, create_interpreter
from .profile import (
    InvalidFields,
    check_contact_email,
    check_note,
    check_phone,
    check_place,
    errors_of,
    gather,
    parse_date,
)
from .register import check_language

NAME_MAX = 200
MESSAGE_MAX = 1000
ADULT_AGE = 18
OLDEST_AGE = 100


@dataclass(frozen=True)
class CredentialClaim:
    """A credential as entered: raw values from a form (or typed values), and the evidence file.

    `prefix` is put before each field name in errors (`lang1_` gives `lang1_language`)."""

    type: str | None
    language: str | None
    issued_on: object
    valid_until: object = None
    upload: evidence.Upload | None = None
    prefix: str = ""


@dataclass(frozen=True)
class CheckedCredential:
    type: str
    language: str | None
    issued_on: date
    valid_until: date | None


def check_credential(session, claim: CredentialClaim, today: date) -> CheckedCredential:
    """A known type; a known language exactly for per-language types; issued by today; valid_until after."""
    errors: list[InvalidInput] = []

    def field(name):
        return claim.prefix + name

    def fail(message, name):
        errors.append(InvalidInput(message, field(name)))

    kind = (claim.type or "").strip()
    language = (claim.language or "").strip() or None
    if kind not in CREDENTIAL_TYPES:
        fail(_l("Choose the kind of credential."), "type")
    elif kind in GENERAL_TYPES and language:
        fail(_l("This credential is not for one language. Leave the language empty."), "language")
    elif kind in PER_LANGUAGE_TYPES and not language:
        fail(_l("Choose the language the credential is for."), "language")
    elif language:
        try:
            check_language(session, language)
        except InvalidInput as error:
            fail(error.message, "language")
    try:
        dates = gather(issued_on=lambda: parse_date(claim.issued_on, field("issued_on")),
                       valid_until=lambda: parse_date(claim.valid_until, field("valid_until")))
    except InvalidFields as error:
        errors.extend(error.errors)
        dates = None
    if dates is not None:
        issued_on, valid_until = dates["issued_on"], dates["valid_until"]
        if issued_on is None:
            fail(_l("Enter the date the credential was issued."), "issued_on")
        elif issued_on > today:
            fail(_l("The date of issue cannot be in the future."), "issued_on")
        elif valid_until is not None and valid_until < issued_on:
            fail(_l("The credential cannot run out before it was issued."), "valid_until")
    if errors:
        raise InvalidFields(errors)
    return CheckedCredential(kind, language if kind in PER_LANGUAGE_TYPES else None, issued_on, valid_until)


def _check_claim_and_file(session, claim: CredentialClaim, today: date, max_bytes: int) -> CheckedCredential:
    """Check the fields and the file together, so every fault is reported at once."""
    checked = gather(
        credential=lambda: check_credential(session, claim, today),
        evidence=lambda: evidence.check_upload(claim.upload, max_bytes, claim.prefix + "evidence"),
    )
    return checked["credential"]


def _record_credential(session, interpreter: Interpreter, checked: CheckedCredential, stored: evidence.Stored,
                       today: date) -> Credential:
    return add_credential(session, interpreter, checked.type, checked.language, checked.issued_on, today,
                          state="pending", valid_until=checked.valid_until, evidence_ref=stored.ref,
                          evidence_name=stored.name, evidence_type=stored.type)


def _credential_record(credential: Credential) -> dict:
    return {"interpreter_id": credential.interpreter_id, "type": credential.type,
            "language": credential.language_code, "issued_on": credential.issued_on,
            "valid_until": credential.valid_until, "state": credential.state,
            "evidence_name": credential.evidence_name, "evidence_type": credential.evidence_type}


def apply_for_credential(session, interpreter: Interpreter, claim: CredentialClaim, *, today: date, evidence_dir,
                         max_bytes: int, actor, ip: str | None = None) -> Credential:
    """A registered interpreter's new credential, pending until verified, with its evidence stored."""
    checked = _check_claim_and_file(session, claim, today, max_bytes)
    stored = evidence.store(claim.upload, evidence_dir, max_bytes, claim.prefix + "evidence")
    try:
        credential = _record_credential(session, interpreter, checked, stored, today)
        audit.record(session, "credential.applied", actor=actor, object_type="credential", object_id=credential.id,
                     after=_credential_record(credential), ip=ip)
    except BaseException:
        evidence.discard(evidence_dir, [stored.ref])
        raise
    return credential


# Applying to join the register -------------------------------------------------------------------

@dataclass(frozen=True)
class Applicant:
    name: str | None
    email: str | None
    phone: str | None
    gender: str | None
    county_number: str | None
    municipality_number: str | None
    birth_date: object
    message: str | None = None


def _claim_is_empty(claim: CredentialClaim) -> bool:
    return not any(((claim.language or "").strip(), str(claim.issued_on or "").strip(),
                    str(claim.valid_until or "").strip(), claim.upload and claim.upload.filename))


def check_name(value) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise InvalidInput(_l("Enter your full name."), "name")
    if len(name) > NAME_MAX:
        raise InvalidInput(_l("Write at most %(n)s characters (now %(count)s).", n=NAME_MAX, count=len(name)),
                           "name")
    return name


def check_gender(value) -> str:
    if value not in GENDERS:
        raise InvalidInput(_l("Choose a gender."), "gender")
    return value


def check_birth_date(value, today: date) -> date:
    """A date that makes the applicant an adult, and not implausibly old."""
    born = parse_date(value, "birth_date")
    if born is None:
        raise InvalidInput(_l("Enter your date of birth."), "birth_date")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < ADULT_AGE:
        raise InvalidInput(_l("You must be at least %(n)s years old to be registered as an interpreter.",
                              n=ADULT_AGE), "birth_date")
    if age > OLDEST_AGE:
        raise InvalidInput(_l("Check the date of birth: the year looks wrong."), "birth_date")
    return born


def check_languages(session, claims: list[CredentialClaim], today: date, max_bytes: int,
                    first_field: str) -> list[tuple[CredentialClaim, CheckedCredential]]:
    """The filled-in language rows (at least one), each a per-language credential with evidence."""
    filled = [c for c in claims if not _claim_is_empty(c)]
    if not filled:
        raise InvalidInput(_l("Add at least one language, with a credential and its evidence."), first_field)
    result, errors, seen = [], [], set()
    for claim in filled:
        try:
            if claim.type in GENERAL_TYPES:
                raise InvalidInput(_l("Choose a credential for a language here; the TAO course has its own "
                                      "field below."), claim.prefix + "type")
            checked = _check_claim_and_file(session, claim, today, max_bytes)
        except InvalidInput as error:
            errors.extend(errors_of(error))
            continue
        if (checked.type, checked.language) in seen:
            errors.append(InvalidInput(_l("You have listed this credential for this language twice."),
                                       claim.prefix + "language"))
        seen.add((checked.type, checked.language))
        result.append((claim, checked))
    if errors:
        raise InvalidFields(errors)
    return result


def check_tao(session, claim: CredentialClaim | None, today: date, max_bytes: int):
    """The optional TAO course: nothing, or a date of issue with its evidence."""
    if claim is None or _claim_is_empty(claim):
        return None
    return claim, _check_claim_and_file(session, claim, today, max_bytes)


def submit_application(session, applicant: Applicant, claims: list[CredentialClaim], tao: CredentialClaim | None,
                       *, today: date, evidence_dir, max_bytes: int, locale: str | None = "nb",
                       ip: str | None = None) -> Application:
    """A person applies to join: an inactive interpreter (with a register number), pending credentials with
    their evidence, an application waiting for a registry administrator, and a receipt by email."""
    first_field = claims[0].prefix + "language" if claims else "language"
    checked = gather(
        name=lambda: check_name(applicant.name),
        email=lambda: check_contact_email(applicant.email, required=True),
        phone=lambda: check_phone(applicant.phone, required=True),
        gender=lambda: check_gender(applicant.gender),
        place=lambda: check_place(applicant.county_number, applicant.municipality_number),
        birth_date=lambda: check_birth_date(applicant.birth_date, today),
        languages=lambda: check_languages(session, claims, today, max_bytes, first_field),
        tao=lambda: check_tao(session, tao, today, max_bytes),
        message=lambda: check_note(applicant.message, "message", MESSAGE_MAX),
    )
    wanted = checked["languages"] + ([checked["tao"]] if checked["tao"] else [])
    stored: list[evidence.Stored] = []
    try:
        for claim, _ in wanted:
            stored.append(evidence.store(claim.upload, evidence_dir, max_bytes, claim.prefix + "evidence"))
        county, municipality = checked["place"]
        interpreter = create_interpreter(
            session, name=checked["name"], gender=checked["gender"], county_number=county,
            municipality_number=municipality, email=checked["email"], phone=checked["phone"],
            publish_contact=False, availability="occasional", status="inactive", birth_date=checked["birth_date"])
        credentials = [_record_credential(session, interpreter, c, s, today) for (_, c), s in zip(wanted, stored,
                                                                                                   strict=True)]
        application = Application(interpreter_id=interpreter.id, state="pending", message=checked["message"])
        session.add(application)
        session.flush()
        audit.record(session, "application.submitted", actor_label=checked["email"], object_type="application",
                     object_id=application.id, ip=ip, after={
                         "interpreter_id": interpreter.id, "register_number": interpreter.register_number,
                         "credentials": [_credential_record(c) for c in credentials]})
        notifications.enqueue(
            session, "application_received", checked["email"], event_key=f"application_received:{application.id}",
            locale=locale, name=interpreter.name, reference=interpreter.register_number,
            languages=sorted({c.language_code for c in credentials if c.language_code}))
    except BaseException:
        evidence.discard(evidence_dir, [s.ref for s in stored])
        raise
    return application
