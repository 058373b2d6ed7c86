"""Sanctions: a suspension or exclusion takes the interpreter out of the register and booking search at once and
flags their future bookings to the bookers; three warnings within five years are shown, older ones do not count."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine
from flask_babel import force_locale

from registry import paging
from registry.domain import sanction_decisions
from registry.domain.availability import Slot, find_available
from registry.domain.errors import InvalidInput
from registry.models import AuditEntry, Booking, Interpreter, Sanction, User
from tests.admin.conftest import confirmed_booking, fresh, messages, oslo, work_always
from tests.helpers import interpreter, walk_pages

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday 08:00 in Oslo
TODAY = NOW.date()
A = [("authorisation", "ar"), ("bachelor", "ar")]


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def amina(session, users):
    """Amina, category A in Arabic, with a confirmed booking next week and one last week."""
    person = interpreter(session, "Amina Ali", credentials=A, email="amina@example.no", today=TODAY)
    work_always(session, person)
    coming = confirmed_booking(session, person, users.agency_a, users.booker.id, oslo(date(2027, 3, 9), 10))
    past = confirmed_booking(session, person, users.agency_a, users.booker.id, oslo(date(2027, 2, 22), 10),
                             status="completed")
    return person.register_number, person.id, coming.id, past.id


def listed(client) -> list[str]:
    return re.findall(r'href="/register/\d+">([^<]+)</a>', client.get("/register?language=ar").text)


def bookable(session) -> list[str]:
    slot = Slot("ar", "C", "video", oslo(date(2027, 3, 2), 10), oslo(date(2027, 3, 2), 11))
    return [c.name for c in find_available(fresh(session), slot)]


@pytest.mark.parametrize("kind, status, ends_on", [
    ("suspension", "suspended", ""),
    ("exclusion", "excluded", "2028-02-29"),
    ("exclusion", "excluded", ""),
])
def test_a_suspension_or_exclusion_takes_the_interpreter_out_at_once_and_flags_coming_bookings(
        client, session, users, login, amina, kind, status, ends_on):
    number, person_id, coming_id, past_id = amina
    assert listed(client) == ["Amina Ali"] and bookable(session) == ["Amina Ali"]
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/sanctions", data={
        "sanction-kind": kind, "sanction-reason": "Breach of confidentiality at a hospital assignment.",
        "sanction-decided_on": "", "sanction-starts_on": "", "sanction-ends_on": ends_on,
        **({"sanction-serious_breach": "y"} if kind == "exclusion" else {})})
    assert response.status_code == 303, response.text

    person = fresh(session).get(Interpreter, person_id)
    assert (person.status, person.status_after_sanction) == (status, "active")
    assert listed(client) == [] and bookable(session) == []
    assert client.get(f"/register/{number}").status_code == 404
    assert "is a qualified interpreter" not in client.get(f"/verify/{number}?lang=en").text
    coming, past = session.get(Booking, coming_id), session.get(Booking, past_id)
    assert coming.warn_not_qualified is True and past.warn_not_qualified is False
    [to_booker] = [m for m in messages(session, "booking_flagged") if m.recipient == users.booker.email]
    assert to_booker.params
    if kind == "exclusion":
        assert "Exclusion (serious breach)" in client.get(f"/admin/interpreters/{number}?lang=en").text
    [decision] = messages(session, "sanction_recorded")
    assert decision.recipient == "amina@example.no" and decision.params["decision"] == kind
    sanction = session.scalar(sa.select(Sanction))
    assert (sanction.kind, sanction.decided_on, sanction.starts_on, sanction.decided_by_id) == (
        kind, TODAY, TODAY, users.admin.id)
    assert sanction.ends_on == (date.fromisoformat(ends_on) if ends_on else None)
    entry = session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "sanction.recorded"))
    assert (entry.object_type, entry.object_id, entry.before, entry.after["status"]) == (
        "interpreter", str(person_id), {"status": "active"}, status)
    # The booker sees the warning on the booking.
    record = client.get(f"/admin/interpreters/{number}?lang=en").text
    assert "The interpreter no longer qualifies" in record and "In force" in record
    assert "the status goes back to active, as it was before" in record


def test_a_warning_or_a_report_changes_no_status(client, session, users, login, amina):
    number, person_id, coming_id, _ = amina
    login(client, users.admin)
    for kind in ("report", "warning"):
        assert client.post(f"/admin/interpreters/{number}/sanctions", data={
            "sanction-kind": kind, "sanction-reason": "Late to the assignment twice."}).status_code == 303
    assert fresh(session).get(Interpreter, person_id).status == "active"
    assert listed(client) == ["Amina Ali"]
    assert session.get(Booking, coming_id).warn_not_qualified is False
    assert [m.params["decision"] for m in messages(session, "sanction_recorded")] == ["warning"]


def warn(session, person_id: int, admin_id: int, *days: date) -> None:
    for day in days:
        session.add(Sanction(interpreter_id=person_id, kind="warning", reason="Breach", decided_on=day,
                             starts_on=day, decided_by_id=admin_id))
    session.commit()


THREE_WITHIN = (date(2022, 3, 2), date(2024, 6, 1), date(2026, 12, 24))


@pytest.mark.parametrize("days, counting, shown", [
    (THREE_WITHIN, 3, True),
    # The fourth, oldest, is five years old today: it no longer counts, the other three still do.
    ((date(2022, 3, 1),) + THREE_WITHIN, 3, True),
    # Three warnings, but the oldest is outside the five years: two count, no warning shown.
    ((date(2022, 3, 1), date(2024, 6, 1), date(2026, 12, 24)), 2, False),
    ((date(2020, 1, 1), date(2021, 1, 1), date(2026, 12, 24)), 1, False),
])
def test_three_warnings_within_five_years_are_shown(client, session, users, login, amina, days, counting, shown):
    number, person_id, _, _ = amina
    warn(session, person_id, users.admin.id, *days)
    assert sanction_decisions.warnings_counting(session, person_id, TODAY) == counting
    login(client, users.admin)
    record = client.get(f"/admin/interpreters/{number}?lang=en").text
    assert ("Three warnings within five years" in record) is shown
    assert f"{counting} written warning" in record
    overview = client.get("/admin/sanctions?lang=en").text
    assert (f'href="/admin/interpreters/{number}#sanctions-heading">Amina Ali</a> ({number}): {counting} warnings'
            in overview) is shown
    old = sum(1 for d in days if d <= date(2022, 3, 1))
    assert record.count("No longer counts") == old


@pytest.mark.parametrize("fields, field, message", [
    ({"kind": "suspension", "starts_on": "2027-03-02"}, "starts_on", "takes effect today or on an earlier date"),
    ({"kind": "warning", "ends_on": "2027-06-01"}, "ends_on", "Only a suspension or an exclusion has an end date"),
    ({"kind": "exclusion", "decided_on": "2027-02-15", "starts_on": "2027-02-20", "ends_on": "2027-02-28"},
     "ends_on", "already ended"),
    ({"kind": "exclusion", "decided_on": "2027-02-15", "starts_on": "2027-02-10"}, "starts_on",
     "before it was decided"),
    ({"kind": "suspension", "starts_on": "2027-03-01", "ends_on": "2027-02-27"}, "ends_on", "cannot be before"),
    ({"kind": "warning", "decided_on": "2027-03-02"}, "decided_on", "cannot be in the future"),
    ({"kind": "reprimand"}, "kind", "Choose what is recorded"),
    ({"kind": "warning", "reason": " "}, "reason", "Give the reasons"),
    ({"kind": "exclusion"}, "serious_breach",
     "An exclusion needs three written warnings within five years, or one serious breach. Amina Ali has 0 written "
     "warnings that count."),
    ({"kind": "warning", "serious_breach": "y"}, "serious_breach", "Only an exclusion is decided on the ground"),
])
def test_bad_decisions_are_refused_and_nothing_changes(client, session, users, login, amina, fields, field,
                                                       message):
    number, person_id, coming_id, _ = amina
    data = {"reason": "Breach of impartiality.", **fields}
    login(client, users.admin)
    response = client.post(f"/admin/interpreters/{number}/sanctions?lang=en",
                           data={f"sanction-{k}": v for k, v in data.items()})
    assert response.status_code == 422 and message in response.text
    assert f'href="#sanction-{field}"' in response.text
    assert fresh(session).scalar(sa.select(sa.func.count(Sanction.id))) == 0
    assert session.get(Interpreter, person_id).status == "active"
    with pytest.raises(InvalidInput):
        sanction_decisions.decide(session, session.get(User, users.admin.id), session.get(Interpreter, person_id),
                                  now=NOW, **data)
    session.rollback()


def test_three_warnings_within_five_years_allow_an_exclusion_without_a_serious_breach(client, session, users, login,
                                                                                      amina):
    number, person_id, _, _ = amina

    def decide(**fields):
        return sanction_decisions.decide(session, session.get(User, users.admin.id),
                                         session.get(Interpreter, person_id), reason="Decided", now=NOW, **fields)

    # The first was decided on 1 March 2022: on 1 March 2027 it no longer counts.
    for decided_on in ("2022-03-01", "2024-05-01", "2026-09-01"):
        decide(kind="warning", decided_on=decided_on)
    session.commit()
    with force_locale("en"):
        with pytest.raises(InvalidInput) as refused:
            decide(kind="exclusion")
        assert "Amina Ali has 2 written warnings that count" in str(refused.value.message)
    session.rollback()
    decide(kind="warning", decided_on="2027-02-01")
    made = decide(kind="exclusion")
    session.commit()
    assert (made.kind, made.serious_breach) == ("exclusion", False)
    assert fresh(session).get(Interpreter, person_id).status == "excluded"
    login(client, users.admin)
    page = client.get(f"/admin/interpreters/{number}?lang=en").text
    assert "Exclusion" in page and "serious breach)" not in page


def test_a_suspension_may_have_started_before_today(session, users, amina):
    number, person_id, coming_id, _ = amina
    admin, person = session.get(User, users.admin.id), session.get(Interpreter, person_id)
    sanction_decisions.decide(session, admin, person, kind="suspension", reason="Case opened",
                              decided_on=TODAY - timedelta(days=3), starts_on=TODAY - timedelta(days=2), now=NOW)
    session.commit()
    assert fresh(session).get(Interpreter, person_id).status == "suspended"
    # An exclusion on top of a suspension: the stronger holds.
    sanction_decisions.decide(session, session.get(User, users.admin.id), session.get(Interpreter, person_id),
                              kind="exclusion", reason="Decided", serious_breach=True, now=NOW)
    session.commit()
    assert fresh(session).get(Interpreter, person_id).status == "excluded"


def test_the_last_day_of_an_open_ended_suspension_is_set_and_the_job_lifts_it(client, session, users, login,
                                                                               amina):
    from registry.domain import sanctions

    number, person_id, _, _ = amina
    login(client, users.admin)
    client.post(f"/admin/interpreters/{number}/sanctions", data={
        "sanction-kind": "suspension", "sanction-reason": "A complaint is being looked into."})
    sanction = fresh(session).scalar(sa.select(Sanction))
    url = f"/admin/interpreters/{number}/sanctions/{sanction.id}/last-day"
    refused = client.post(url + "?lang=en", data={f"end{sanction.id}-ends_on": "2027-02-27"})
    assert refused.status_code == 422 and "The last day cannot be before the first" in refused.text
    assert client.post(url, data={f"end{sanction.id}-ends_on": "2027-03-03"}).status_code == 303
    assert fresh(session).get(Sanction, sanction.id).ends_on == date(2027, 3, 3)
    assert session.get(Interpreter, person_id).status == "suspended"  # it holds through its last day

    later = datetime(2027, 3, 4, 5, 0, tzinfo=UTC)
    with time_machine.travel(later, tick=False):
        sanctions.lift_ended(session, later, later.date())
        session.commit()
        assert fresh(session).get(Interpreter, person_id).status == "active"
        assert listed(client) == ["Amina Ali"]
        login(client, users.admin)  # the earlier login timed out meanwhile
        lifted = client.post(url, data={f"end{sanction.id}-ends_on": "2027-03-10"})
        assert lifted.status_code == 409


IN_FORCE = re.compile(r'<caption id="holding-caption">.*?</table>', re.S)
NAMED = r'#sanctions-heading">([^<]+)</a>'


def in_force(html: str) -> list[str]:
    table = IN_FORCE.search(html)
    return re.findall(NAMED, table.group(0)) if table else []


def test_the_sanctions_in_force_are_paged_by_first_day_with_how_many(app, client, session, users, login):
    """Exclusions for good hold for ever, so the list of those in force only grows (717 in the bench data, one page
    of 217 KB); it is read a page at a time, by first day, each once."""
    decided = [  # name, kind, first day, last day, lifted
        ("Berit", "suspension", date(2027, 2, 1), None, False),
        ("Cato", "exclusion", date(2026, 6, 1), None, False),
        ("Dina", "exclusion", date(2027, 2, 1), date(2027, 12, 31), False),  # Berit's first day: in the order made
        ("Eli", "suspension", TODAY, TODAY, False),
        ("Frode", "exclusion", date(2025, 1, 1), None, False),
        ("Gunn", "suspension", date(2027, 1, 1), None, True),  # lifted
        ("Hans", "exclusion", date(2026, 1, 1), date(2027, 2, 28), False),  # ended yesterday
        ("Ivar", "warning", date(2027, 1, 5), None, False),  # a warning holds nothing
    ]
    for n, (name, kind, first, last, lifted) in enumerate(decided):
        person = interpreter(session, name, credentials=A, email=f"s{n}@example.no", today=TODAY)
        session.add(Sanction(interpreter_id=person.id, kind=kind, reason="Breach", decided_on=first, starts_on=first,
                             ends_on=last, decided_by_id=users.admin.id, lifted_at=NOW if lifted else None))
        session.commit()
    login(client, users.admin)
    saved, app.config["PAGE_SIZE"] = app.config["PAGE_SIZE"], 2
    try:
        pages = walk_pages(client, session, "/admin/sanctions?lang=en", NAMED)
    finally:
        app.config["PAGE_SIZE"] = saved
    assert [in_force(page.html) for page in pages] == [["Frode", "Cato"], ["Berit", "Dina"], ["Eli"]]
    assert all("Suspensions and exclusions in force (5), by first day" in page.html for page in pages)
    assert [re.findall(r"This page shows (\d) of them", page.html) for page in pages] == [["2"], ["2"], ["1"]]
    assert len({page.statements for page in pages}) == 1  # no query for each row's interpreter or decider
    # The latest decisions stay on every page, newest first, with who decided.
    assert all(page.items[-8:] == ["Eli", "Dina", "Berit", "Ivar", "Gunn", "Cato", "Hans", "Frode"] for page in pages)
    assert pages[0].html.count("admin@imdi.no") == 2 + 8


def test_with_none_in_force_the_page_says_so(client, session, users, login, amina):
    number, person_id, _, _ = amina
    warn(session, person_id, users.admin.id, date(2027, 1, 5))
    login(client, users.admin)
    html = client.get("/admin/sanctions?lang=en").text
    assert "No suspension or exclusion is in force." in html and in_force(html) == []
    assert "Pages of sanctions in force" not in html


@pytest.mark.parametrize("cursor", ["forged", "other list", "three", "not a day", "text id"])
def test_a_forged_page_link_of_the_sanctions_in_force_is_a_clear_400(app, client, users, login, cursor):
    with app.test_request_context():
        value = {"forged": "forged", "other list": paging.encode_timed("bookings", (NOW, 1)),
                 "three": paging.encode("sanctions-holding", ("2027-02-01", 1, 2)),
                 "not a day": paging.encode("sanctions-holding", ("1 February", 1)),
                 "text id": paging.encode("sanctions-holding", ("2027-02-01", "one"))}[cursor]
    login(client, users.admin)
    response = client.get("/admin/sanctions", query_string={"lang": "en", "cursor": value})
    assert response.status_code == 400 and "The page link is not valid" in response.text
