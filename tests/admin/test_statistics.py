"""Statistics: every number on the page and in the CSV exports equals a count made here, independently, from the
rows the test wrote; filters by period (Norwegian dates) and county; charts are SVG beside their tables."""

import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from registry.database import listening
from registry.models import Booking
from tests.admin.conftest import fresh
from tests.helpers import interpreter

OSLO = ZoneInfo("Europe/Oslo")
NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)
TODAY = date(2027, 3, 1)
LANGUAGES = ("ar", "so", "pl")
SECTORS = ("health", "nav", "court", "school")
PLACES = {None: None, "0301": "03", "4601": "46", "5001": "50"}
AGENCY_COUNTY = {"a": "03", "b": "46"}  # the web fixtures' two public bodies


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def soon(days: int) -> dict:
    return {"valid_until": TODAY + timedelta(days=days)}


@pytest.fixture
def world(session, users):
    """Five interpreters with known categories and credentials, and 400 bookings written at random (seeded)."""
    people = {
        "amina": interpreter(session, "Amina", county="03", email="a@x.no", today=TODAY,
                             credentials=[("authorisation", "ar"), ("bachelor", "ar", soon(91))]),
        "omar": interpreter(session, "Omar", county="46", email="o@x.no", today=TODAY,
                            credentials=[("authorisation", "ar"), ("bilingual_test", "so"), ("tao", None, soon(90))]),
        "pia": interpreter(session, "Pia", county="50", email="p@x.no", today=TODAY,
                           credentials=[("basic_course", "pl"), ("bachelor", "ar", soon(30)),
                                        ("translator", "so", {"state": "expired", **soon(10)})]),
        "sus": interpreter(session, "Sus", county="03", email="s@x.no", today=TODAY, status="suspended",
                           credentials=[("authorisation", "ar", soon(5)), ("bachelor", "ar")]),
        "tore": interpreter(session, "Tore", county="46", email="t@x.no", today=TODAY, status="paused",
                            credentials=[("bilingual_test", "so", soon(0)), ("tao", None)]),
    }
    categories = {"amina": {"ar": "A"}, "omar": {"ar": "C", "so": "E"}, "pia": {"ar": "B", "pl": "D"},
                  "sus": {"ar": "A"}, "tore": {"so": "E"}}
    listed = {"amina": "03", "omar": "46", "pia": "50", "tore": "46"}
    expiring = [("bachelor", "ar", "50"), ("tao", None, "46"), ("authorisation", "ar", "03"),
                ("bilingual_test", "so", "46")]

    rng = random.Random(6)
    rows, taken = [], set()
    edges = [datetime(2026, 5, 31, 22, 30, tzinfo=UTC),   # 1 June 00:30 in Oslo: inside a period from 1 June
             datetime(2026, 5, 31, 21, 30, tzinfo=UTC),   # 31 May 23:30 in Oslo: outside
             datetime(2027, 2, 28, 23, 30, tzinfo=UTC),   # 1 March 00:30 in Oslo
             datetime(2026, 10, 31, 23, 15, tzinfo=UTC)]  # 1 November 00:15 (winter time, UTC+1)
    for n in range(400):
        start = edges[n] if n < len(edges) else datetime(2026, 1, 1, tzinfo=UTC) + timedelta(
            minutes=rng.randrange(0, 60 * 24 * 540))
        who = rng.choice(list(people) + [None, None])
        status = rng.choice(("open", "cancelled")) if who is None else rng.choice(
            ("requested", "confirmed", "declined", "lapsed", "cancelled", "completed"))
        if who and (who, start) in taken:
            continue
        taken.add((who, start))
        place = rng.choice(list(PLACES))
        agency = rng.choice("ab")
        rows.append(dict(language=rng.choice(LANGUAGES), sector=rng.choice(SECTORS), status=status, who=who,
                         place=place, agency=agency, start=start))
        session.add(Booking(
            agency_id=users.agency_a if agency == "a" else users.agency_b, booker_id=None,
            interpreter_id=people[who].id if who else None, status=status, language_code=rows[-1]["language"],
            min_category="E", modality="onsite" if place else "video", municipality_number=place,
            starts_at=start, ends_at=start + timedelta(minutes=1), sector=rows[-1]["sector"]))
    session.commit()
    return dict(rows=rows, categories=categories, listed=listed, expiring=expiring)


def county_of(row) -> str:
    return PLACES[row["place"]] or AGENCY_COUNTY[row["agency"]]


def chosen(rows, start: date, end: date, county: str | None, agency: str | None = None):
    return [r for r in rows if start <= r["start"].astimezone(OSLO).date() <= end
            and (county is None or county_of(r) == county) and agency in (None, r["agency"])]


def expected_tables(world, start: date, end: date, county: str | None, agency: str | None = None) -> dict:
    rows = chosen(world["rows"], start, end, county, agency)
    months = []
    month = date(start.year, start.month, 1)
    while month <= end:
        months.append(month.strftime("%Y-%m"))
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    by_month = Counter(r["start"].astimezone(OSLO).strftime("%Y-%m") for r in rows)
    served = Counter(world["categories"][r["who"]].get(r["language"]) for r in rows
                     if r["status"] in ("confirmed", "completed"))
    unmet = Counter((r["language"], county_of(r)) for r in rows if r["status"] == "lapsed"
                    or (r["status"] == "cancelled" and r["who"] is None)
                    or (r["status"] == "open" and r["start"] <= NOW))
    interpreters = Counter((language, place) for who, place in world["listed"].items()
                           for language in world["categories"][who] if county in (None, place))
    expiring = Counter((kind, language) for kind, language, place in world["expiring"] if county in (None, place))
    return {
        "bookings_by_language": dict(Counter(r["language"] for r in rows)),
        "bookings_by_sector": dict(Counter(r["sector"] for r in rows)),
        "bookings_by_month": {m: by_month.get(m, 0) for m in months},
        "served_by_category": {c: served.get(c, 0) for c in ("A", "B", "C", "D", "E", None)},
        "unmet_demand": dict(unmet),
        "interpreters": dict(interpreters),
        "expiring_credentials": dict(expiring),
    }


def read_csv(client, key: str, query: str, page: str = "/admin/statistics") -> list[list[str]]:
    response = client.get(f"{page}/{key}.csv?lang=en&{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def as_counts(key: str, rows: list[list[str]]) -> dict:
    body = rows[1:]
    if key in ("bookings_by_language", "bookings_by_sector"):
        return {r[1]: int(r[2]) for r in body}
    if key == "bookings_by_month":
        return {r[0]: int(r[1]) for r in body}
    if key == "served_by_category":
        return {(None if r[0] == "No category now" else r[0]): int(r[1]) for r in body}
    if key in ("unmet_demand", "interpreters"):
        return {(r[1], r[3]): int(r[4]) for r in body}
    return {(r[1], r[3] or None): int(r[4]) for r in body}


PERIODS = [
    ("2026-06-01", "2027-02-28", None),
    ("2026-06-01", "2027-02-28", "46"),
    ("2026-01-01", "2027-06-30", "03"),
    ("2026-11-01", "2026-11-30", None),
]


@pytest.mark.parametrize("start, end, county", PERIODS)
def test_every_table_equals_an_independent_count(client, session, users, login, world, start, end, county):
    expected = expected_tables(world, date.fromisoformat(start), date.fromisoformat(end), county)
    assert sum(expected["bookings_by_language"].values()) > 0
    query = f"start={start}&end={end}&county={county or ''}"
    login(client, users.admin)
    for key, counts in expected.items():
        assert as_counts(key, read_csv(client, key, query)) == counts, key


def test_the_page_reads_the_periods_bookings_three_times_not_five(client, session, users, login, world):
    """By language, by sector and by month come from one pass over the period's bookings (booking_counts), served
    and unmet demand from one each: three passes on the bench data's 830,000 bookings a year took 0.76 s of the
    PostgreSQL page's 1.05. The municipality and the public body are joined only for a county."""
    login(client, users.admin)
    seen = []
    with listening(session.get_bind(), before_cursor_execute=lambda *args: seen.append(args[2])):
        page = client.get("/admin/statistics?lang=en&start=2026-06-01&end=2027-02-28")
    assert page.status_code == 200
    passes = [s for s in seen if "FROM bookings" in s]
    assert len(passes) == 3, passes
    assert sum("JOIN municipalities" in s for s in passes) == 1  # unmet demand, by county


def test_shares_of_served_bookings_and_the_month_edges(client, session, users, login, world):
    login(client, users.admin)
    rows = read_csv(client, "served_by_category", "start=2026-06-01&end=2027-02-28")
    total = sum(int(r[1]) for r in rows[1:])
    for _category, count, share in rows[1:]:
        assert share == f"{100 * int(count) / total:.1f}%"
    months = {r[0]: int(r[1]) for r in read_csv(client, "bookings_by_month", "start=2026-06-01&end=2026-06-01")[1:]}
    first_of_june = chosen(world["rows"], date(2026, 6, 1), date(2026, 6, 1), None)
    assert months == {"2026-06": len(first_of_june)}
    # 00:30 on 1 June in Oslo counts there; 23:30 on 31 May does not, though both are 31 May in UTC.
    starts = {r["start"] for r in first_of_june}
    assert datetime(2026, 5, 31, 22, 30, tzinfo=UTC) in starts
    assert datetime(2026, 5, 31, 21, 30, tzinfo=UTC) not in starts


def test_the_page_shows_each_table_with_an_svg_chart_and_the_same_numbers(client, session, users, login, world):
    login(client, users.admin)
    response = client.get("/admin/statistics?lang=en&start=2026-06-01&end=2027-02-28")
    assert response.status_code == 200
    html = response.text
    assert html.count('<svg class="chart-svg" role="img"') == 7
    assert html.count('<table class="ds-table"') == 7 and "<script" not in html and "style=" not in html
    expected = expected_tables(world, date(2026, 6, 1), date(2027, 2, 28), None)["bookings_by_sector"]
    section = html.split('id="bookings_by_sector-table"', 1)[1].split("</table>", 1)[0]
    for code, count in expected.items():
        assert f"<td>{code}</td><td class=\"number\">{count}</td>" in section
    for key in expected_tables(world, TODAY, TODAY, None):
        assert f"/admin/statistics/{key}.csv?start=2026-06-01&amp;end=2027-02-28" in html


@pytest.mark.parametrize("query, message", [
    ("start=2027-13-01", "Write the date as YYYY-MM-DD"),
    ("start=2027-03-02&end=2027-03-01", "The last day is before the first"),
    ("county=99", "Unknown county number: 99"),
    ("start=2000-01-01&end=2027-01-01", "at most 10 years"),
])
@pytest.mark.parametrize("who, page", [("admin", "/admin/statistics"), ("agency_admin", "/agency/statistics")])
def test_bad_filters_are_a_clear_400(client, users, login, query, message, who, page):
    login(client, getattr(users, who))
    response = client.get(f"{page}?lang=en&{query}")
    assert response.status_code == 400 and message in response.text
    assert client.get(f"{page}/bookings_by_language.csv?lang=en&{query}").status_code == 400


def test_the_default_period_is_the_last_twelve_months(client, session, users, login, world):
    login(client, users.admin)
    html = client.get("/admin/statistics?lang=en").text
    assert "Period: April 1, 2026 to March 1, 2027." in html
    assert fresh(session).scalar(sa.select(sa.func.count(Booking.id))) == len(world["rows"])


# A public body's own statistics ------------------------------------------------------------------------

BOOKING_TABLES = ("bookings_by_language", "bookings_by_sector", "bookings_by_month", "served_by_category",
                  "unmet_demand")


@pytest.mark.parametrize("who, agency", [("agency_admin", "a"), ("other_admin", "b")])
@pytest.mark.parametrize("start, end, county", PERIODS)
def test_a_public_body_sees_its_own_bookings_counted(client, session, users, login, world, who, agency, start, end,
                                                     county):
    """Each body's administrator sees the tables of the bookings that body made, and no other body's."""
    expected = expected_tables(world, date.fromisoformat(start), date.fromisoformat(end), county, agency)
    everyone = expected_tables(world, date.fromisoformat(start), date.fromisoformat(end), county)
    assert 0 < sum(expected["bookings_by_language"].values()) < sum(everyone["bookings_by_language"].values())
    query = f"start={start}&end={end}&county={county or ''}"
    login(client, getattr(users, who))
    for key in BOOKING_TABLES:
        assert as_counts(key, read_csv(client, key, query, "/agency/statistics")) == expected[key], key


def test_a_public_bodys_page_has_its_booking_tables_and_not_the_registers(client, session, users, login, world):
    login(client, users.agency_admin)
    html = client.get("/agency/statistics?lang=en&start=2026-06-01&end=2027-02-28").text
    assert "Statistics for Sykehuset Aust HF" in html
    assert html.count('<svg class="chart-svg" role="img"') == 5 and html.count('<table class="ds-table"') == 5
    for key in BOOKING_TABLES:
        assert f"/agency/statistics/{key}.csv?start=2026-06-01&amp;end=2027-02-28" in html
    assert "/admin/" not in html.split("<main", 1)[1]
    expected = expected_tables(world, date(2026, 6, 1), date(2027, 2, 28), None, "a")["bookings_by_sector"]
    section = html.split('id="bookings_by_sector-table"', 1)[1].split("</table>", 1)[0]
    for code, count in expected.items():
        assert f"<td>{code}</td><td class=\"number\">{count}</td>" in section
    # The register's tables are the registry's: who lives where, whose credentials run out.
    for key in ("interpreters", "expiring_credentials"):
        assert f'id="{key}"' not in html
        assert client.get(f"/agency/statistics/{key}.csv").status_code == 404
    assert 'href="/agency/statistics"' in client.get("/agency/?lang=en").text

