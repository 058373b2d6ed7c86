"""Public operations, no token: languages, the register, card verification, and this API's own documents."""

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from .. import paging
from ..access import public
from ..domain import register
from ..domain.clock import oslo_date
from ..domain.languages import LANGUAGE_CODES, language_choices
from ..domain.qualification import CATEGORY_RANK
from ..extensions import db
from ..i18n import current_language
from . import bodies, openapi, serialize
from . import docs as docs_model
from .openapi import operation
from .schemas import check_query
from .views import answer, bp, parse_number

NUMBER = _l("The interpreter's register number.")


@bp.get("/languages")
@public
@operation(id="listLanguages", tag="register", summary=_l("The languages of the register"),
           description=_l("Every language interpreters can be registered for, named in the request's language "
                          "and sorted by name. One page holds them all."),
           result="LanguageList")
def languages():
    items = [{"code": code, "name": name} for code, name in language_choices(LANGUAGE_CODES, current_language())]
    return answer(serialize.page(items, None))


@bp.get("/register")
@public
@operation(id="searchRegister", tag="register", summary=_l("Search the public register"),
           description=_l("Listed interpreters (qualified, not suspended or excluded). With a language, the "
                          "highest category comes first; otherwise by name. Bad parameters are 400."),
           query=bodies.REGISTER_SEARCH, result="RegisterList")
def search():
    q = check_query(bodies.REGISTER_SEARCH, request.args)
    filters = register.parse_filters(db.session, {name: q[name] for name in register.Filters.__dataclass_fields__})
    after = paging.decode("api:register", q["cursor"])
    found, next_key = register.search(db.session, filters, after, q["limit"])
    return answer(serialize.page([serialize.register_entry(i) for i in found],
                                 paging.encode("api:register", next_key)))


@bp.get("/register/<register_number>")
@public
@operation(id="getRegisterEntry", tag="register", summary=_l("One interpreter in the public register"),
           description=_l("404 if no listed interpreter has the number."), path={"register_number": NUMBER},
           result="RegisterEntry")
def entry(register_number: str):
    number = parse_number(register_number)
    return answer(serialize.register_entry(register.listed_interpreter(db.session, number)))


@bp.get("/verify/<register_number>")
@public
@operation(id="verifyInterpreter", tag="register", summary=_l("Verify an interpreter's card"),
           description=_l("Is this a qualified interpreter today, and at which category? Computed from the "
                          "credentials valid today. Unknown number: 404; suspended or excluded: not qualified."),
           path={"register_number": NUMBER}, query=bodies.VERIFY, result="Verification")
def verify(register_number: str):
    q = check_query(bodies.VERIFY, request.args)
    if q["language"]:
        register.check_language(db.session, q["language"])
    result = register.verify(db.session, parse_number(register_number), oslo_date())
    ranked = sorted(result.categories.items(), key=lambda item: (CATEGORY_RANK[item[1]], item[0]))
    category = result.categories.get(q["language"]) if q["language"] else None
    return answer({
        "register_number": str(result.register_number), "name": result.name, "language": q["language"],
        "qualified": category is not None if q["language"] else result.qualified, "category": category,
        "languages": [serialize.language(code, cat) for code, cat in ranked], "as_of": result.as_of.isoformat(),
    })


@bp.get("/openapi.json")
@public
@operation(id="getOpenApiDocument", tag="meta", summary=_l("This API's OpenAPI 3.1 document"),
           result="OpenApiDocument", result_description=_l("The OpenAPI document."))
def openapi_document():
    return answer(openapi.document())


@bp.get("/docs")
@public
@operation(id="getDocumentation", tag="meta", summary=_l("This API's documentation page"),
           media_type="text/html", result_description=_l("The documentation, as an HTML page."))
def docs():
    doc = openapi.document()
    return render_template("api/docs.html", doc=doc, model=docs_model.page_model(doc))
