"""Public bodies: the registry admin registers and manages them; an agency admin manages its own bookers."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import time_machine

from registry import paging
from registry.domain import accounts, clock
from registry.domain.register import name_key
from registry.models import Agency, ApiToken, AuditEntry, OneTimeToken, OutboxMessage, User, UserSession
from tests.helpers import walk_pages
from tests.web.conftest import ORGNR_A, Person

NEW_PASSWORD = "a long enough password"


def fresh(session):
    """End the test's read transaction so the next query sees what the requests committed."""
    session.rollback()
    return session


def agency_count(session) -> int:
    return fresh(session).scalar(sa.select(sa.func.count(Agency.id)))


def user_by_email(session, email) -> User | None:
    return fresh(session).scalar(sa.select(User).where(User.email == email))


def entries(session, action) -> list[AuditEntry]:
    return fresh(session).scalars(sa.select(AuditEntry).where(AuditEntry.action == action)
                                  .order_by(AuditEntry.id)).all()


def new_agency(**fields) -> dict:
    data = {"name": "Bergen kommune", "orgnr": "974760673", "sector": "municipal", "county": "46",
            "invoicing_reference": "Ref 77"}
    data.update(fields)
    return data


def invitation_path(session, email) -> str:
    message = fresh(session).scalar(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == email, OutboxMessage.kind == "invitation").order_by(OutboxMessage.id.desc()))
    assert message is not None, f"no invitation queued for {email}"
    assert message.params["link"].startswith("http")
    return urlsplit(message.params["link"]).path


def token_for(session, person: Person, name="Journal system"):
    user = session.get(User, person.id)
    token, value = accounts.create_api_token(session, user, name)
    session.commit()
    return token.id, value


# Registering public bodies -------------------------------------------------------------------------

@pytest.mark.parametrize("orgnr, stored", [("974760673", "974760673"), ("983 971 636", "983971636")])
def test_registry_admin_registers_a_public_body(client, session, users, login, orgnr, stored):
    login(client, users.admin)
    response = client.post("/admin/agencies", data=new_agency(orgnr=orgnr))
    assert response.status_code == 303
    agency = fresh(session).scalar(sa.select(Agency).where(Agency.orgnr == stored))
    assert (agency.name, agency.sector, agency.county_number, agency.invoicing_reference, agency.active) == (
        "Bergen kommune", "municipal", "46", "Ref 77", True)
    assert response.location.endswith(f"/admin/agencies/{agency.id}")
    listing = client.get("/admin/agencies").text
    assert "Bergen kommune" in listing and stored in listing
    [entry] = entries(session, "agency.created")
    assert entry.actor_label == users.admin.email and entry.object_id == str(agency.id)
    assert entry.after["orgnr"] == stored and entry.after["sector"] == "municipal"


@pytest.mark.parametrize("fields, status, message", [
    ({"orgnr": "123456789"}, 422, "123456789 is not a valid organisation number"),
    ({"orgnr": "97476067"}, 422, "not a valid organisation number"),
    ({"orgnr": ""}, 422, "This field is required"),
    ({"orgnr": ORGNR_A}, 409, f"organisation number {ORGNR_A} is already registered"),
    ({"name": "  "}, 422, "This field is required"),
    ({"name": "x" * 201}, 422, "At most 200 characters"),
    ({"sector": "army"}, 422, "Choose a sector from the list"),
    ({"county": "99"}, 422, "Choose a county from the list"),
])
def test_bad_public_body_is_refused_and_nothing_is_created(client, session, users, login, fields, status, message):
    login(client, users.admin)
    before = agency_count(session)
    response = client.post("/admin/agencies?lang=en", data=new_agency(**fields))
    assert response.status_code == status
    assert message in response.text
    assert 'class="ds-alert" data-color="danger" role="alert"' in response.text  # the error summary
    assert agency_count(session) == before
    assert entries(session, "agency.created") == []


def test_the_list_counts_bookers_and_valid_tokens(client, session, users, login):
    token_id, _ = token_for(session, users.booker)
    token_for(session, users.agency_admin, "Old")
    used = clock.now() - timedelta(days=1)
    session.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=used))
    session.execute(sa.update(ApiToken).where(ApiToken.name == "Old").values(revoked_at=used))
    session.commit()
    login(client, users.admin)
    html = client.get("/admin/agencies?lang=en").text
    row = html[html.index("Sykehuset Aust HF"):].split("</tr>")[0]
    cells = [cell.split(">", 1)[1].split("</td>")[0].strip() for cell in row.split("<td")[1:]]
    assert cells[:6] == [ORGNR_A, "Health", "Oslo", "Active", "1", "1"]
    assert cells[6] != "Never"
    other = html[html.index("NAV Vest"):].split("</tr>")[0]
    assert [cell.split(">", 1)[1].split("</td>")[0].strip() for cell in other.split("<td")[1:]][4:] == [
        "1", "0", "Never"]


# Finding a public body -------------------------------------------------------------------------------

# Valid organisation numbers (mod 11) for bodies made in these tests.
ORGNRS = ["900000006", "900000014", "900000022", "900000030", "900000049", "900000057", "900000065", "900000073"]
COUNTIES = ["03", "46", "15", "31", "50", "55", "42", "11"]


def listed(client, query: str) -> list[str]:
    return re.findall(r'href="/admin/agencies/\d+">([^<]+)</a>', client.get(f"/admin/agencies?lang=en&{query}").text)


def add_bodies(session, *names: str) -> None:
    for n, name in enumerate(names):
        accounts.create_agency(session, ORGNRS[n], name, "municipal", COUNTIES[n % len(COUNTIES)])
    session.commit()


@pytest.mark.parametrize("q, found", [
    ("ålesund", ["Ålesund kommune"]),
    ("ÅLESUND", ["Ålesund kommune"]),
    ("Ålesund Kommune", ["Ålesund kommune"]),
    ("  ålesund    kommune ", ["Ålesund kommune"]),
    ("østf", ["Sykehuset Østfold"]),
    ("ØSTFOLD", ["Sykehuset Østfold"]),
    ("BÆRUM", ["Bærum kommune"]),
    ("sykehuset", ["Sykehuset Aust HF", "Sykehuset Østfold"]),
    ("KOMMUNE", ["Bærum kommune", "Ålesund kommune"]),
    (ORGNR_A, ["Sykehuset Aust HF"]),
    ("990 993 122", ["Sykehuset Aust HF"]),
    ("990993", ["Sykehuset Aust HF"]),
    ("9000000", ["Sykehuset Østfold", "Bærum kommune", "Ålesund kommune"]),  # the start of the number only
    ("993122", []),
    ("%", []),
    ("_", []),
    ("å" * 5000, []),
])
def test_search_by_part_of_the_name_in_any_case_or_the_start_of_the_organisation_number(
        client, session, users, login, q, found):
    add_bodies(session, "Ålesund kommune", "Sykehuset Østfold", "Bærum kommune")
    login(client, users.admin)
    assert listed(client, f"q={q}") == sorted(found, key=name_key)


def test_a_search_that_finds_nothing_says_so(client, session, users, login):
    login(client, users.admin)
    html = client.get("/admin/agencies?lang=en&q=Troms%C3%B8").text
    assert "No public body matches the search." in html and "<table" not in html
    assert 'value="Tromsø"' in html  # the search stays in its field
    everything = client.get("/admin/agencies?lang=en").text
    assert "No public body matches" not in everything and "Public bodies that book interpreters (2)" in everything


def test_search_by_status(client, session, users, login):
    session.get(Agency, users.agency_b).active = False
    session.commit()
    login(client, users.admin)
    assert listed(client, "status=deactivated") == ["NAV Vest"]
    assert listed(client, "status=active") == ["Sykehuset Aust HF"]
    assert listed(client, "status=active&q=nav") == []
    assert listed(client, "status=whatever") == ["NAV Vest", "Sykehuset Aust HF"]  # not one of ours: any status
    assert "Public bodies found (1)" in client.get("/admin/agencies?lang=en&status=deactivated").text


def test_a_renamed_body_is_found_by_its_new_name(client, session, users, login):
    login(client, users.admin)
    data = {"edit-name": "Østre Sykehus", "edit-sector": "health", "edit-county": "03", "edit-invoicing_reference": ""}
    assert client.post(f"/admin/agencies/{users.agency_a}", data=data).status_code == 303
    assert listed(client, "q=%C3%98STRE") == ["Østre Sykehus"]
    assert listed(client, "q=aust") == []


def test_a_name_that_folds_longer_is_registered_and_found(client, session, users, login):
    """Case folding can lengthen a name ("ß" is "ss"): the folded copy is cut to its column, on PostgreSQL too."""
    login(client, users.admin)
    name = "Gießen" + "ß" * 194
    assert client.post("/admin/agencies", data=new_agency(name=name)).status_code == 303
    assert listed(client, "q=GIESSEN") == [name]


@pytest.mark.parametrize("query", ["q=a%00b", "q=%1b", "status=%00"])
def test_control_characters_in_the_search_are_a_clear_400(client, users, login, query):
    login(client, users.admin)
    response = client.get(f"/admin/agencies?lang=en&{query}")
    assert response.status_code == 400 and "The text contains characters that are not allowed." in response.text


def test_the_list_pages_by_name_with_the_same_queries_on_every_page(app, client, session, users, login):
    """Each body once, in name order, a page at a time, in as many statements on each page: every body on one page
    was 112-136 ms and 392 KB of HTML for the 1,500 bodies of the bench data."""
    names = ["Bodø kommune", "ålesund sjukehus", "Alta kommune", "Østfold fylkeskommune", "Asker kommune"]
    add_bodies(session, *names)
    for n, agency_id in enumerate(session.scalars(sa.select(Agency.id).order_by(Agency.id))):
        for b in range(n % 3):  # bodies with no, one and two more bookers, each with a token
            booker = accounts.create_user(session, f"b{b}@body{agency_id}.no", "Booker", "booker",
                                          agency=session.get(Agency, agency_id))
            accounts.create_api_token(session, booker, "System")
    session.commit()
    login(client, users.admin)
    expected = sorted(["Sykehuset Aust HF", "NAV Vest", *names], key=name_key)
    saved, app.config["PAGE_SIZE"] = app.config["PAGE_SIZE"], 3
    try:
        walked = walk_pages(client, session, "/admin/agencies?lang=en", r'href="/admin/agencies/\d+">([^<]+)</a>')
        searched = re.findall(r'href="/admin/agencies/\d+">([^<]+)</a>', client.get(
            "/admin/agencies?lang=en&q=KOMMUNE&cursor=" + paging_cursor(app, ("asker kommune", 10**6))).text)
    finally:
        app.config["PAGE_SIZE"] = saved
    for page in walked:
        assert "Public bodies that book interpreters (7)" in page.html
        assert ("This page shows 3 of them." in page.html) == (len(page.items) == 3)
    assert [name for page in walked for name in page.items] == expected
    assert [len(page.items) for page in walked] == [3, 3, 1]
    assert len({page.statements for page in walked}) == 1  # no query for each body on the page
    assert searched == ["Bodø kommune", "Østfold fylkeskommune"]  # a page of a search: its matches after the cursor


def paging_cursor(app, key: tuple) -> str:
    with app.test_request_context():
        return paging.encode("agencies", key)


def test_a_search_keeps_its_words_on_the_next_page(app, client, session, users, login):
    add_bodies(session, "Alta kommune", "Asker kommune", "Bodø kommune", "Sykehuset Østfold")
    login(client, users.admin)
    saved, app.config["PAGE_SIZE"] = app.config["PAGE_SIZE"], 2
    try:
        first = client.get("/admin/agencies?lang=en&q=kommune").text
        assert "Public bodies found (3)" in first and "This page shows 2 of them." in first
        link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
        assert "q=kommune" in link
        assert re.findall(r'href="/admin/agencies/\d+">([^<]+)</a>', client.get(link).text) == ["Bodø kommune"]
    finally:
        app.config["PAGE_SIZE"] = saved


@pytest.mark.parametrize("cursor", ["forged", "eyJhIjoxfQ.forged", "queue", "shape", "short"])
def test_a_forged_page_link_is_a_400(app, client, users, login, cursor):
    with app.test_request_context():
        cursor = {"queue": paging.encode_timed("queue-credentials", (clock.now(), 1)),  # another list's
                  "shape": paging.encode("agencies", (1, "a")),
                  "short": paging.encode("agencies", ("a",))}.get(cursor, cursor)
    login(client, users.admin)
    response = client.get(f"/admin/agencies?lang=en&cursor={cursor}")
    assert response.status_code == 400 and "The page link is not valid. Start the search again." in response.text


def test_a_refused_registration_shows_the_list_and_the_search_again(client, session, users, login):
    login(client, users.admin)
    response = client.post("/admin/agencies?lang=en", data=new_agency(orgnr="123456789"))
    assert response.status_code == 422
    assert "Sykehuset Aust HF" in response.text and 'role="search"' in response.text


def test_registry_admin_sees_a_body_with_its_users_and_tokens(client, session, users, login):
    token_for(session, users.booker)
    token_for(session, users.booker_b, "Other body's token")
    login(client, users.admin)
    html = client.get(f"/admin/agencies/{users.agency_a}?lang=en").text
    for text in ("Sykehuset Aust HF", users.agency_admin.email, users.booker.email, "Journal system",
                 f"/admin/audit?object_type=agency&amp;object_id={users.agency_a}",
                 f"/admin/audit?object_type=user&amp;object_id={users.booker.id}"):
        assert text in html
    assert users.booker_b.email not in html and "Other body's token" not in html
    assert client.get("/admin/agencies/999999").status_code == 404


def test_registry_admin_edits_a_body(client, session, users, login):
    login(client, users.admin)
    data = {"edit-name": "Sykehuset Aust", "edit-sector": "health", "edit-county": "",
            "edit-invoicing_reference": "K-1"}
    response = client.post(f"/admin/agencies/{users.agency_a}", data=data)
    assert response.status_code == 303
    agency = fresh(session).get(Agency, users.agency_a)
    assert (agency.name, agency.county_number, agency.invoicing_reference) == ("Sykehuset Aust", None, "K-1")
    [entry] = entries(session, "agency.updated")
    assert entry.before == {"name": "Sykehuset Aust HF", "county_number": "03", "invoicing_reference": None}
    assert entry.after == {"name": "Sykehuset Aust", "county_number": None, "invoicing_reference": "K-1"}

    bad = client.post(f"/admin/agencies/{users.agency_a}", data={**data, "edit-name": "", "edit-county": "99"})
    assert bad.status_code == 422
    assert fresh(session).get(Agency, users.agency_a).name == "Sykehuset Aust"


def test_deactivating_a_body_ends_its_users_sessions_and_logins(app, client, session, users, login):
    booker = app.test_client()
    login(booker, users.booker)
    assert booker.get("/account").status_code == 200
    login(client, users.admin)

    assert client.post(f"/admin/agencies/{users.agency_a}/deactivate").status_code == 303
    open_sessions = sa.select(sa.func.count(UserSession.id)).join(User).where(
        User.agency_id == users.agency_a, UserSession.ended_at.is_(None))
    assert fresh(session).scalar(open_sessions) == 0
    assert booker.get("/account").status_code == 302  # back to the login page
    assert booker.post("/login", data={"email": users.booker.email, "password": users.booker.password}
                       ).status_code == 401
    [entry] = entries(session, "agency.deactivated")
    assert (entry.actor_label, entry.before, entry.after) == (users.admin.email, {"active": True}, {"active": False})

    assert client.post(f"/admin/agencies/{users.agency_a}/activate").status_code == 303
    login(booker, users.booker)
    assert booker.get("/account").status_code == 200
    assert len(entries(session, "agency.activated")) == 1


# Invitations ---------------------------------------------------------------------------------------

def test_invited_agency_admin_sets_a_password_and_logs_in(app, client, session, users, login):
    login(client, users.admin)
    response = client.post(f"/admin/agencies/{users.agency_a}/invite",
                           data={"invite-name": "Nina Ny", "invite-email": " Nina.Ny@Aust.no "})
    assert response.status_code == 303
    invited = user_by_email(session, "nina.ny@aust.no")
    assert (invited.role, invited.agency_id, invited.password_hash) == ("agency_admin", users.agency_a, None)
    path = invitation_path(session, "nina.ny@aust.no")
    assert path.startswith("/invitation/")

    visitor = app.test_client()
    assert visitor.get(path).status_code == 200
    short = visitor.post(path, data={"password": "x" * 11, "confirm": "x" * 11})
    assert short.status_code == 422 and "12" in short.text
    assert user_by_email(session, "nina.ny@aust.no").password_hash is None
    assert fresh(session).scalar(sa.select(OneTimeToken.used_at).where(OneTimeToken.user_id == invited.id)) is None

    done = visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.location.endswith("/agency/")
    assert visitor.get("/agency/").status_code == 200
    assert user_by_email(session, "nina.ny@aust.no").password_hash.startswith("$argon2id$")

    again = app.test_client().post(path, data={"password": "another good password", "confirm": "another good password"})
    assert again.status_code == 409
    other = app.test_client()
    login(other, Person(invited.id, "nina.ny@aust.no", "Nina Ny", "agency_admin", users.agency_a, None,
                        NEW_PASSWORD))
    assert other.get("/agency/").status_code == 200


def test_an_expired_or_unknown_invitation_link_is_refused(app, client, session, users, login):
    login(client, users.agency_admin)
    client.post("/agency/invite", data={"invite-name": "Sen Sein", "invite-email": "sen@aust.no"})
    path = invitation_path(session, "sen@aust.no")
    days = app.config["INVITATION_VALID_DAYS"]
    with time_machine.travel(clock.now() + timedelta(days=days, minutes=1)):
        visitor = app.test_client()
        assert visitor.get(path).status_code == 409
        assert visitor.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 409
    assert user_by_email(session, "sen@aust.no").password_hash is None
    assert app.test_client().get("/invitation/not-a-token").status_code == 404


def test_a_new_invitation_replaces_the_old_link(app, client, session, users, login):
    login(client, users.agency_admin)
    client.post("/agency/invite", data={"invite-name": "Sen Sein", "invite-email": "sen@aust.no"})
    old = invitation_path(session, "sen@aust.no")
    late = user_by_email(session, "sen@aust.no")
    assert client.post(f"/agency/users/{late.id}/invite-again").status_code == 303
    new = invitation_path(session, "sen@aust.no")
    assert new != old
    visitor = app.test_client()
    assert visitor.get(old).status_code == 409
    assert visitor.post(new, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    # Once a password is chosen there is nothing to invite to; another body's user is not found.
    assert client.post(f"/agency/users/{late.id}/invite-again").status_code == 409
    other = app.test_client()
    login(other, users.other_admin)
    assert other.post(f"/agency/users/{late.id}/invite-again").status_code == 404
    assert len(entries(session, "user.invited_again")) == 1


@pytest.mark.parametrize("email, status, message", [
    ("bestiller@aust.no", 409, "There is already a user with the email address bestiller@aust.no"),
    ("BESTILLER@AUST.NO ", 409, "There is already a user with the email address bestiller@aust.no"),
    ("not-an-address", 422, "Enter a valid email address"),
    ("", 422, "This field is required"),
])
def test_a_bad_invitation_changes_nothing(client, session, users, login, email, status, message):
    login(client, users.agency_admin)
    count = fresh(session).scalar(sa.select(sa.func.count(User.id)))
    response = client.post("/agency/invite?lang=en", data={"invite-name": "Some One", "invite-email": email})
    assert response.status_code == status
    assert message in response.text
    assert fresh(session).scalar(sa.select(sa.func.count(User.id))) == count
    assert fresh(session).scalar(sa.select(sa.func.count(OutboxMessage.id))) == 0


def test_a_deactivated_body_gets_no_invitations(client, session, users, login):
    login(client, users.admin)
    client.post(f"/admin/agencies/{users.agency_b}/deactivate")
    response = client.post(f"/admin/agencies/{users.agency_b}/invite",
                           data={"invite-name": "Ny Leder", "invite-email": "ny@vest.no"})
    assert response.status_code == 409
    assert user_by_email(session, "ny@vest.no") is None


# The agency admin's own page ----------------------------------------------------------------------------

def test_agency_admin_sees_own_bookers_and_tokens_only(client, session, users, login):
    token_for(session, users.booker, "EPJ")
    token_for(session, users.booker_b, "Vest-system")
    login(client, users.agency_admin)
    html = client.get("/agency/").text
    assert users.booker.email in html and "EPJ" in html
    assert users.booker_b.email not in html and "Vest-system" not in html


def test_agency_admin_invites_and_deactivates_a_booker(app, client, session, users, login):
    login(client, users.agency_admin)
    response = client.post("/agency/invite", data={"invite-name": "Per Ny", "invite-email": "per@aust.no"})
    assert response.status_code == 303
    new = user_by_email(session, "per@aust.no")
    assert (new.role, new.agency_id) == ("booker", users.agency_a)
    assert invitation_path(session, "per@aust.no").startswith("/invitation/")

    booker = app.test_client()
    login(booker, users.booker)
    assert booker.get("/account").status_code == 200
    assert client.post(f"/agency/users/{users.booker.id}/deactivate").status_code == 303
    assert user_by_email(session, users.booker.email).active is False
    assert booker.get("/account").status_code == 302  # the existing session ends at the next request
    open_sessions = sa.select(sa.func.count(UserSession.id)).where(
        UserSession.user_id == users.booker.id, UserSession.ended_at.is_(None))
    assert fresh(session).scalar(open_sessions) == 0
    assert booker.post("/login", data={"email": users.booker.email, "password": users.booker.password}
                       ).status_code == 401
    assert f"/agency/users/{users.booker.id}/activate" in client.get("/agency/").text

    assert client.post(f"/agency/users/{users.booker.id}/activate").status_code == 303
    login(booker, users.booker)
    assert [e.after for e in entries(session, "user.deactivated")] == [{"active": False}]
    assert [e.after for e in entries(session, "user.activated")] == [{"active": True}]


def test_a_deactivated_bookers_api_tokens_stop_working(client, session, users, login):
    _, value = token_for(session, users.booker)
    login(client, users.agency_admin)
    client.post(f"/agency/users/{users.booker.id}/deactivate")
    assert accounts.user_for_api_token(fresh(session), value, clock.now()) is None


def test_agency_admin_cannot_deactivate_themselves_or_another_admin(client, session, users, login):
    login(client, users.agency_admin)
    assert client.post(f"/agency/users/{users.agency_admin.id}/deactivate").status_code == 409
    second = user_by_email(session, users.agency_admin.email)
    colleague = accounts.create_user(session, "nestleder@aust.no", "Nils Nest", "agency_admin", agency=second.agency)
    session.commit()
    assert client.post(f"/agency/users/{colleague.id}/deactivate").status_code == 409
    assert user_by_email(session, users.agency_admin.email).active is True
    assert user_by_email(session, "nestleder@aust.no").active is True


def test_another_bodys_booker_and_token_are_not_found(client, session, users, login):
    token_id, _ = token_for(session, users.booker)
    login(client, users.other_admin)
    for path in (f"/agency/users/{users.booker.id}/deactivate", f"/agency/users/{users.booker.id}/activate",
                 f"/agency/tokens/{token_id}/revoke", f"/agency/users/{users.interpreter.id}/deactivate",
                 f"/agency/users/{users.admin.id}/deactivate", "/agency/users/999999/deactivate",
                 "/agency/tokens/999999/revoke"):
        assert client.post(path).status_code == 404, path
    assert user_by_email(session, users.booker.email).active is True
    assert fresh(session).get(ApiToken, token_id).revoked_at is None
    assert entries(session, "user.deactivated") == [] and entries(session, "api_token.revoked") == []


def test_agency_admin_revokes_a_token_of_their_body(client, session, users, login):
    token_id, value = token_for(session, users.booker)
    login(client, users.agency_admin)
    assert client.post(f"/agency/tokens/{token_id}/revoke").status_code == 303
    assert fresh(session).get(ApiToken, token_id).revoked_at is not None
    assert accounts.user_for_api_token(session, value, clock.now()) is None
    assert client.post(f"/agency/tokens/{token_id}/revoke").status_code == 303  # twice: no harm, no new entry
    [entry] = entries(session, "api_token.revoked")
    assert entry.actor_label == users.agency_admin.email and entry.object_id == str(token_id)
    assert entry.before == {"revoked_at": None} and entry.after["owner"] == users.booker.email


def test_registry_admin_manages_any_bodys_users_and_tokens(client, session, users, login):
    token_id, _ = token_for(session, users.booker_b)
    login(client, users.admin)
    b = users.agency_b
    assert client.post(f"/admin/agencies/{b}/users/{users.other_admin.id}/deactivate").status_code == 303
    assert user_by_email(session, users.other_admin.email).active is False
    assert client.post(f"/admin/agencies/{b}/tokens/{token_id}/revoke").status_code == 303
    assert fresh(session).get(ApiToken, token_id).revoked_at is not None
    # The body in the address must be the user's own.
    assert client.post(f"/admin/agencies/{users.agency_a}/users/{users.booker_b.id}/deactivate").status_code == 404


@pytest.mark.parametrize("who, path, status", [
    ("booker", "/agency/", 403),
    ("interpreter", "/agency/", 403),
    ("agency_admin", "/admin/agencies", 403),
    ("booker", "/admin/audit", 403),
    (None, "/agency/", 302),
    (None, "/admin/agencies", 302),
])
def test_only_the_right_role_gets_in(client, users, login, who, path, status):
    if who:
        login(client, getattr(users, who))
    assert client.get(path).status_code == status


def test_refused_posts_change_nothing(client, session, users, login):
    login(client, users.booker)
    assert client.post(f"/agency/users/{users.booker.id}/deactivate").status_code == 403
    assert client.post("/admin/agencies", data=new_agency()).status_code == 403
    assert agency_count(session) == 2


def test_registry_admin_sends_an_administrator_a_new_invitation(client, session, users, login):
    login(client, users.admin)
    client.post(f"/admin/agencies/{users.agency_b}/invite",
                data={"invite-name": "Ny Leder", "invite-email": "ny@vest.no"})
    invited = user_by_email(session, "ny@vest.no")
    first = invitation_path(session, "ny@vest.no")
    assert f"/admin/agencies/{users.agency_b}/users/{invited.id}/invite-again" in client.get(
        f"/admin/agencies/{users.agency_b}").text
    assert client.post(f"/admin/agencies/{users.agency_b}/users/{invited.id}/invite-again").status_code == 303
    assert invitation_path(session, "ny@vest.no") != first
    assert client.post(f"/admin/agencies/{users.agency_a}/users/{invited.id}/invite-again").status_code == 404
