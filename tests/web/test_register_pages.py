"""The public register as a visitor sees it: search, order, paging, profile, card, verification."""

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from registry.domain.clock import oslo_date
from registry.domain.register import Filters, name_key, search
from registry.models import Interpreter, Qualification
from tests.helpers import interpreter, plans, walk_pages

A = [("authorisation", "ar"), ("bachelor", "ar")]
C = [("authorisation", "ar")]
E = [("bilingual_test", "ar"), ("tao", None)]


def names_in(html: str) -> list[str]:
    return re.findall(r'href="/register/\d+">([^<]+)</a>', html)


@pytest.fixture
def register(session):
    today = oslo_date()
    people = {
        "eve": interpreter(session, "Eve Evensen", credentials=E, county="46", today=today, gender="female"),
        "cat": interpreter(session, "Cat Carlsen", credentials=C, county="03", today=today, gender="male",
                           offers_video=False),
        "abe": interpreter(session, "Abe Andersen", credentials=A + [("basic_course", "pl")], county="03",
                           today=today, gender="male", publish_contact=True, email="abe@example.no"),
        "sus": interpreter(session, "Sus Suspended", credentials=A, county="03", today=today, status="suspended"),
        "non": interpreter(session, "Non Qualified", credentials=[("bilingual_test", "ar")], today=today),
    }
    return {key: p.register_number for key, p in people.items()}


def test_within_a_language_the_highest_category_comes_first(client, register):
    html = client.get("/register?language=ar").text
    assert names_in(html) == ["Abe Andersen", "Cat Carlsen", "Eve Evensen"]


@pytest.mark.parametrize("query, expected", [
    ("language=ar&min_category=C", ["Abe Andersen", "Cat Carlsen"]),
    ("language=ar&min_category=A", ["Abe Andersen"]),
    ("language=pl", ["Abe Andersen"]),
    ("language=ar&county=46", ["Eve Evensen"]),
    ("gender=male", ["Abe Andersen", "Cat Carlsen"]),
    ("modality=video&language=ar", ["Abe Andersen", "Eve Evensen"]),
    ("q=carl", ["Cat Carlsen"]),
    ("q=CARLSEN", ["Cat Carlsen"]),
    ("q=100%25", []),
    ("", ["Abe Andersen", "Cat Carlsen", "Eve Evensen"]),
])
def test_filters(client, register, query, expected):
    response = client.get(f"/register?{query}")
    assert response.status_code == 200
    assert names_in(response.text) == expected


def test_search_by_register_number(client, register):
    assert names_in(client.get(f"/register?q={register['cat']}").text) == ["Cat Carlsen"]


ARABIC_INDIC = str.maketrans("0123456789", "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669")


def test_a_register_number_in_arabic_indic_digits_finds_the_interpreter(client, register):
    number = str(register["cat"]).translate(ARABIC_INDIC)
    assert names_in(client.get("/register", query_string={"q": number}).text) == ["Cat Carlsen"]


@pytest.mark.parametrize("q", ["9" * 10, "9" * 20, "\u00b2", "1\u00b2", " 0 "])
def test_a_search_for_what_only_looks_like_a_register_number_finds_no_one(client, register, q):
    """More digits than a register number has, or a digit that is not decimal ("\u00b2" passes str.isdigit, and
    int() refuses it): no one has that number or name. Each was a 500, for any visitor."""
    response = client.get("/register", query_string={"q": q, "lang": "en"})
    assert response.status_code == 200
    assert names_in(response.text) == []


def test_suspended_and_unqualified_interpreters_are_not_listed(client, register):
    html = client.get("/register").text
    assert "Sus Suspended" not in html and "Non Qualified" not in html
    assert client.get(f"/register/{register['sus']}").status_code == 404
    assert client.get(f"/register/{register['non']}").status_code == 404


def test_keyset_paging_walks_every_interpreter_once(app, client, session):
    today = oslo_date()
    for n in range(7):
        interpreter(session, f"Person {n:02d}", credentials=C if n % 2 else A, today=today)
    interpreter(session, "Only Polish", credentials=[("authorisation", "pl")], today=today)
    app.config["PAGE_SIZE"] = 3
    try:
        pages = walk_pages(client, session, "/register?language=ar&lang=en", r'href="/register/\d+">([^<]+)</a>')
        single = client.get("/register?language=pl&lang=en").text
    finally:
        app.config["PAGE_SIZE"] = 25
    # Category A (even numbers) before C, by name within each.
    assert [name for page in pages for name in page.items] == [f"Person {n:02d}" for n in (0, 2, 4, 6, 1, 3, 5)]
    assert all('<nav aria-label="Pages of interpreters" class="pager">' in page.html for page in pages)
    assert names_in(single) == ["Only Polish"] and 'class="pager"' not in single  # no empty navigation


@pytest.mark.parametrize("query, status, message", [
    ("language=zz", 400, "Ukjent språkkode"),
    ("min_category=Z", 400, "A, B, C, D"),
    ("county=99", 400, "Ukjent fylkesnummer"),
    ("gender=robot", 400, "kjønn"),
    ("modality=fax", 400, "telefon"),
    ("cursor=WzEsImEiLDFd.forged", 400, "Lenken"),
    ("q=" + "x" * 101, 400, "100"),
])
def test_bad_search_input_is_a_clear_400_in_norwegian(client, register, query, status, message):
    response = client.get(f"/register?{query}", headers={"Accept-Language": "nb-NO,nb;q=0.9,en;q=0.5"})
    assert response.status_code == status
    assert message in response.text
    assert 'role="alert"' in response.text


def test_a_cursor_from_another_search_shape_is_refused(client, register, app):
    from registry import paging

    with app.test_request_context():
        cursor = paging.encode("register", ("only-two", 1))
    assert client.get(f"/register?language=ar&cursor={cursor}").status_code == 400


def test_profile_shows_contact_only_with_consent(client, register):
    shown = client.get(f"/register/{register['abe']}").text
    hidden = client.get(f"/register/{register['cat']}").text
    assert "abe@example.no" in shown
    assert "amina@example.no" not in hidden and "+47 91234567" not in hidden


def test_profile_and_card(client, register):
    html = client.get(f"/register/{register['abe']}?lang=en").text
    assert "Abe Andersen" in html and str(register["abe"]) in html
    assert "Arabic" in html and "Polish" in html
    card = client.get(f"/register/{register['abe']}/card?lang=en").text
    assert f'/register/{register["abe"]}/qr.svg' in card
    svg = client.get(f"/register/{register['abe']}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data


@pytest.mark.parametrize("url", ["/register/999999", "/register/999999/card", "/register/999999/qr.svg",
                                 "/verify/999999", "/register/abc", "/no-such-page"])
def test_unknown_numbers_are_404(client, register, url):
    assert client.get(url, headers={"Accept-Language": "en"}).status_code == 404


def test_verification_answers_today_and_nothing_more(client, register):
    html = client.get(f"/verify/{register['abe']}?language=ar&lang=en").text
    assert "is a qualified interpreter for Arabic" in html and "category A" in html
    assert "abe@example.no" not in html
    html = client.get(f"/verify/{register['abe']}?language=so&lang=en").text
    assert "is not a qualified interpreter for Somali" in html
    html = client.get(f"/verify/{register['sus']}?lang=en").text
    assert "is not a qualified interpreter" in html


def test_verification_follows_the_credentials_of_the_day(client, session):
    today = oslo_date()
    person = interpreter(session, credentials=[("authorisation", "ar", {"valid_until": today})], today=today)
    assert "is a qualified interpreter" in client.get(f"/verify/{person.register_number}?lang=en").text
    expired = interpreter(session, "Old Card", credentials=[
        ("authorisation", "ar", {"valid_until": today - timedelta(days=1), "issued_on": date(2019, 1, 1)})
    ], today=today - timedelta(days=1))
    # The stored category is stale until the nightly job runs; verification is not.
    html = client.get(f"/verify/{expired.register_number}?lang=en").text
    assert "is not a qualified interpreter" in html


@pytest.mark.parametrize("number, status", [("abc", 400), ("12ab", 400), ("1" * 10, 400), ("", 200),
                                            ("\u00b2", 400), ("-1", 400), ("1 2", 400)])
def test_verify_form_input(client, number, status):
    response = client.get("/verify", query_string={"number": number, "lang": "en"})
    assert response.status_code == status
    if status == 400:
        assert "A register number is written with digits only" in response.text


@pytest.mark.parametrize("digits", [str, lambda n: f" {n} ", lambda n: str(n).translate(ARABIC_INDIC)])
def test_verify_form_redirects_to_the_answer(client, register, digits):
    response = client.get("/verify", query_string={"number": digits(register["abe"])})
    assert response.status_code == 302 and response.location.endswith(f"/verify/{register['abe']}")


def test_verify_unknown_language_is_400(client, register):
    assert client.get(f"/verify/{register['abe']}?language=zz").status_code == 400


def test_no_national_identity_number_anywhere():
    from registry.extensions import db

    columns = {c.name for t in db.metadata.tables.values() for c in t.columns}
    assert not any("national" in c or "fodselsnummer" in c or "ssn" in c for c in columns)


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_healthz_needs_no_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def _name_copies(session) -> dict:
    return dict(session.execute(sa.select(Qualification.interpreter_id, Qualification.name_key)).all())


def test_the_order_by_name_follows_an_interpreter_renamed(client, session, register):
    """The register lists by the qualifications' copy of the name (migration 0010), which the database keeps: set
    when a category is written, rewritten when the interpreter is renamed, whoever renames them (here a plain
    UPDATE), and put right when written by mistake."""
    today = oslo_date()
    assert names_in(client.get("/register?language=ar&min_category=A").text) == ["Abe Andersen"]
    ada = interpreter(session, "Ada Aas", credentials=A, county="46", today=today)
    assert names_in(client.get("/register?language=ar&min_category=A").text) == ["Abe Andersen", "Ada Aas"]
    session.execute(sa.update(Interpreter).where(Interpreter.id == ada.id)
                    .values(name="Aaron Aas", name_key=name_key("Aaron Aas")))
    session.commit()
    assert names_in(client.get("/register?language=ar&min_category=A").text) == ["Aaron Aas", "Abe Andersen"]
    session.execute(sa.update(Qualification).values(name_key="zzz"))  # written by mistake: put right
    session.commit()
    keys = dict(session.execute(sa.select(Interpreter.id, Interpreter.name_key)).all())
    assert _name_copies(session) == {i: keys[i] for i in _name_copies(session)}
    assert names_in(client.get("/register?language=ar&min_category=A").text) == ["Aaron Aas", "Abe Andersen"]
    # A category in a new language gets the name the interpreter has then.
    session.execute(sa.insert(Qualification).values(interpreter_id=ada.id, language_code="so", category="C",
                                                    rank=3))
    session.commit()
    assert session.scalar(sa.select(Qualification.name_key).where(
        Qualification.interpreter_id == ada.id, Qualification.language_code == "so")) == "aaron aas"


@pytest.mark.parametrize("filters", [dict(language="ar"), dict(language="ar", county="03"),
                                     dict(language="ar", min_category="C", modality="video")])
def test_a_language_is_listed_from_its_index_in_order_however_deep_the_page(session, register, filters):
    """Category, then name, read in that order from the qualifications' index, and no sort: a page deep among a
    popular language's holders costs what the first does (19-23 ms against 3.6 ms on the PostgreSQL bench data,
    before). On PostgreSQL with sequential scans off: a handful of rows is rightly read whole."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    plan, = plans(session, lambda: search(session, Filters(**filters), (5, "m", 1), 25), "JOIN qualifications")
    index = "ix_qualifications_language_" + ("county_rank_name" if "county" in filters else "rank_name")
    assert index in plan, plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan
