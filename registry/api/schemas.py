"""What goes in: request bodies and query parameters, declared once, checked here and described in OpenAPI.

A `Prop` declares one value (type, format, limits, description); `Body` a JSON object of them. `check_body`
and `check_query` check input against the declarations, report every fault at once (InvalidFields, whose
fields name the place: `working_hours[0].start`), and convert times and dates. `json_schema` turns the same
declarations into the JSON Schema of the OpenAPI document, so the document cannot drift from the checks.
The business rules stay in registry/domain; these only check shape.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l

from ..domain.errors import InvalidInput
from ..domain.profile import InvalidFields
from ..domain.times import parse_with_offset
from ..domain.typed import FORBIDDEN, FORBIDDEN_MESSAGE

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

EXAMPLE_START = "2027-03-02T10:00:00+01:00"
EXAMPLE_END = "2027-03-02T11:00:00+01:00"


@dataclass(frozen=True)
class Prop:
    type: str  # string, integer, boolean, array, object
    description: object = None
    required: bool = False
    enum: tuple | None = None
    format: str | None = None  # date-time, date, uri
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    items: "Prop | Body | None" = None
    min_items: int | None = None
    max_items: int | None = None
    unique: bool = False
    default: object = None
    example: object = None


@dataclass(frozen=True)
class Body:
    name: str  # the schema's name in components
    props: dict = field(default_factory=dict)
    description: object = None
    example: dict | None = None  # a whole valid body, for the document (and Schemathesis' explicit phase)


MESSAGES = {
    "required": _l("This field is required."),
    "string": _l("Give a text (a JSON string)."),
    "integer": _l("Give a whole number."),
    "boolean": _l("Give true or false."),
    "array": _l("Give a list (a JSON array)."),
    "object": _l("Give a JSON object."),
    "unknown": _l("Unknown field."),
    "characters": FORBIDDEN_MESSAGE,
    "date": _l("Give a date as YYYY-MM-DD, such as 2027-03-01."),
    "range": _l("The time is out of range."),
    "unique": _l("Each value can be given only once."),
}


def _fault(faults: list, where: str, message) -> None:
    faults.append(InvalidInput(message, where))


def _check_string(prop: Prop, value: str, where: str, faults: list):
    if FORBIDDEN.search(value):
        return _fault(faults, where, MESSAGES["characters"])
    if prop.format == "date-time":
        return _datetime(value, where, faults)
    if prop.format == "date":
        return _date(value, where, faults)
    if prop.enum is not None and value not in prop.enum:
        return _fault(faults, where, _l("Give one of: %(values)s.", values=", ".join(prop.enum)))
    if prop.min_length is not None and len(value) < prop.min_length:
        return _fault(faults, where, MESSAGES["required"] if prop.min_length == 1 else
                      _l("Write at least %(n)s characters.", n=prop.min_length))
    if prop.max_length is not None and len(value) > prop.max_length:
        return _fault(faults, where, _l("Write at most %(n)s characters (now %(count)s).", n=prop.max_length,
                                        count=len(value)))
    if prop.pattern is not None and not re.fullmatch(prop.pattern, value):
        return _fault(faults, where, _l("The value does not have the expected form (%(example)s).",
                                        example=prop.example if prop.example is not None else prop.pattern))
    return value


def _datetime(value: str, where: str, faults: list):
    if not RFC3339.fullmatch(value.strip()):
        try:  # the domain explains what is wrong: no offset, or no time at all
            parse_with_offset(value, where)
        except InvalidInput as error:
            return faults.append(error)
        return _fault(faults, where, _l("Give the time as RFC 3339 with an offset, like 2027-03-01T09:00:00+01:00."))
    try:
        moment = parse_with_offset(value, where)
    except InvalidInput as error:
        return faults.append(error)
    except OverflowError:
        return _fault(faults, where, MESSAGES["range"])
    if not EARLIEST <= moment < LATEST:
        return _fault(faults, where, MESSAGES["range"])
    return moment


def _date(value: str, where: str, faults: list):
    try:
        parsed = date.fromisoformat(value) if DATE.fullmatch(value) else None
    except ValueError:
        parsed = None
    if parsed is None or not 1900 <= parsed.year < 9000:
        return _fault(faults, where, MESSAGES["date"])
    return parsed


def check_value(prop: Prop | Body, value, where: str, faults: list):
    """The value converted, or None with the faults appended."""
    if isinstance(prop, Body):
        return check_object(prop, value, where, faults)
    kind = prop.type
    if kind == "string":
        if not isinstance(value, str):
            return _fault(faults, where, MESSAGES["string"])
        return _check_string(prop, value, where, faults)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return _fault(faults, where, MESSAGES["integer"])
        if (prop.minimum is not None and value < prop.minimum) or (prop.maximum is not None and value > prop.maximum):
            return _fault(faults, where, _l("Give a whole number from %(min)s to %(max)s.", min=prop.minimum,
                                            max=prop.maximum))
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            return _fault(faults, where, MESSAGES["boolean"])
        return value
    if kind == "array":
        if not isinstance(value, list):
            return _fault(faults, where, MESSAGES["array"])
        if (prop.min_items is not None and len(value) < prop.min_items) or (
                prop.max_items is not None and len(value) > prop.max_items):
            return _fault(faults, where, _l("Give from %(min)s to %(max)s values.", min=prop.min_items or 0,
                                            max=prop.max_items))
        if prop.unique and len({repr(v) for v in value}) != len(value):
            return _fault(faults, where, MESSAGES["unique"])
        return [check_value(prop.items, item, f"{where}[{i}]", faults) for i, item in enumerate(value)]
    raise ValueError(f"unknown type {kind}")


def check_object(body: Body, data, where: str, faults: list) -> dict | None:
    if not isinstance(data, dict):
        return _fault(faults, where or "body", MESSAGES["object"])
    prefix = f"{where}." if where else ""
    for name in data:
        if name not in body.props:
            _fault(faults, prefix + str(name)[:50], MESSAGES["unknown"])
    result = {}
    for name, prop in body.props.items():
        value = data.get(name)
        if value is None:
            if getattr(prop, "required", False):
                _fault(faults, prefix + name, MESSAGES["required"])
            result[name] = getattr(prop, "default", None)
            continue
        result[name] = check_value(prop, value, prefix + name, faults)
    return result


def check_body(body: Body, data) -> dict:
    faults: list[InvalidInput] = []
    result = check_object(body, data, "", faults)
    if faults:
        raise InvalidFields(faults)
    return result


def check_query(params: dict[str, Prop], args) -> dict:
    """Query parameters by their declarations; an empty value counts as not given."""
    faults: list[InvalidInput] = []
    result = {}
    for name, prop in params.items():
        raw = args.get(name)
        if raw is None or raw.strip() == "":
            if prop.required:
                _fault(faults, name, MESSAGES["required"])
            result[name] = prop.default
            continue
        raw = raw.strip()
        if prop.type == "integer":
            if not re.fullmatch(r"-?\d{1,9}", raw):
                _fault(faults, name, MESSAGES["integer"])
                continue
            result[name] = check_value(prop, int(raw), name, faults)
        else:
            result[name] = check_value(prop, raw, name, faults)
    if faults:
        raise InvalidFields(faults)
    return result


# To JSON Schema (OpenAPI 3.1) ---------------------------------------------------------------------

def json_schema(prop: Prop | Body, refs: bool = True) -> dict:
    if isinstance(prop, Body):
        if refs:
            return {"$ref": f"#/components/schemas/{prop.name}"}
        schema = {"type": "object", "additionalProperties": False,
                  "properties": {name: json_schema(p) for name, p in prop.props.items()}}
        required = [name for name, p in prop.props.items() if getattr(p, "required", False)]
        if required:
            schema["required"] = required
        if prop.description:
            schema["description"] = str(prop.description)
        return schema
    schema: dict = {"type": prop.type if prop.required else [prop.type, "null"]}
    for key, value in (("format", prop.format), ("pattern", _anchored(prop.pattern)), ("minLength", prop.min_length),
                       ("maxLength", prop.max_length), ("minimum", prop.minimum), ("maximum", prop.maximum),
                       ("minItems", prop.min_items), ("maxItems", prop.max_items), ("default", prop.default),
                       ("example", prop.example)):
        if value is not None:
            schema[key] = value
    if prop.enum is not None:
        schema["enum"] = list(prop.enum) + ([] if prop.required else [None])
    if prop.unique:
        schema["uniqueItems"] = True
    if prop.items is not None:
        schema["items"] = json_schema(prop.items)
    if prop.description:
        schema["description"] = str(prop.description)
    return schema


def _anchored(pattern: str | None) -> str | None:
    return None if pattern is None else f"^(?:{pattern})$"


def query_schema(prop: Prop) -> dict:
    """A query parameter's schema: strings on the wire, never null."""
    schema = json_schema(Prop(**{**prop.__dict__, "required": True}))
    if not prop.required and prop.default is not None:
        schema["default"] = prop.default
    return schema
