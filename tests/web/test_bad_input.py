"""Bad input on the pages: a clear 4xx that changes nothing, never a 500.

Each form's own mistakes are tested with the form. Here: what any page can be sent, and a walk over every form
and every link with parameters on every page, as each role that may open it, each field in turn given what breaks
a way in whatever the form. The walk found, on PostgreSQL, a NUL character refused by the database on most
forms, and on both databases, register numbers and years that str.isdigit admitted and int() or the integer
columns refused.
"""

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

import sqlalchemy as sa
from werkzeug.routing.converters import IntegerConverter

from registry.access import rule_of
from registry.domain.typed import MAX_ID
from registry.extensions import db
from registry.models import Agency, OutboxMessage
from tests.admin.conftest import fresh
from tests.web.test_access_matrix import ROLE_OF, ROLES, as_role, build_world, frozen, routes, url_for_rule  # noqa: F401

NOT_ALLOWED = "The text contains characters that are not allowed."


def test_a_control_character_in_a_search_is_refused_clearly(client):
    response = client.get("/register", query_string={"q": "Ali\x00", "lang": "en"})
    assert response.status_code == 400 and NOT_ALLOWED in response.text


def test_a_control_character_in_a_form_changes_nothing(client, session, users, login):
    response = client.post("/password/forgot?lang=en", data={"email": "bestiller@aust.no\x00"})
    assert response.status_code == 400 and NOT_ALLOWED in response.text
    assert fresh(session).scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    login(client, users.admin)
    before = fresh(session).get(Agency, users.agency_a).name
    response = client.post(f"/admin/agencies/{users.agency_a}?lang=en",
                           data={"edit-name": "Sykehuset\x1b Aust", "edit-sector": "health"})
    assert response.status_code == 400 and NOT_ALLOWED in response.text
    assert fresh(session).get(Agency, users.agency_a).name == before


def test_a_control_character_in_an_address_is_refused(client):
    assert client.get("/password/reset/abc%00def?lang=en").status_code == 400
    # Under the API's prefix the API answers, with a problem, also at an address it does not know.
    for path in ("/api/v1/register?q=a%00", "/api/v1/no-such-thing?q=a%00"):
        response = client.get(path)
        assert response.status_code in (400, 404) and response.mimetype == "application/problem+json"


def test_an_id_larger_than_any_there_can_be_is_not_found(app, session, frozen):  # noqa: F811
    """Every address with a number in it (an id, a register number), opened by a role that may open it, with a
    number just past the largest a 32-bit column holds: 404. PostgreSQL refused the query (integer out of range),
    a 500 on 40 routes of the web; the API said 404 route by route."""
    from tests.conftest import IsolatedClient, empty_data_tables

    app.test_client_class = IsolatedClient
    empty_data_tables(app)
    world = build_world(session)
    answers = {}
    for rule, method in routes(app):
        numbers = [name for name, converter in rule._converters.items() if isinstance(converter, IntegerConverter)]
        admitted = rule_of(app.view_functions[rule.endpoint])
        role = next((r for r in ROLES if admitted == "public" or (r != "anonymous" and ROLE_OF[r] in admitted)), None)
        if not numbers or role is None:
            continue
        values = {**world.values, **{name: MAX_ID + 1 for name in numbers}}
        url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]
        client = as_role(app, session, world, role, api=rule.rule.startswith("/api/"))
        answers[f"{role}: {method} {url}"] = client.open(url, method=method).status_code
        session.rollback()
    assert len(answers) > 40
    assert {url: status for url, status in answers.items() if status != 404} == {}


def test_tabs_and_new_lines_are_text(client):
    """Only controls no one types are refused: a tab or a line break pasted into a search is still a search."""
    assert client.get("/register", query_string={"q": "Ali\tHassan\r\n"}).status_code == 200


# The walk ------------------------------------------------------------------------------------------------

# What breaks the way in itself, whatever the form (each form's own tests cover its own mistakes: an empty field,
# a date that does not exist): a NUL (PostgreSQL refuses it in text), text longer than any column, more digits
# than any integer column holds, a digit int() refuses, and a negative number.
BAD = ["\x00", "x" * 3000, "9" * 20, "\u00b2", "-1"]


class Forms(HTMLParser):
    """The forms of a page (action, method, fields with their values as shown) and its links with parameters."""

    def __init__(self):
        super().__init__()
        self.found, self.form, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            self.found.append(self.form)
        elif tag == "a" and "?" in a.get("href", "") and a["href"].startswith("/"):
            path, query = a["href"].split("?", 1)
            self.found.append({"action": path, "method": "get", "fields": dict(parse_qsl(query, True))})
        elif self.form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            fields = self.form["fields"]
            if tag == "input" and a.get("type") in ("checkbox", "radio") and "checked" not in a:
                fields.setdefault(a["name"], None)  # a field to fill in, sent only when chosen
            elif tag == "select":
                self.select = a["name"]
                fields[a["name"]] = ""
            else:
                fields[a["name"]] = a.get("value", "")
        elif tag == "option" and self.select and self.form is not None and a.get("value"):
            if not self.form["fields"][self.select] or "selected" in a:
                self.form["fields"][self.select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None
        elif tag == "select":
            self.select = None


def _pages(app):
    """Every page without a secret in its address (the walk cannot know one), with each role that may open it."""
    for rule, method in routes(app):
        admitted = rule_of(app.view_functions[rule.endpoint])
        if method != "GET" or rule.rule.startswith("/api/") or "token" in rule.arguments or admitted is None:
            continue
        for role in ROLES:
            if admitted == "public" or (role != "anonymous" and ROLE_OF[role] in admitted):
                yield rule, role


def test_no_field_of_any_form_or_link_gives_a_server_error(app, session, frozen):  # noqa: F811
    from tests.conftest import IsolatedClient, empty_data_tables

    app.test_client_class = IsolatedClient
    empty_data_tables(app)
    world = build_world(session)
    walked, sent, failures = set(), 0, []
    for rule, role in _pages(app):
        client = as_role(app, session, world, role, api=False)
        page = client.get(url_for_rule(rule, world.values))
        if page.status_code != 200 or page.mimetype != "text/html":
            continue
        parser = Forms()
        parser.feed(page.get_data(as_text=True))
        for form in parser.found:
            action = urlsplit(form["action"] or page.request.path).path
            key = (action, form["method"], tuple(sorted(form["fields"])))
            if key in walked:
                continue  # the same form for another role, or on another page
            walked.add(key)
            shown = {name: value for name, value in form["fields"].items() if value is not None}
            for name in form["fields"]:
                if name == "csrf_token":
                    continue
                for bad in BAD:
                    data, sent = {**shown, name: bad}, sent + 1
                    try:  # the test client raises what would be a 500: listed, so one run shows every case
                        if form["method"] == "post":
                            status = client.post(action, data=data).status_code
                        else:
                            status = client.get(action + "?" + urlencode(data)).status_code
                    except Exception as error:  # noqa: BLE001
                        status = f"{type(error).__name__}: {str(error)[:100]}"
                        db.session.remove()
                    if not isinstance(status, int) or status >= 500:
                        failures.append(f"{role}: {form['method'].upper()} {action} {name}={bad[:12]!r}: {status}")
                    session.rollback()
    assert not failures, "\n".join(failures)
    assert len(walked) > 100 and sent > 1000  # the walk really reached the forms
