"""Schemathesis, in-process, over every operation of the OpenAPI document: no 5xx, every response as documented.

Each operation is called with a token of a role that may use it (the document's x-roles), so requests
get past authentication into the checks of the domain; `ignored_auth` also calls each protected
operation without a token and with a bad one. Bounded (a few examples per operation, derandomized) so
it stays well under a minute on two cores for both databases.
"""

import contextvars
from datetime import timedelta

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.domain import booking
from registry.extensions import db
from registry.models import User
from tests.api.conftest import NOW, TUESDAY, oslo

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]
TOKEN_OF_ROLE = {"booker": "booker", "agency_admin": "agency_admin", "interpreter": "interpreter",
                 "registry_admin": "admin"}
EXAMPLES = 15
NEGATIVE_EXAMPLES = 10
NEGATIVE_CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
                   response_schema_conformance]
SETTINGS = dict(deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck))


def seed(session, world) -> None:
    """Bookings with small ids in every state an operation may meet, so generated ids find some."""
    booker = session.get(User, world.user_ids["booker"])
    amina = session.get(User, world.user_ids["interpreter"])
    rules = booking.Rules()

    def details(start, hours=1, **more):
        return booking.Details("ar", "C", "video", start, start + timedelta(hours=hours), "health", **more)

    requested = booking.request_direct(session, booker, world.amina, details(oslo(TUESDAY, 9)), NOW, rules)
    booking.create_open(session, booker, details(oslo(TUESDAY, 12)), NOW, rules)
    confirmed = booking.request_direct(session, booker, world.amina, details(NOW + timedelta(hours=1)), NOW, rules)
    booking.accept(session, amina, confirmed.id, NOW, rules)
    booking.create_open(session, session.get(User, world.user_ids["booker_b"]), details(oslo(TUESDAY, 14)), NOW,
                        rules)
    assert requested.id == 1
    session.commit()


def test_every_operation_conforms_to_the_document(app, session, world):
    seed(session, world)
    db.session.remove()
    schema = contextvars.Context().run(schemathesis.openapi.from_wsgi, "/api/v1/openapi.json", app)
    # The administrators' operations last: a generated suspension would leave the others little to do.
    operations = sorted((result.ok() for result in schema.get_all_operations()),
                        key=lambda op: op.path.startswith("/admin"))
    assert len(operations) >= 20
    for operation in operations:
        roles = operation.definition.raw["x-roles"]
        headers = {"Accept-Language": "en"}
        if roles != ["public"]:
            headers["Authorization"] = "Bearer " + world.tokens[TOKEN_OF_ROLE[roles[0]]]

        # The document's examples first (they should succeed), then generated cases.
        for strategy in schema.get_strategies_from_examples(operation):
            run(strategy, 1, headers)
        run(operation.as_strategy(), EXAMPLES, headers)
        # Then input the document says is wrong: refused with a documented 4xx, never a crash.
        if operation.definition.raw.get("parameters") or operation.definition.raw.get("requestBody"):
            run(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), NEGATIVE_EXAMPLES, headers,
                NEGATIVE_CHECKS)


def run(strategy, examples: int, headers: dict, checks=CHECKS) -> None:
    @given(case=strategy)
    @settings(max_examples=examples, **SETTINGS)
    def conforms(case):
        response = contextvars.Context().run(case.call_and_validate, headers=headers, checks=checks)
        assert response.status_code < 500

    conforms()
