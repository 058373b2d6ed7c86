"""The audit log: every admin action is there with who and before/after, nothing secret, searchable, append-only."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from registry.domain import audit
from registry.models import Agency, ApiToken, AuditEntry, OneTimeToken, OutboxMessage, User
from tests.helpers import plans
from tests.web.conftest import PASSWORD

NEW_PASSWORD = "the new admin's password"
WRONG_PASSWORD = "not the right password at all"


def fresh(session):
    session.rollback()
    return session


def all_entries(session) -> list[AuditEntry]:
    return fresh(session).scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()


def one(session, action: str, actor: str) -> AuditEntry:
    found = [e for e in all_entries(session) if e.action == action and e.actor_label == actor]
    assert len(found) == 1, f"{action} by {actor}: {found}"
    return found[0]


def test_every_action_is_logged_with_actor_and_values_and_nothing_secret(app, client, session, users, login):
    login(client, users.admin)
    client.post("/admin/agencies", data={"name": "Bergen kommune", "orgnr": "974760673", "sector": "municipal",
                                         "county": "46", "invoicing_reference": ""})
    bergen = fresh(session).scalar(sa.select(Agency.id).where(Agency.orgnr == "974760673"))
    client.post(f"/admin/agencies/{bergen}/invite",
                data={"invite-name": "Berit Berg", "invite-email": "berit@bergen.no"})
    link = fresh(session).scalar(sa.select(OutboxMessage.params).where(OutboxMessage.recipient == "berit@bergen.no"))
    invited = app.test_client()
    invited.post(urlsplit(link["link"]).path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    invited.post("/agency/invite", data={"invite-name": "Bjørn Bestiller", "invite-email": "bjorn@bergen.no"})

    booker = app.test_client()
    login(booker, users.booker)
    created = booker.post("/account/tokens", data={"name": "EPJ"}).text
    token_value = re.search(r'<code class="secret">([^<]+)</code>', created).group(1)
    token_id = fresh(session).scalar(sa.select(ApiToken.id).where(ApiToken.name == "EPJ"))
    agency_admin = app.test_client()
    login(agency_admin, users.agency_admin)
    agency_admin.post(f"/agency/tokens/{token_id}/revoke")
    agency_admin.post(f"/agency/users/{users.booker.id}/deactivate")
    client.post(f"/admin/agencies/{bergen}", data={"edit-name": "Bergen kommune", "edit-sector": "municipal",
                                                   "edit-county": "46", "edit-invoicing_reference": "B-7"})
    client.post(f"/admin/agencies/{bergen}/deactivate")
    app.test_client().post("/login", data={"email": users.booker_b.email, "password": WRONG_PASSWORD})

    admin, berit = users.admin.email, "berit@bergen.no"
    assert one(session, "agency.created", admin).after == {
        "orgnr": "974760673", "name": "Bergen kommune", "sector": "municipal", "county_number": "46",
        "invoicing_reference": None, "active": True}
    invitation = one(session, "user.invited", admin)
    assert invitation.after["email"] == berit and invitation.after["role"] == "agency_admin"
    assert one(session, "password.set_by_invitation", berit).object_type == "user"
    assert one(session, "user.invited", berit).after["role"] == "booker"
    assert one(session, "api_token.created", users.booker.email).after["name"] == "EPJ"
    revoked = one(session, "api_token.revoked", users.agency_admin.email)
    assert revoked.object_id == str(token_id) and revoked.before == {"revoked_at": None}
    deactivated = one(session, "user.deactivated", users.agency_admin.email)
    assert (deactivated.object_id, deactivated.before, deactivated.after) == (
        str(users.booker.id), {"active": True}, {"active": False})
    updated = one(session, "agency.updated", admin)
    assert (updated.before, updated.after) == ({"invoicing_reference": None}, {"invoicing_reference": "B-7"})
    assert one(session, "agency.deactivated", admin).after == {"active": False}
    assert one(session, "login.failed", users.booker_b.email).ip == "127.0.0.1"

    # Nothing secret anywhere in the log: no password, password hash, token, token hash, link or 2FA secret.
    invitation_tokens = [urlsplit(p["link"]).path.rsplit("/", 1)[1]
                         for p in fresh(session).scalars(sa.select(OutboxMessage.params))]
    secrets = {PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, token_value, users.admin.totp_secret, *invitation_tokens}
    secrets |= set(session.scalars(sa.select(User.password_hash).where(User.password_hash.is_not(None))))
    secrets |= set(session.scalars(sa.select(ApiToken.token_hash)))
    secrets |= set(session.scalars(sa.select(OneTimeToken.token_hash)))
    rows = all_entries(session)
    assert len(rows) >= 14
    for row in rows:
        text = json.dumps({c.name: getattr(row, c.name) for c in AuditEntry.__table__.columns}, default=str)
        assert not [s for s in secrets if s and s in text], row.action
        keys = {*(row.before or {}), *(row.after or {})}
        assert not [k for k in keys if any(w in k for w in ("password", "secret", "hash", "link"))], row.action

    page = client.get("/admin/audit?lang=en").text
    for text in ("agency.created", "user.invited", "api_token.revoked", "user.deactivated", "agency.updated",
                 admin, berit, users.agency_admin.email,
                 '<span class="audit-key">active</span>: False',
                 f'href="/admin/audit?object_type=user&amp;object_id={users.booker.id}"'):
        assert text in page


def add(session, action, actor, object_type, object_id, at, ip):
    session.add(AuditEntry(action=action, actor_label=actor, object_type=object_type, object_id=str(object_id),
                           at=at, ip=ip))


@pytest.fixture
def log(session):
    """Six entries around Norwegian midnights, in winter (UTC+1) and summer (UTC+2); told apart by IP."""
    utc = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    add(session, "agency.created", "ada@imdi.no", "agency", 1, utc(2027, 3, 1, 12, 0), "10.0.0.1")
    add(session, "user.invited", "lea@aust.no", "user", 5, utc(2027, 3, 1, 23, 30), "10.0.0.2")  # 2 March, Oslo
    add(session, "user.deactivated", "lea@aust.no", "user", 5, utc(2027, 3, 2, 22, 59), "10.0.0.3")  # 23:59
    add(session, "api_token.revoked", "vera@vest.no", "api_token", 9, utc(2027, 3, 2, 23, 0), "10.0.0.4")  # 3 March
    add(session, "agency.updated", "ada@imdi.no", "agency", 1, utc(2027, 7, 1, 21, 30), "10.0.0.5")  # 23:30
    add(session, "agency.deactivated", "ada@imdi.no", "agency", 1, utc(2027, 7, 1, 22, 0), "10.0.0.6")  # 2 July
    session.commit()


def shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<td>10\.0\.0\.(\d+)</td>", html)]


@pytest.mark.parametrize("query, expected", [
    ("", [6, 5, 4, 3, 2, 1]),
    ("actor=lea", [3, 2]),
    ("actor=LEA@AUST.NO", [3, 2]),
    ("object_type=user&object_id=5", [3, 2]),
    ("object_type=agency", [6, 5, 1]),
    ("object_type=agency&object_id=2", []),
    ("action=user.", [3, 2]),
    ("action=agency.", [6, 5, 1]),
    ("actor=lea&action=user.deactivated", [3]),
    # What is typed is searched for as typed: % and _ are not wildcards.
    ("actor=l_a", []),
    ("actor=%25", []),
    ("action=user_", []),
    ("action=%25", []),
    ("date_from=2027-03-02&date_to=2027-03-02", [3, 2]),
    ("date_from=02.03.2027&date_to=02.03.2027", [3, 2]),
    ("date_to=2027-03-01", [1]),
    ("date_from=2027-03-03&date_to=2027-03-31", [4]),
    ("date_from=2027-07-01&date_to=2027-07-01", [5]),
    ("date_from=2027-07-02", [6]),
    ("date_from=2030-01-01", []),
])
def test_search_filters(client, users, login, log, query, expected):
    login(client, users.admin)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 200
    assert shown(response.text) == expected


def test_times_are_shown_in_norwegian_time(client, session, users, login):
    add(session, "agency.updated", "ada@imdi.no", "agency", 1, datetime(2027, 7, 1, 10, 0, tzinfo=UTC), "10.0.0.7")
    session.commit()
    login(client, users.admin)
    html = client.get("/admin/audit?object_type=agency&lang=en").text
    assert 'datetime="2027-07-01T10:00:00+00:00"' in html and "12:00:00" in html


@pytest.mark.parametrize("query, message", [
    ("date_from=2027-13-01", "Enter the date as YYYY-MM-DD"),
    ("date_from=01/03/2027", "Enter the date as YYYY-MM-DD"),
    ("date_to=2027-02-30", "Enter the date as YYYY-MM-DD"),
    ("date_from=yesterday", "Enter the date as YYYY-MM-DD"),
    ("date_from=2027-03-02&date_to=2027-03-01", "The to-date is before the from-date"),
    ("before_id=abc", "The link to older entries is not valid"),
    ("before_id=-5", "The link to older entries is not valid"),
    ("before_id=99999999999999999999999", "The link to older entries is not valid"),
    ("actor_id=lea", "The link to a person&#39;s entries is not valid"),
    ("actor_id=-3", "The link to a person&#39;s entries is not valid"),
    ("actor_id=99999999999999999999999", "The link to a person&#39;s entries is not valid"),
    # More digits than a user's id (a 32-bit integer) holds: PostgreSQL refused the query, a 500.
    ("actor_id=99999999999", "The link to a person&#39;s entries is not valid"),
    ("actor_id=%C2%B2", "The link to a person&#39;s entries is not valid"),  # "\u00b2": passes str.isdigit
    ("action=user%00", "The text contains characters that are not allowed."),
    ("object_type=" + "x" * 40, "Object type"),
])
def test_bad_search_input_is_a_clear_400(client, users, login, log, query, message):
    login(client, users.admin)
    response = client.get(f"/admin/audit?lang=en&{query}")
    assert response.status_code == 400
    assert message in response.text
    assert shown(response.text) == []


def test_a_person_in_the_log_links_to_their_entries_under_every_address(client, session, users, login):
    """An entry by a login links to that person's entries by their id, whatever address was recorded: Lea's under
    the address she had before and under today's, not Vera's nor the system's. The other filters apply on top, and
    the search form keeps the person."""
    lea, vera = users.agency_admin, users.other_admin
    at = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    for n, (actor_id, label, action) in enumerate([(lea.id, "lea.old@aust.no", "user.invited"),
                                                   (vera.id, vera.email, "user.invited"),
                                                   (lea.id, lea.email, "api_token.revoked"),
                                                   (None, "system", "booking.lapsed")], start=1):
        session.add(AuditEntry(action=action, actor_id=actor_id, actor_label=label, object_type="user",
                               object_id="5", at=at, ip=f"10.0.0.{n}"))
    session.commit()
    login(client, users.admin)
    everyone = client.get("/admin/audit?lang=en").text
    assert everyone.count(f'href="/admin/audit?actor_id={lea.id}"') == 2
    assert f'href="/admin/audit?actor_id={vera.id}"' in everyone and 'href="/admin/audit?actor=system"' in everyone

    response = client.get(f"/admin/audit?actor_id={lea.id}&lang=en")
    assert response.status_code == 200
    assert shown(response.text) == [3, 1]
    assert f"Only entries by {lea.email}, under every address they have had." in response.text
    assert '<a class="ds-link" href="/admin/audit?lang=en">Show entries by everyone</a>' in response.text
    assert f'<input type="hidden" name="actor_id" value="{lea.id}">' in response.text
    assert shown(client.get(f"/admin/audit?actor_id={lea.id}&action=user.").text) == [1]
    assert shown(client.get(f"/admin/audit?actor_id={vera.id}").text) == [2]
    assert shown(client.get("/admin/audit?actor_id=999999").text) == []
    # A mistake in another field keeps the person for the search made again.
    mistaken = client.get(f"/admin/audit?actor_id={lea.id}&date_from=yesterday&lang=en")
    assert mistaken.status_code == 400 and f'name="actor_id" value="{lea.id}"' in mistaken.text


def test_a_persons_entries_are_read_from_their_index_newest_first(session):
    """One person's entries come from ix_audit_log_actor in id order, newest first: a person with few entries
    among millions is found at once, where text within the address reads every entry. On PostgreSQL with
    sequential scans off: a handful of rows is rightly read whole."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan, = plans(session, lambda: audit.search(session, actor_id=7, limit=51), "audit_log")
    assert "ix_audit_log_actor" in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def test_older_entries_are_reached_by_keyset_links(client, session, users, login):
    for n in range(60):
        audit.record(session, "test.entry", actor_label="robot@example.no", object_type="thing", object_id=n,
                     ip=f"10.0.1.{n}")
    session.commit()
    login(client, users.admin)
    seen, url, pages = [], "/admin/audit?actor=robot", 0
    while url:
        html = client.get(url).text
        pages += 1
        seen += [int(n) for n in re.findall(r"<td>10\.0\.1\.(\d+)</td>", html)]
        match = re.search(r'<a class="ds-link" href="([^"]+)" rel="next">', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert pages == 2
    assert seen == list(range(59, -1, -1))


def test_only_registry_admins_read_the_log_and_refusals_are_logged(client, session, users, login):
    login(client, users.agency_admin)
    assert client.get("/admin/audit").status_code == 403
    refused = one(session, "access.refused", users.agency_admin.email)
    assert refused.object_id == "/admin/audit"


def test_the_database_refuses_to_change_or_delete_an_audit_row(session):
    audit.record(session, "agency.created", actor_label="ada@imdi.no", object_type="agency", object_id=1,
                 after={"name": "Bergen kommune"})
    session.commit()
    entry = session.scalar(sa.select(AuditEntry))

    entry.action = "agency.forged"
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.flush()
    session.rollback()

    session.delete(session.scalar(sa.select(AuditEntry)))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.flush()
    session.rollback()

    for statement in (sa.update(AuditEntry).values(actor_label="someone else"), sa.delete(AuditEntry),
                      sa.text("UPDATE audit_log SET after = NULL"), sa.text("DELETE FROM audit_log")):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            session.execute(statement)
        session.rollback()

    rows = session.execute(sa.select(AuditEntry.action, AuditEntry.actor_label, AuditEntry.after)).all()
    assert [tuple(r) for r in rows] == [("agency.created", "ada@imdi.no", {"name": "Bergen kommune"})]



def test_a_clean_up_lifts_the_guard_in_its_own_transaction_only(session):
    """The tests' and the bench's clean-up (models.audit.append_only_lifted) may clear the log; the guard is back
    after it, as the database had it, and a clean-up that fails takes nothing with it."""
    from registry.models.audit import append_only_lifted

    for label in ("kept", "cleared"):
        audit.record(session, "agency.created", actor_label=label, object_type="agency", object_id=1)
    session.commit()
    with pytest.raises(sa.exc.DBAPIError):
        with append_only_lifted(session.connection()):
            session.execute(sa.delete(AuditEntry).where(AuditEntry.actor_label == "kept"))
            session.execute(sa.text("SELECT * FROM no_such_table"))
    session.rollback()
    with append_only_lifted(session.connection()):
        session.execute(sa.delete(AuditEntry).where(AuditEntry.actor_label == "cleared"))
    session.commit()
    assert session.scalars(sa.select(AuditEntry.actor_label)).all() == ["kept"]
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.execute(sa.delete(AuditEntry))
    session.rollback()

def test_a_record_page_links_to_its_history(client, users, login):
    login(client, users.admin)
    html = client.get(f"/admin/agencies/{users.agency_a}").text
    history = re.search(r'href="(/admin/audit\?object_type=agency&amp;object_id=\d+)"', html).group(1)
    assert client.get(history.replace("&amp;", "&")).status_code == 200
