"""Public operations: languages, register search and entries, card verification. No token needed."""

import sqlalchemy as sa

from registry.models import Credential, Interpreter
from tests.api.conftest import problem_of
from tests.helpers import interpreter


def test_languages_are_named_in_the_request_language_and_sorted(api):
    body = api.get("/languages", language="nb").get_json()
    assert body["next_cursor"] is None
    names = [i["name"] for i in body["items"]]
    assert names == sorted(names, key=str.casefold)
    assert {"code": "ar", "name": "arabisk"} in body["items"]
    assert {"code": "ar", "name": "Arabic"} in api.get("/languages", language="en").get_json()["items"]


def test_search_ranks_by_category_within_a_language(api, world):
    body = api.get("/register?language=ar").get_json()
    assert [(i["name"], i["languages"][0]["category"]) for i in body["items"]] == [("Amina Ali", "A"),
                                                                                  ("Omar Osman", "C")]
    amina = body["items"][0]
    assert amina["register_number"] == str(world.amina) and amina["county"] == "03" and amina["county_name"]
    assert amina["contact"] == {"email": "amina@example.no", "phone": "+47 91234567"}
    assert "contact" not in body["items"][1]  # Omar has not agreed to publish it
    assert amina["modalities"] == ["onsite", "video", "phone"] and amina["status"] == "active"


def test_search_filters(api, world):
    def names(query):
        response = api.get("/register?" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [i["name"] for i in response.get_json()["items"]]

    assert names("language=ar&min_category=B") == ["Amina Ali"]
    assert names("language=so") == ["Omar Osman"]
    assert names("county=46") == ["Omar Osman"]
    assert names("gender=male") == ["Omar Osman"]
    assert names("q=amina") == ["Amina Ali"]
    assert names(f"q={world.omar}") == ["Omar Osman"]
    assert names("language=pl") == []


def test_search_pages_with_a_signed_cursor(api, session, world):
    for n in range(5):
        interpreter(session, f"Zed {n}", credentials=[("authorisation", "ar")], email=f"zed{n}@example.no")
    seen, cursor, pages = [], None, 0
    while True:
        response = api.get("/register?language=ar&limit=3" + (f"&cursor={cursor}" if cursor else ""))
        body = response.get_json()
        seen += [i["register_number"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 7


def test_bad_search_parameters_are_400_naming_the_parameter(api):
    for query, field in (("min_category=Z", "min_category"), ("county=99", "county"), ("limit=0", "limit"),
                         ("limit=101", "limit"), ("limit=ten", "limit"), ("cursor=forged", "cursor"),
                         ("gender=robot", "gender"), ("q=" + "x" * 101, "q")):
        problem = problem_of(api.get("/register?" + query), 400)
        assert [e["field"] for e in problem["errors"]] == [field], query


def test_register_entry(api, session, world):
    body = api.get(f"/register/{world.omar}").get_json()
    assert body["name"] == "Omar Osman" and body["languages"] == [
        {"code": "ar", "name": "Arabic", "category": "C"}, {"code": "so", "name": "Somali", "category": "C"}]
    session.execute(sa.update(Interpreter).where(Interpreter.id == world.omar_id).values(status="suspended"))
    session.commit()
    problem_of(api.get(f"/register/{world.omar}"), 404)
    for missing in ("999999", "abc", "12a", "٣"):
        problem_of(api.get(f"/register/{missing}"), 404)


def test_verify(api, session, world):
    body = api.get(f"/verify/{world.amina}?language=ar").get_json()
    assert body == {"register_number": str(world.amina), "name": "Amina Ali", "language": "ar", "qualified": True,
                    "category": "A", "languages": [{"code": "ar", "name": "Arabic", "category": "A"}],
                    "as_of": "2027-03-01"}
    body = api.get(f"/verify/{world.amina}?language=so").get_json()
    assert body["qualified"] is False and body["category"] is None
    assert api.get(f"/verify/{world.amina}").get_json()["qualified"] is True
    problem_of(api.get(f"/verify/{world.amina}?language=zz"), 400)
    problem_of(api.get("/verify/999999"), 404)


def test_verify_stops_the_day_after_the_credential_ran_out(api, session, world):
    from datetime import date

    session.execute(sa.update(Credential).where(Credential.interpreter_id == world.omar_id).values(
        valid_until=date(2027, 2, 28)))
    session.commit()
    body = api.get(f"/verify/{world.omar}?language=ar").get_json()
    assert body["qualified"] is False and body["languages"] == []
