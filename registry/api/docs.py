"""The documentation page's content, read from the OpenAPI document (so page and document never differ)."""

from dataclasses import dataclass, field

REF = "#/components/schemas/"


@dataclass
class TypeText:
    """A schema in words: `text`, and the schema it links to, if any."""

    text: str
    ref: str | None = None
    nullable: bool = False
    enum: list = field(default_factory=list)


def describe(schema: dict) -> TypeText:
    if "$ref" in schema:
        return TypeText(schema["$ref"].removeprefix(REF), schema["$ref"].removeprefix(REF))
    if "oneOf" in schema:
        options = [s for s in schema["oneOf"] if s.get("type") != "null"]
        inner = describe(options[0]) if options else TypeText("object")
        return TypeText(inner.text, inner.ref, True, inner.enum)
    kind = schema.get("type", "object")
    nullable = isinstance(kind, list) and "null" in kind
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "array":
        inner = describe(schema.get("items", {}))
        return TypeText(f"array of {inner.text}", inner.ref, nullable, inner.enum)
    text = kind
    if schema.get("format"):
        text += f" ({schema['format']})"
    elif schema.get("pattern"):
        text += f" {schema['pattern']}"
    enum = [v for v in schema.get("enum", []) if v is not None]
    return TypeText(text, None, nullable, enum)


@dataclass
class Row:
    name: str
    type: TypeText
    required: bool
    description: str
    limits: str = ""


def _limits(schema: dict) -> str:
    parts = []
    for key, label in (("minimum", "≥"), ("maximum", "≤"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("maxItems", "max items"), ("default", "default")):
        if key in schema:
            parts.append(f"{label} {schema[key]}")
    return ", ".join(parts)


def properties(schema: dict) -> list[Row]:
    required = set(schema.get("required", []))
    return [Row(name, describe(prop), name in required, prop.get("description", ""), _limits(prop))
            for name, prop in schema.get("properties", {}).items()]


def parameters(operation: dict) -> list[Row]:
    return [Row(f"{p['name']}", describe(p["schema"]), p.get("required", False), p.get("description", ""),
                f"{p['in']}" + (f"; {_limits(p['schema'])}" if _limits(p["schema"]) else ""))
            for p in operation.get("parameters", [])]


@dataclass
class Response:
    status: str
    description: str
    media_type: str | None
    type: TypeText | None
    headers: list[str]


def responses(operation: dict) -> list[Response]:
    result = []
    for status, response in operation["responses"].items():
        content = response.get("content", {})
        media_type = next(iter(content), None)
        schema = content[media_type].get("schema") if media_type else None
        result.append(Response(status, response["description"], media_type,
                               describe(schema) if schema else None, list(response.get("headers", {}))))
    return result


@dataclass
class Op:
    id: str
    method: str
    path: str
    summary: str
    description: str
    roles: list[str]
    parameters: list[Row]
    body: TypeText | None
    body_required: bool
    responses: list[Response]


def page_model(doc: dict) -> dict:
    """Operations grouped by tag in document order, schemas by name, problem types."""
    groups = {tag["name"]: {"name": tag["name"], "description": tag["description"], "operations": []}
              for tag in doc["tags"]}
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody")
            groups[op["tags"][0]]["operations"].append(Op(
                op["operationId"], method.upper(), doc["servers"][0]["url"] + path, op["summary"],
                op.get("description", ""), op["x-roles"], parameters(op),
                describe(body["content"]["application/json"]["schema"]) if body else None,
                bool(body and body.get("required")), responses(op)))
    schemas = [{"name": name, "description": schema.get("description", ""), "properties": properties(schema)}
               for name, schema in sorted(doc["components"]["schemas"].items())]
    return {"groups": [g for g in groups.values() if g["operations"]], "schemas": schemas,
            "problems": doc["x-problem-types"]}
