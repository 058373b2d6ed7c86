"""Only registry administrators reach the console: every admin route, every method, for every other role."""

import pytest

from registry.access import rule_of
from registry.models import CredentialType
from tests.admin.conftest import fresh

VALUES = {"token": "0" * 32, "key": "bookings_by_language", "code": "tao"}


def admin_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route of the admin console and the jobs page."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith(("admin.", "jobs_admin.")):
            continue
        args = {name: VALUES.get(name, 1) for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((rule.endpoint, method, url))
    return found


def test_every_admin_view_is_for_registry_admins_only(app):
    routes = admin_routes(app)
    assert len(routes) >= 40
    for endpoint, _, _ in routes:
        assert rule_of(app.view_functions[endpoint]) == frozenset({"registry_admin"}), endpoint


@pytest.mark.parametrize("who", ["anonymous", "interpreter", "booker", "agency_admin"])
def test_everyone_else_is_refused_everywhere(app, client, users, login, who):
    if who != "anonymous":
        login(client, getattr(users, who))
    for endpoint, method, url in admin_routes(app):
        response = client.open(url, method=method)
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.location, (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method, response.status_code)


def test_the_registry_admin_reaches_every_page(app, client, users, login, folders):
    login(client, users.admin)
    for endpoint, method, url in admin_routes(app):
        if method != "GET":
            continue
        response = client.get(url)
        # Pages of objects that do not exist answer 404; nothing is refused or broken.
        assert response.status_code in (200, 302, 404), (endpoint, response.status_code)
    for url in ("/admin/queue", "/admin/interpreters", "/admin/sanctions", "/admin/imports", "/admin/statistics",
                "/admin/credential-types", "/admin/agencies", "/admin/audit"):
        html = client.get(url + "?lang=en").text
        assert 'aria-label="Registry administration"' in html, url
        assert 'href="/admin/jobs"' in html and 'aria-current="page"' in html


def test_a_post_without_a_csrf_token_is_refused(app, client, session, users, login):
    login(client, users.admin)
    app.config["WTF_CSRF_ENABLED"] = True  # the web_config fixture restores it
    response = client.post("/admin/credential-types/tao", data={"tao-years": "5"})
    assert response.status_code == 400
    assert fresh(session).get(CredentialType, "tao").default_validity_years is None
