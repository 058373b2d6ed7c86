"""The OpenAPI document: valid OpenAPI 3.1, one operation for every API route and no more, and the docs page."""

import re

import pytest
from openapi_spec_validator import validate

from registry.access import rule_of
from registry.api.openapi import PREFIX

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def doc(client, api_config):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")


def test_every_api_route_is_in_the_document_and_nothing_else(app, doc):
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(method, doc["servers"][0]["url"] + path) for path, item in doc["paths"].items()
                  for method in item if method in METHODS}
    assert routes == documented
    assert len(routes) >= 21


def test_every_route_carries_an_access_rule(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX):
            assert rule_of(app.view_functions[rule.endpoint]) is not None, rule.rule


def test_every_operation_is_fully_described(doc):
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op["summary"] and op["tags"] and op["x-roles"], (method, path)
            statuses = set(op["responses"])
            assert any(s.startswith("2") for s in statuses)
            assert {"429", "500"} <= statuses
            if op["x-roles"] != ["public"]:
                assert {"401", "403"} <= statuses and op["security"] == [{"bearer": []}]
            else:
                assert op["security"] == []
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= statuses
            if "{" in path:
                assert "404" in statuses
            for param in op.get("parameters", []):
                assert param["in"] in ("path", "query", "header") and param["schema"], param
            for status, response in op["responses"].items():
                if status[0] in "45":
                    assert response["content"]["application/problem+json"]["schema"]["$ref"].endswith("/Problem")
    assert len(ids) == len(set(ids))


def test_the_contracts_paths_are_there(doc):
    expected = {
        ("get", "/languages"), ("get", "/register"), ("get", "/register/{register_number}"),
        ("get", "/verify/{register_number}"), ("get", "/availability"), ("post", "/bookings"), ("get", "/bookings"),
        ("get", "/bookings/{id}"), ("post", "/bookings/{id}/cancel"), ("post", "/bookings/{id}/approve-time"),
        ("post", "/bookings/{id}/dispute-time"), ("post", "/bookings/{id}/no-show"),
        ("get", "/me/bookings"), ("get", "/me/offers"), ("post", "/bookings/{id}/accept"),
        ("post", "/bookings/{id}/decline"), ("post", "/bookings/{id}/withdraw"), ("post", "/bookings/{id}/time-report"),
        ("post", "/admin/interpreters"), ("get", "/admin/interpreters/{register_number}"),
        ("post", "/admin/interpreters/{register_number}/credentials"),
        ("post", "/admin/interpreters/{register_number}/sanctions"),
    }
    assert expected <= {(m, p) for p, item in doc["paths"].items() for m in item}


def test_the_booking_schema_lists_the_contracts_fields(doc):
    booking = doc["components"]["schemas"]["Booking"]["properties"]
    assert {"id", "status", "language", "min_category", "modality", "start", "end", "interpreter", "agency", "sector",
            "address", "municipality", "meeting_url", "description", "reference", "late_cancellation", "warnings",
            "created_at", "updated_at"} <= set(booking)
    problem = doc["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem["properties"])


@pytest.mark.parametrize("language, heading", [("en", "The Interpreter Register API"), ("nb", None), ("nn", None)])
def test_the_documentation_page(client, doc, language, heading):
    response = client.get(f"/api/v1/docs?lang={language}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f'<html lang="{language}"' in html
    if heading:
        assert f">{heading}</h1>" in html
    for item in doc["paths"].values():
        for op in item.values():
            assert f'id="op-{op["operationId"]}"' in html
    for name in doc["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    for slug in doc["x-problem-types"]:
        assert f'id="problem-{slug}"' in html
    # A strict CSP page: no inline style or script; every table captioned.
    assert "<script" not in html and "style=" not in html and "<style" not in html
    assert html.count("<table") == html.count("<caption")


def test_problem_types_point_at_the_documentation(client, doc):
    body = client.get("/api/v1/bookings").get_json()
    page = client.get(body["type"].split("#")[0]).get_data(as_text=True)
    assert f'id="{body["type"].split("#")[1]}"' in page
