"""The OpenAPI 3.1 document, built from the routes themselves.

Each API view carries an `Operation` (the `@operation(...)` decorator): what it does, its query
parameters, body and responses. `document()` walks the app's URL map, so a route without an operation
fails loudly, and the access rule on each view (public, or the roles of `@token`) gives its security,
its 401/403 responses and `x-roles`. Summaries and descriptions are lazy strings: the document, and the
documentation page rendered from it, come in the request's language.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..access import rule_of
from ..domain.typed import MAX_ID
from . import bodies, schemas, serialize
from .problems import TYPES

PREFIX = "/api/v1"
JSON = "application/json"
PROBLEM = "application/problem+json"
_ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")


@dataclass(frozen=True)
class Operation:
    id: str
    tag: str
    summary: object
    description: object = None
    query: dict = field(default_factory=dict)
    path: dict = field(default_factory=dict)  # path parameter name: description
    body: schemas.Body | None = None
    body_optional: bool = False
    status: int = 200
    result: str | None = None  # a components/schemas name
    result_description: object = None
    media_type: str = JSON
    headers: dict = field(default_factory=dict)  # response header name: description, on `status`
    also: dict = field(default_factory=dict)  # other success statuses: (description, headers)
    request_headers: dict = field(default_factory=dict)  # name: (Prop, description)
    errors: tuple = ()  # statuses beyond those every operation of its kind has


def operation(**kwargs) -> Callable:
    def decorate(view: Callable) -> Callable:
        view.operation = Operation(**kwargs)
        return view

    return decorate


TAGS = {
    "register": _l("The public register"),
    "bookings": _l("Bookings for public bodies"),
    "interpreters": _l("For interpreters"),
    "admin": _l("For registry administrators"),
    "meta": _l("This documentation"),
}
RESPONSE_TEXT = {
    400: _l("A query parameter or header is not valid, or the body is not JSON."),
    401: _l("No API token, or not a valid one."),
    403: _l("The token's role may not use this operation."),
    404: _l("Not found (or another agency's or interpreter's)."),
    409: _l("The state of the booking or register does not allow it, or someone else was first."),
    410: _l("An open request offered to you that another interpreter took, or that was cancelled or lapsed."),
    413: _l("The body is over 1 MB."),
    415: _l("The body is not application/json."),
    422: _l("The body is not valid: see errors."),
    429: _l("Too many requests: wait Retry-After seconds."),
    500: _l("An error on our side."),
}


def api_routes(app) -> list:
    """(rule, method, view) for every API route, in the order they were added."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.rule.startswith(PREFIX):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((rule, method, app.view_functions[rule.endpoint]))
    return found


def openapi_path(rule) -> str:
    return _ARGUMENT.sub(lambda m: "{" + m.group(2) + "}", rule.rule[len(PREFIX):]) or "/"


def _problem(description) -> dict:
    return {"description": str(description), "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _parameters(rule, op: Operation) -> list[dict]:
    params = []
    for converter, name in _ARGUMENT.findall(rule.rule):
        if converter == "int":
            schema, example = {"type": "integer", "minimum": 1, "maximum": MAX_ID}, 1
        else:
            schema, example = {"type": "string", "pattern": "^[0-9]{1,9}$"}, "1001"
        params.append({"name": name, "in": "path", "required": True, "schema": schema,
                       "description": str(op.path.get(name, name)), "example": example})
    for name, (prop, description) in op.request_headers.items():
        params.append({"name": name, "in": "header", "required": prop.required,
                       "schema": schemas.query_schema(prop), "description": str(description)})
    for name, prop in op.query.items():
        param = {"name": name, "in": "query", "required": prop.required, "schema": schemas.query_schema(prop)}
        if prop.description:
            param["description"] = str(prop.description)
        if prop.example is not None:
            param["example"] = prop.example
        params.append(param)
    return params


def _success(op: Operation) -> dict:
    def response(description, headers: dict) -> dict:
        result = {"description": str(description or op.summary)}
        if op.media_type != JSON:
            result["content"] = {op.media_type: {"schema": {"type": "string"}}}
        elif op.result:
            result["content"] = {JSON: {"schema": {"$ref": f"#/components/schemas/{op.result}"}}}
        if headers:
            result["headers"] = {name: {"description": str(text), "schema": {"type": "string"}}
                                 for name, text in headers.items()}
        return result

    responses = {str(op.status): response(op.result_description, op.headers)}
    for status, (description, headers) in op.also.items():
        responses[str(status)] = response(description, headers)
    return responses


def _responses(rule, method: str, op: Operation, protected: bool) -> dict:
    responses = _success(op)
    statuses = set(op.errors) | {429, 500}
    if op.query or op.request_headers:
        statuses.add(400)
    if protected:
        statuses |= {401, 403}
    if _ARGUMENT.search(rule.rule):
        statuses.add(404)
    if method == "POST" and op.body is not None:
        statuses |= {400, 413, 415, 422}
    for status in sorted(statuses):
        responses[str(status)] = _problem(RESPONSE_TEXT[status])
    if 401 in statuses:
        responses["401"]["headers"] = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
    responses["429"]["headers"] = {"Retry-After": {"description": str(_l("Seconds to wait.")),
                                                   "required": True, "schema": {"type": "string"}}}
    return responses


def _operation(rule, method: str, view) -> dict:
    op: Operation = getattr(view, "operation", None)
    if op is None:
        raise LookupError(f"{rule.endpoint} has no @operation: add one so the API document describes it")
    access = rule_of(view)
    if access is None:
        raise LookupError(f"{rule.endpoint} has no access rule")
    protected = access != "public"
    result = {"operationId": op.id, "tags": [op.tag], "summary": str(op.summary)}
    if op.description:
        result["description"] = str(op.description)
    params = _parameters(rule, op)
    if params:
        result["parameters"] = params
    if op.body is not None:
        content = {"schema": schemas.json_schema(op.body)}
        if op.body.example is not None:
            content["example"] = op.body.example
        result["requestBody"] = {"required": not op.body_optional, "content": {JSON: content}}
    result["responses"] = _responses(rule, method, op, protected)
    result["security"] = [{"bearer": []}] if protected else []
    result["x-roles"] = sorted(access) if protected else ["public"]
    return result


def _components(operations: list[Operation]) -> dict:
    found = dict(serialize.SCHEMAS)

    def collect(body: schemas.Body) -> None:
        found[body.name] = schemas.json_schema(body, refs=False)
        for prop in body.props.values():
            if isinstance(prop.items, schemas.Body):
                collect(prop.items)

    for op in operations:
        if op.body is not None:
            collect(op.body)
    collect(bodies.PERIOD)
    return found


def document(app=None) -> dict:
    app = app or current_app
    paths: dict = {}
    operations = []
    for rule, method, view in api_routes(app):
        paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation(rule, method, view)
        operations.append(view.operation)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": str(_l("The Interpreter Register API")),
            "version": "1.0.0",
            "summary": str(_l("Search the national register of public-service interpreters, and book them.")),
            "description": str(_l(
                "JSON in and out (UTF-8). Authentication: Authorization: Bearer TOKEN. Times are RFC 3339 with an "
                "offset, answered in Europe/Oslo time; dates are YYYY-MM-DD. Lists are {items, next_cursor}: "
                "give next_cursor as ?cursor= for the next page. Errors are application/problem+json (RFC 9457). "
                "Texts come in the language of the Accept-Language header (nb, nn or en).")),
        },
        "servers": [{"url": PREFIX}],
        "tags": [{"name": name, "description": str(text)} for name, text in TAGS.items()],
        "paths": paths,
        "components": {
            "schemas": _components(operations),
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": str(_l("An API token from the agency page or `flask --app registry tokens "
                                      "create`."))}},
        },
        "x-problem-types": {slug: {"status": status, "title": str(title)} for slug, (status, title) in TYPES.items()},
    }
