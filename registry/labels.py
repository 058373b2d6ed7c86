"""Words shown for stored codes, translated; one place for every view and template."""

from babel.lists import format_list
from flask_babel import LazyString, format_decimal, get_locale
from flask_babel import lazy_gettext as _l

from .domain import qualification

GENDER = {"female": _l("Female"), "male": _l("Male"), "other": _l("Other")}
MODALITY = {"onsite": _l("On site"), "video": _l("Video"), "phone": _l("Phone")}
AVAILABILITY = {"full_time": _l("Full-time"), "part_time": _l("Part-time"), "occasional": _l("Occasional")}
STATUS = {
    "active": _l("Active"), "paused": _l("Paused"), "suspended": _l("Suspended"),
    "excluded": _l("Excluded"), "inactive": _l("Inactive"),
}
ROLE = {
    "registry_admin": _l("Registry administrator"), "agency_admin": _l("Administrator for a public body"),
    "booker": _l("Booker"), "interpreter": _l("Interpreter"),
}
SECTOR = {
    "health": _l("Health"), "nav": _l("NAV"), "child_welfare": _l("Child welfare"), "school": _l("School"),
    "police": _l("Police"), "court": _l("Court"), "immigration": _l("Immigration"),
    "municipal": _l("Municipal services"),
    "other": _l("Other"),
}


def police_certificate_sectors() -> str:
    """The sectors whose assignments need a police certificate, named as a list in the reader's language ("Child
    welfare and Police"), so the texts that state the rule follow qualification.POLICE_CERTIFICATE_SECTORS."""
    return format_list(sorted(str(SECTOR[s]) for s in qualification.POLICE_CERTIFICATE_SECTORS), locale=get_locale())


# For a text made before the reader's language is known (the API's descriptions).
POLICE_CERTIFICATE_SECTORS_NAMED = LazyString(police_certificate_sectors)
CATEGORY = {
    "A": _l("A: state authorised, with a bachelor's degree in interpreting"),
    "B": _l("B: bachelor's degree in interpreting, or state authorised with the basic course"),
    "C": _l("C: state authorised"),
    "D": _l("D: basic course in public-sector interpreting"),
    "E": _l("E: passed the bilingual test or state-authorised translator, with the TAO course"),
}


def register(app) -> None:
    from .domain.languages import language_name
    from .i18n import current_language

    app.jinja_env.globals.update(
        GENDER_LABELS=GENDER, MODALITY_LABELS=MODALITY, AVAILABILITY_LABELS=AVAILABILITY,
        STATUS_LABELS=STATUS, CATEGORY_LABELS=CATEGORY, ROLE_LABELS=ROLE, SECTOR_LABELS=SECTOR,
        police_certificate_sectors=police_certificate_sectors,
    )
    from .paging import page_url

    app.jinja_env.globals["page_url"] = page_url
    app.jinja_env.globals["modality_list"] = lambda i: ", ".join(str(MODALITY[m]) for m in i.modalities)
    from datetime import datetime

    app.jinja_env.filters["from_iso"] = datetime.fromisoformat
    app.jinja_env.filters["language_name"] = lambda code: language_name(code, current_language())
    app.jinja_env.filters["number"] = format_decimal  # in the reader's language: 3 666 in Norwegian
