"""Who may call what: every API operation against every role, from a table written out by hand.

The table is the contract; the test checks the document's x-roles, the views' access rules and the real
answers agree with it: no token 401 (public operations excepted), a role not listed 403, a role listed
neither 401 nor 403.
"""

import pytest

from registry.access import rule_of

BOOKERS = {"booker", "agency_admin"}
PUBLIC = "public"
EXPECTED = {
    "listLanguages": PUBLIC, "searchRegister": PUBLIC, "getRegisterEntry": PUBLIC, "verifyInterpreter": PUBLIC,
    "getOpenApiDocument": PUBLIC, "getDocumentation": PUBLIC,
    "findAvailable": BOOKERS, "createBooking": BOOKERS, "listBookings": BOOKERS, "cancelBooking": BOOKERS,
    "approveTime": BOOKERS, "disputeTime": BOOKERS, "recordNoShow": BOOKERS, "getBooking": BOOKERS | {"interpreter"},
    "listMyBookings": {"interpreter"}, "listMyOffers": {"interpreter"}, "acceptBooking": {"interpreter"},
    "declineBooking": {"interpreter"}, "withdrawFromBooking": {"interpreter"}, "reportTime": {"interpreter"},
    "createInterpreter": {"registry_admin"}, "getInterpreter": {"registry_admin"},
    "addCredential": {"registry_admin"}, "addSanction": {"registry_admin"},
}
TOKEN_OF_ROLE = {"booker": "booker", "agency_admin": "agency_admin", "interpreter": "interpreter",
                 "registry_admin": "admin"}


def operations(doc) -> list[tuple[str, str, str]]:
    return [(op["operationId"], method, path) for path, item in doc["paths"].items() for method, op in item.items()]


@pytest.fixture
def doc(api):
    return api.get("/openapi.json").get_json()


def test_the_table_matches_the_document_and_the_views(app, doc):
    assert {op_id for op_id, _, _ in operations(doc)} == set(EXPECTED)
    for item in doc["paths"].values():
        for op in item.values():
            expected = EXPECTED[op["operationId"]]
            assert op["x-roles"] == ([PUBLIC] if expected == PUBLIC else sorted(expected))
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            view = app.view_functions[rule.endpoint]
            expected = EXPECTED[view.operation.id]
            assert rule_of(view) == (PUBLIC if expected == PUBLIC else frozenset(expected)), rule.rule


@pytest.mark.parametrize("role", [None, "booker", "agency_admin", "interpreter", "registry_admin"])
def test_every_operation_for_every_role(api, doc, world, role):
    for op_id, method, path in operations(doc):
        url = path.replace("{id}", "1").replace("{register_number}", str(world.amina))
        token = TOKEN_OF_ROLE.get(role)
        if method == "get":
            response = api.get(url, as_=token)
        else:
            response = api.post(url, {}, as_=token)
        allowed = EXPECTED[op_id]
        if allowed == PUBLIC:
            assert response.status_code not in (401, 403), (op_id, role)
        elif role is None:
            assert response.status_code == 401, (op_id, role)
        elif role in allowed:
            assert response.status_code not in (401, 403), (op_id, role, response.get_data(as_text=True))
        else:
            assert response.status_code == 403, (op_id, role)
