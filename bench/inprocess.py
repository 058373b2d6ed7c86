"""In-process figures: the availability search on an app context, the public register page via the test client,
and the load test's API requests one at a time through the test client."""

import random
import re
import statistics
import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from registry import paging
from registry.database import finish_read
from registry.domain.availability import Slot, find_available
from registry.domain.clock import OSLO, now
from registry.domain.languages import LANGUAGE_CODES
from registry.domain.places import counties_and_municipalities
from registry.domain.times import to_utc
from registry.extensions import db
from registry.models import Interpreter, Qualification
from registry.models.interpreter import LISTED_STATUSES

from .generate import COUNTY_WEIGHTS, pick_municipality
from .report import Figure, percentiles

SEARCH_LIMIT = 50  # what the booking page asks for (registry/booking/views.py)
WARM_UP = 5
MIN_SAMPLES = 20  # a case stops after `case_seconds` once it has at least this many measurements
CATEGORY_MIX = ("E", "E", "E", "D", "D", "C", "C", "B")
LANGUAGE_RANKS = (("popular", 0), ("mid", 24), ("rare", 89))
# Where the booker asks (the booking page and the API): anywhere (video, phone, or on site with no place given); on
# site in a county; on site near a municipality, in its county (the county the API and the page take when none is
# given); and anywhere for child welfare or the police, whose interpreters must hold a police certificate valid on
# the day (qualification.POLICE_CERTIFICATE_SECTORS): the search then checks each holder's certificate as it goes.
PLACES = ("all", "county", "municipality", "certified")
PLACE_LABELS = {"all": "any county", "county": "in a county, on site",
                "municipality": "near a municipality, on site",
                "certified": "any county, police certificate needed"}
REGISTER_CASES = ("language", "language_county", "language_category", "rare_language", "name", "no_filters",
                  "next_page", "deep_page")


def pick_languages(session) -> dict[str, tuple[str, int]]:
    """A popular, a mid and a rare language by how many active interpreters hold them (ranks 1, 25 and 90)."""
    held = dict(session.execute(
        sa.select(Qualification.language_code, sa.func.count())
        .join(Interpreter, Interpreter.id == Qualification.interpreter_id)
        .where(Interpreter.status == "active").group_by(Qualification.language_code)).all())
    ranked = sorted(LANGUAGE_CODES, key=lambda code: (-held.get(code, 0), code))
    return {kind: (ranked[rank], held.get(ranked[rank], 0)) for kind, rank in LANGUAGE_RANKS}


def random_slot(rng: random.Random, language: str, county: str | None, municipality: str | None = None,
                police_certificate: bool = False) -> Slot:
    """A weekday in the coming eight weeks, in working hours, an hour or two long; on site when in a place."""
    day = (now().astimezone(OSLO) + timedelta(days=rng.randint(1, 56))).date()
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minute = rng.randrange(8 * 60, 14 * 60 + 1, 15)
    start = to_utc(datetime(day.year, day.month, day.day, minute // 60, minute % 60), "start", fold=0)
    length = rng.choice((60, 60, 90, 120))
    modality = "onsite" if county else rng.choice(("video", "phone", "onsite"))
    return Slot(language, rng.choice(CATEGORY_MIX), modality, start, start + timedelta(minutes=length),
                county=county, municipality=municipality, police_certificate=police_certificate)


def enough(samples: list, iterations: int, started: float, case_seconds: float) -> bool:
    return len(samples) >= iterations or (len(samples) >= MIN_SAMPLES and time.monotonic() - started > case_seconds)


def availability(app, iterations: int, seed: int = 1, case_seconds: float = 30) -> tuple[list[Figure], dict]:
    """find_available for a popular, a mid and a rare language: anywhere, on site in a county, on site near a
    municipality (in its county), and anywhere with a police certificate needed. Counties as often as people live
    in them, municipalities as the generator places people."""
    rng = random.Random(seed)
    counties, weights = list(COUNTY_WEIGHTS), list(COUNTY_WEIGHTS.values())
    municipalities: dict[str, list[str]] = {}
    for m in counties_and_municipalities()[1]:
        municipalities.setdefault(m["county_number"], []).append(m["number"])

    def place(where: str) -> tuple[str | None, str | None]:
        if where in ("all", "certified"):
            return None, None
        county = rng.choices(counties, weights)[0]
        return county, pick_municipality(rng, municipalities[county]) if where == "municipality" else None
    figures, details = [], {}
    with app.app_context():
        languages = pick_languages(db.session)
        db.session.remove()
        for kind, (code, held) in languages.items():
            for where in PLACES:
                samples, found, n, case_started = [], 0, 0, time.monotonic()
                while not enough(samples, iterations, case_started, case_seconds):
                    slot = random_slot(rng, code, *place(where), police_certificate=where == "certified")
                    started = time.perf_counter()
                    result = find_available(db.session, slot, limit=SEARCH_LIMIT)
                    elapsed = (time.perf_counter() - started) * 1000
                    finish_read(db.session())  # as a read request ends (registry.database.end_reads_with_commit)
                    db.session.remove()
                    n += 1
                    if n > WARM_UP:
                        samples.append(elapsed)
                        found += len(result)
                p = percentiles(samples)
                label = f"availability {kind} ({code}, {held:,} held), {PLACE_LABELS[where]}"
                for name in ("p50", "p95", "p99"):
                    figures.append(Figure.of(f"availability.{kind}.{where}.{name}_ms", f"{label}: {name}", p[name],
                                             "ms", "availability_p95_ms" if name == "p95" else None))
                details[f"availability.{kind}.{where}"] = {"language": code, "interpreters": held,
                                                          "searches": len(samples),
                                                          "mean_candidates": round(found / max(1, len(samples)), 1)}
    return figures, details


def register_cases(app) -> dict[str, str]:
    """The public search as people use it: by language (with county, category), by name, the second page, and a
    page half-way through the popular language's most held category (E, the last listed): its cursor is the one
    "Next page" leads to there, the key of the holder before it."""
    with app.app_context():
        languages = pick_languages(db.session)
        name = db.session.scalar(sa.select(Interpreter.name).where(Interpreter.status == "active")
                                 .order_by(Interpreter.id).limit(1)) or "Ali"
        popular, rare = languages["popular"][0], languages["rare"][0]
        last_rank = sa.select(Qualification.rank, Interpreter.name_key, Interpreter.id).join(Interpreter).where(
            Qualification.language_code == popular, Interpreter.status.in_(LISTED_STATUSES),
            Qualification.rank == 5).order_by(Interpreter.name_key, Interpreter.id)
        held = db.session.scalar(sa.select(sa.func.count()).select_from(last_rank.subquery()))
        key = db.session.execute(last_rank.offset(held // 2).limit(1)).first()
        with app.test_request_context():
            deep = f"/register?language={popular}" + (f"&cursor={paging.encode('register', tuple(key))}" if key else "")
        db.session.remove()
    return {
        "language": f"/register?language={popular}",
        "language_county": f"/register?language={popular}&county=03",
        "language_category": f"/register?language={languages['mid'][0]}&min_category=C",
        "rare_language": f"/register?language={rare}",
        "name": f"/register?q={name.split()[-1][:5].lower()}",
        "no_filters": "/register",
        "next_page": f"/register?language={popular}",  # replaced by its "Next page" link below
        "deep_page": deep,
    }


CURSOR = re.compile(r'href="([^"]*cursor=[^"]+)"')


def register_page(app, iterations: int, case_seconds: float = 30) -> tuple[list[Figure], dict]:
    client = app.test_client()
    cases = register_cases(app)
    first = client.get(cases["next_page"])
    link = CURSOR.search(first.get_data(as_text=True))
    cases["next_page"] = link.group(1).replace("&amp;", "&") if link else cases["next_page"]
    figures, details = [], {}
    for case, url in cases.items():
        samples, statuses, n, case_started = [], {}, 0, time.monotonic()
        while not enough(samples, iterations, case_started, case_seconds):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            n += 1
            if n > WARM_UP:
                samples.append(elapsed)
        p = percentiles(samples)
        label = f"register page {case.replace('_', ' ')}"
        for name in ("p50", "p95", "p99"):
            figures.append(Figure.of(f"register.{case}.{name}_ms", f"{label}: {name}", p[name], "ms",
                                     "register_page_p95_ms" if name == "p95" else None))
        details[f"register.{case}"] = {"url": url, "statuses": statuses, "requests": len(samples)}
    return figures, details


API_LABELS = {"healthz": "GET /healthz", "register": "GET /api/v1/register/{n}",
              "availability": "GET /api/v1/availability", "booking": "POST /api/v1/bookings"}


def api_requests(app, lines: dict[str, list[str]], case_seconds: float = 30) -> tuple[list[Figure], dict]:
    """The load test's own prepared requests (bench/load.py), sent one at a time through Flask's test client: no HTTP
    server, nothing else competing for the cores or for SQLite's write lock. Each endpoint's mean time a request,
    and /healthz's mean over it: the ratio the load test measures, with the contention taken out, so it tells how
    much of a missed ratio is the request's own work. `lines` holds enough requests for each (WARM_UP more than
    are measured); the bookings are used once each, so they must be slots the load test does not also book."""
    client = app.test_client()
    means, details = {}, {}
    for name, prepared in lines.items():
        samples, statuses, case_started = [], {}, time.monotonic()
        for n, line in enumerate(prepared):
            if enough(samples, len(prepared) - WARM_UP, case_started, case_seconds):
                break
            method, path, token, body = line.split("\t")
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            if body:
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            response = client.open(path, method=method, headers=headers, data=body or None)
            elapsed = (time.perf_counter() - started) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if n >= WARM_UP:
                samples.append(elapsed)
        means[name] = statistics.fmean(samples) if samples else None
        details[name] = {"requests": len(samples), "statuses": statuses}
    figures = []
    for name, mean in means.items():
        label = f"one at a time, in process: {API_LABELS[name]}"
        figures.append(Figure.of(f"api_alone.{name}.mean_ms", f"{label}: mean", mean, "ms"))
        if name != "healthz":
            ratio = means["healthz"] / mean if mean and means.get("healthz") else None
            figures.append(Figure.of(f"api_alone.{name}.ratio", f"{label}: ratio to /healthz", ratio, "x"))
    return figures, details
