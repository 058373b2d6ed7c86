"""Small builders for tests: real rows through the real domain functions."""

from datetime import date

from registry.domain import qualification
from registry.domain.interpreters import create_interpreter
from registry.models import Credential

TODAY = date(2027, 3, 1)


def interpreter(session, name="Amina Hussein", county="03", credentials=(), today=TODAY, **fields):
    """An interpreter with credentials given as (type, language, extra-fields) and categories computed."""
    defaults = dict(gender="female", availability="part_time", municipality_number=None,
                    email="amina@example.no", phone="+47 91234567")
    defaults.update(fields)
    person = create_interpreter(session, name=name, county_number=county, **defaults)
    for type, language, *extra in credentials:
        values = dict(state="verified", issued_on=date(2020, 1, 1))
        values.update(extra[0] if extra else {})
        session.add(Credential(interpreter_id=person.id, type=type, language_code=language, **values))
    session.flush()
    qualification.recompute(session, [person.id], today)
    session.commit()
    return person


PASSWORD = "correct horse battery staple"


def user(session, email="booker@example.no", role="booker", agency=None, person=None, password=PASSWORD, **fields):
    """A user with a password; bookers and agency admins get an agency if none is given."""
    from registry.domain import accounts

    if role in ("booker", "agency_admin") and agency is None:
        agency = accounts.create_agency(session, "974760673", "Helse Testby HF", "health", "03")
    if role == "interpreter" and person is None:
        person = interpreter(session, email=email)
    new = accounts.create_user(session, email, fields.pop("name", email), role, agency=agency, interpreter=person)
    accounts.set_password(new, password, "CHEAPEST")
    for key, value in fields.items():
        setattr(new, key, value)
    session.commit()
    return new
