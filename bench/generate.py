"""A national-scale register for the benchmark, loaded into a fresh SQLite file or PostgreSQL database.

    .venv/bin/python -m bench.generate --db sqlite --scale 0.01

At scale 1: 50,000 interpreters in 100 languages (Arabic, Polish, Somali and Tigrinya hold most of them),
150,000 current credentials of which 5% ran out yesterday and await the nightly expiry job, 850,000 more
from the credentials' history (expired, rejected, revoked, and renewed ones still `verified` that are due as
well, so the expiry job meets 1,000,000 credentials with 5% due), weekly working hours for everyone,
absences, agencies with their bookers, and 5,000,000 bookings over the past five years and the coming one.

Every rule holds: categories are derived from the credentials by registry.domain.qualification (as of
yesterday, the state before tonight's expiry run); each interpreter's bookings are drawn one per working
day (now and then two on a day, one after the other), inside their working hours and outside their
absences, so no two ever overlap; a booking asks for a category the interpreter holds; one with an
interpreter in a sector that needs a police certificate (qualification.POLICE_CERTIFICATE_SECTORS) has one
who holds a certificate valid on its day. The schema comes from the migrations, the rows through the bulk
paths in loaders.py, and the overlap guard, foreign keys and police certificates are validated after the load.
"""

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from registry.demo import FIRST, LAST
from registry.domain.clock import OSLO, oslo_date
from registry.domain.languages import LANGUAGE_CODES
from registry.domain.places import counties_and_municipalities
from registry.domain.qualification import CATEGORY_RANK, POLICE_CERTIFICATE_SECTORS, Held, derive_categories
from registry.domain.register import name_key

from . import DATA_DIR, DEFAULT_PG_URL, targets
from .loaders import NEEDING_CERTIFICATE, PostgresLoader, SqliteLoader, Timings

SEED = 2022
BASE = {"interpreters": 50_000, "credentials": 150_000, "credentials_total": 1_000_000, "bookings": 5_000_000,
        "agencies": 1_500}
DUE_SHARE = 0.05
PAST_DAYS = 5 * 365
FUTURE_DAYS = 365
LEAD_DAYS = 60  # bookings are made up to this long before they start
BLOCK_DAYS = 30

TOP_LANGUAGES = {"ar": 0.20, "pl": 0.14, "so": 0.12, "ti": 0.10}
CATEGORY_WEIGHTS = {"A": 6, "B": 10, "C": 14, "D": 25, "E": 45}
PROFILES = {"A": ("authorisation", "bachelor"), "B": ("bachelor",), "C": ("authorisation",),
            "D": ("basic_course",), "E": ("bilingual_test",)}
STATUSES = (("active", 0.93), ("paused", 0.03), ("suspended", 0.01), ("excluded", 0.005), ("inactive", 0.025))
COUNTY_WEIGHTS = {"03": 1100, "32": 720, "31": 300, "33": 270, "34": 375, "39": 256, "40": 176, "42": 318,
                  "11": 500, "46": 650, "15": 270, "50": 480, "18": 243, "55": 170, "56": 75}
SECTORS = (("health", 30), ("nav", 20), ("municipal", 20), ("child_welfare", 10), ("police", 5), ("court", 5),
           ("immigration", 5), ("school", 5))
DURATIONS = (30, 45, 60, 60, 60, 90, 90, 120, 180)
STREETS = ("Storgata", "Kirkegata", "Sykehusveien", "Rådhusplassen", "Parkveien", "Jernbanegata", "Torget")
TABLES = ["agencies", "users", "interpreters", "working_hours", "absences", "sanctions", "credentials",
          "qualifications", "bookings"]

INTERPRETER_COLUMNS = ("id", "register_number", "name", "name_key", "gender", "county_number",
                       "municipality_number", "email", "phone", "publish_contact", "availability", "offers_onsite",
                       "offers_video", "offers_phone", "status", "birth_date", "last_booked_at", "created_at",
                       "updated_at")
CREDENTIAL_COLUMNS = ("id", "interpreter_id", "type", "language_code", "state", "issued_on", "valid_until",
                      "verified_at", "created_at", "updated_at")
BOOKING_COLUMNS = ("id", "agency_id", "booker_id", "interpreter_id", "status", "language_code", "min_category",
                   "modality", "starts_at", "ends_at", "sector", "address", "municipality_number", "meeting_url",
                   "respond_by", "late_cancellation", "billable", "warn_credential_expires", "warn_not_qualified",
                   "report_state", "created_at", "updated_at")
USER_COLUMNS = ("id", "email", "name", "role", "agency_id", "interpreter_id", "locale", "active", "totp_enabled",
                "created_at", "calendar_version")

# Stored as SQLAlchemy stores them on SQLite (and as PostgreSQL, with the session in UTC, reads them).
TIME = [f"{m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def language_weights() -> dict[str, float]:
    """The four big languages hold 56%; the other 96 fall off steeply, with a floor so each has a few."""
    rest = [c for c in LANGUAGE_CODES if c not in TOP_LANGUAGES]
    decay = [math.exp(-i / 10) for i in range(len(rest))]
    total = sum(decay)
    share = 1 - sum(TOP_LANGUAGES.values())
    weights = dict(TOP_LANGUAGES)
    for code, d in zip(rest, decay, strict=True):
        weights[code] = share * (0.9 * d / total + 0.1 / len(rest))
    return weights


def pick_municipality(rng: random.Random, numbers: list[str]) -> str:
    """One of a county's municipalities (numbers in the reference data's order), as people live in them: most
    in the first few, the larger ones."""
    return numbers[rng.randrange(min(3, len(numbers)))] if rng.random() < 0.6 else rng.choice(numbers)


@dataclass(slots=True)
class Person:
    id: int
    register_number: int
    status: str
    availability: str
    county: str
    municipality: str
    languages: list[str]
    modalities: list[str]
    hours: dict[int, list[tuple[int, int]]]
    pattern: tuple[int, ...]
    blocked: set[int] = field(default_factory=set)
    categories: dict[str, str] = field(default_factory=dict)
    rate: float = 0.0
    last_booked: str | None = None
    # Day numbers (Days) from and through which a verified police certificate of theirs is valid; () for none.
    police: tuple[tuple[int, int], ...] = ()


class Days:
    """Day numbers from the earliest booking's lead time to the end of the coming year, with what each needs."""

    def __init__(self, today: date):
        self.first = today - timedelta(days=PAST_DAYS + LEAD_DAYS)
        self.today = PAST_DAYS + LEAD_DAYS
        self.count = self.today + FUTURE_DAYS + 2
        dates = [self.first + timedelta(days=d) for d in range(self.count)]
        self.text = [d.isoformat() for d in dates]
        self.weekday = [d.weekday() for d in dates]
        # Minutes Oslo is ahead of UTC in working hours that day (clocks change at night).
        self.offset = [int(datetime(d.year, d.month, d.day, 12, tzinfo=OSLO).utcoffset().total_seconds() // 60)
                       for d in dates]

    def at(self, day: int, local_minute: int) -> str:
        """UTC text of a local time on a day (working hours never cross midnight UTC)."""
        return f"{self.text[day]} {TIME[local_minute - self.offset[day]]}"

    def midnight(self, day: int) -> str:
        """UTC text of local midnight starting `day` (the offset in force is the previous day's)."""
        return f"{self.text[day - 1]} {TIME[1440 - self.offset[day - 1]]}"


class Plan:
    """Everything but the bookings, decided up front (they are drawn afterwards, streamed, in time order)."""

    def __init__(self, scale: float, seed: int, today: date, now: datetime):
        self.scale, self.today, self.now = scale, today, now
        self.rng = random.Random(seed)
        self.days = Days(today)
        self.n = {key: max(1, round(value * scale)) for key, value in BASE.items()}
        self.n["interpreters"] = max(20, self.n["interpreters"])
        self.n["agencies"] = max(3, self.n["agencies"])
        self.now_minute = now.astimezone(UTC).hour * 60 + now.astimezone(UTC).minute
        self._places()
        self._agencies()
        self._people()
        self._credentials()
        self._rates()

    # -- places, agencies, people ---------------------------------------------------------------------

    def _places(self):
        counties, municipalities = counties_and_municipalities()
        self.county_names = {c["number"]: c["name"] for c in counties}
        self.municipalities: dict[str, list[str]] = {}
        for m in municipalities:
            self.municipalities.setdefault(m["county_number"], []).append(m["number"])
        self.counties = sorted(self.municipalities)
        self.county_weights = [COUNTY_WEIGHTS.get(c, 100) for c in self.counties]

    def _municipality(self, county: str) -> str:
        return pick_municipality(self.rng, self.municipalities[county])

    def _agencies(self):
        rng, created = self.rng, stamp(self.now - timedelta(days=PAST_DAYS + 400))
        self.agency_rows, self.user_rows, self.booking_parties = [], [], []
        sectors, weights = zip(*SECTORS, strict=True)
        user_id = 0
        for a in range(1, self.n["agencies"] + 1):
            sector = rng.choices(sectors, weights)[0]
            county = rng.choices(self.counties, self.county_weights)[0]
            name = f"{sector.replace('_', ' ').title()} {self.county_names[county]} {a}"
            self.agency_rows.append((a, f"{900000000 + a * 7:09d}", name, name_key(name), sector, county, 1, created))
            for n in range(1 + rng.randint(1, 5)):
                user_id += 1
                role = "agency_admin" if n == 0 else "booker"
                self.user_rows.append((user_id, f"{role.replace('_', '')}{user_id}@agency{a}.example.no",
                                       f"{rng.choice(FIRST['female'] + FIRST['male'])} {rng.choice(LAST)}", role, a,
                                       None, rng.choice(("nb", "nb", "nn", "en")), 1, 0, created, 1))
                self.booking_parties.append((a, user_id, sector))
        self.last_user_id = user_id
        # Those who may book an interpreter without a police certificate (_booking); at least one, whatever the draw.
        self.uncertified_parties = [p for p in self.booking_parties if p[2] not in POLICE_CERTIFICATE_SECTORS]
        if not self.uncertified_parties:
            raise SystemExit("every agency drawn is in a sector that needs a police certificate: try another seed")

    def _hours(self, availability: str) -> dict[int, list[tuple[int, int]]]:
        rng = self.rng
        if availability == "full_time":
            if rng.random() < 0.15:
                return {d: [(480, 690), (720, 960)] for d in range(5)}
            start = rng.choice((420, 480, 480, 540))
            return {d: [(start, start + 480)] for d in range(5)}
        if availability == "part_time":
            start = rng.choice((480, 540, 600))
            return {d: [(start, start + 360)] for d in sorted(rng.sample(range(5), 3))}
        start = rng.choice((600, 600, 960))
        return {d: [(start, start + 240)] for d in sorted(rng.sample(range(6), 2))}

    def _people(self):
        rng, days = self.rng, self.days
        weights = language_weights()
        codes, code_weights = list(weights), list(accumulate(weights.values()))
        statuses, status_weights = zip(*STATUSES, strict=True)
        status_weights = list(accumulate(status_weights))
        county_weights = list(accumulate(self.county_weights))
        self.people: list[Person] = []
        self.interpreter_rows = []
        self.hours_rows, self.absence_rows, self.sanction_rows = [], [], []
        user_id = self.last_user_id
        created = stamp(self.now - timedelta(days=PAST_DAYS + 200))
        for i in range(1, self.n["interpreters"] + 1):
            languages = [rng.choices(codes, cum_weights=code_weights)[0]]
            for chance in (0.3, 0.06):
                if rng.random() < chance:
                    extra = rng.choices(codes, cum_weights=code_weights)[0]
                    if extra not in languages:
                        languages.append(extra)
            availability = rng.choices(("full_time", "part_time", "occasional"), cum_weights=(40, 80, 100))[0]
            county = rng.choices(self.counties, cum_weights=county_weights)[0]
            modalities = [m for m, p in (("onsite", 0.85), ("video", 0.8), ("phone", 0.95)) if rng.random() < p]
            modalities = modalities or ["phone"]
            hours = self._hours(availability)
            status = rng.choices(statuses, cum_weights=status_weights)[0]
            # The first is paused at any scale, so even the rot test's 25 interpreters hold a paused interpreter's
            # coming bookings, with their warning, for the expiry phase to leave as it found them.
            person = Person(i, 1000 + i, "paused" if i == 1 else status, availability, county,
                            self._municipality(county), languages, modalities, hours, tuple(sorted(hours)))
            self.people.append(person)
            gender = rng.choices(("female", "male", "other"), cum_weights=(56, 99, 100))[0]
            name = f"{rng.choice(FIRST['male' if gender == 'male' else 'female'])} {rng.choice(LAST)}"
            if rng.random() < 0.5:
                name = f"{name}-{rng.choice(LAST)}"
            email = f"tolk{person.register_number}@example.no" if rng.random() < 0.9 else None
            self.interpreter_rows.append([
                i, person.register_number, name, name_key(name), gender, county, person.municipality, email,
                f"+47 9{rng.randrange(1000000, 9999999)}", int(rng.random() < 0.4), availability,
                int("onsite" in modalities), int("video" in modalities), int("phone" in modalities), person.status,
                date(rng.randint(1955, 2000), rng.randint(1, 12), rng.randint(1, 28)).isoformat(), None, created,
                created])
            if email and rng.random() < 0.4:
                user_id += 1
                self.user_rows.append((user_id, email, name, "interpreter", None, i, rng.choice(("nb", "en")), 1, 0,
                                       created, 1))
            for weekday, intervals in hours.items():
                for start, end in intervals:
                    self.hours_rows.append((len(self.hours_rows) + 1, i, weekday, TIME[start], TIME[end]))
            self._absences(person, days)
            if person.status in ("suspended", "excluded"):
                kind = "suspension" if person.status == "suspended" else "exclusion"
                self.sanction_rows.append((len(self.sanction_rows) + 1, i, kind, "Breach of the code of conduct.",
                                           (self.today - timedelta(days=30)).isoformat(),
                                           (self.today - timedelta(days=30)).isoformat(),
                                           (self.today + timedelta(days=60)).isoformat() if kind == "suspension"
                                           else None, created))

    def _absences(self, person: Person, days: Days):
        rng = self.rng
        if rng.random() >= 0.3:
            return
        for _ in range(rng.randint(1, 2)):
            length = rng.choice((1, 2, 3, 7, 14, 21))
            first = rng.randrange(days.today - PAST_DAYS, days.count - length - 1)
            person.blocked.update(range(first, first + length))
            self.absence_rows.append((len(self.absence_rows) + 1, person.id, days.midnight(first),
                                      days.midnight(first + length), "Holiday" if length >= 7 else None,
                                      days.midnight(max(first - 20, 1))))

    # -- credentials and categories -------------------------------------------------------------------

    def _credential(self, person, type_, language, state, issued, valid_until):
        verified = f"{issued.isoformat()} 10:00:00.000000" if state != "pending" else None
        created = f"{issued.isoformat()} 09:00:00.000000"
        return [0, person.id, type_, language, state, issued, valid_until, verified, created, created]

    def _credentials(self):
        rng, today = self.rng, self.today
        current: list[list] = []
        for person in self.people:
            chosen = rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()), k=len(person.languages))
            for language, category in zip(person.languages, chosen, strict=True):
                for type_ in PROFILES[category]:
                    current.append(self._current(person, type_, language))
            if "E" in chosen:  # E needs the general TAO course beside the language test
                current.append(self._current(person, "tao", None))
        # Up to the target: police certificates (which count for no category), then credentials awaiting checks.
        for person in rng.sample(self.people, len(self.people)):
            if len(current) >= self.n["credentials"]:
                break
            current.append(self._current(person, "police_certificate", None))
        while len(current) < self.n["credentials"]:
            person = rng.choice(self.people)
            row = self._current(person, rng.choice(("authorisation", "bachelor")), rng.choice(person.languages))
            row[4], row[7] = "pending", None
            current.append(row)
        verified = [c for c in current if c[4] == "verified"]
        due_now = rng.sample(verified, min(len(verified), round(len(current) * DUE_SHARE)))
        yesterday = today - timedelta(days=1)
        for row in due_now:
            row[6] = yesterday
            row[5] = min(row[5], yesterday - timedelta(days=300))
        due_ids = {id(r) for r in due_now}
        self.current = current
        self.history_plan = self._history(current, due_ids, len(due_now))
        by_person: dict[int, list[Held]] = {}
        first, never = self.days.first, self.days.count
        for c in current + [h for h in self.history_plan if h[4] == "verified"]:
            if c[4] == "verified":
                by_person.setdefault(c[1], []).append(Held(c[2], c[3], c[4], c[5], c[6]))
                if c[2] == "police_certificate":  # valid from issued_on through valid_until (qualification.valid_on)
                    person = self.people[c[1] - 1]
                    person.police = (*person.police,
                                     ((c[5] - first).days, never if c[6] is None else (c[6] - first).days))
        self.qualification_rows = []
        for person in self.people:
            person.categories = derive_categories(by_person.get(person.id, ()), yesterday)
            for language, category in sorted(person.categories.items()):
                self.qualification_rows.append((person.id, language, category, CATEGORY_RANK[category],
                                                person.county))
        self.due = {"current": len(due_now)}

    def _current(self, person, type_, language):
        rng, today = self.rng, self.today
        issued = today - timedelta(days=rng.randint(400, 3000))
        valid_until = None if rng.random() < 0.45 else today + timedelta(days=rng.randint(60, 1800))
        return self._credential(person, type_, language, "verified", issued, valid_until)

    def _history(self, current, due_ids, due_now) -> list[list]:
        """Older credentials: expired, rejected, revoked, and renewed ones not yet expired (due tonight)."""
        rng, today = self.rng, self.today
        count = max(0, self.n["credentials_total"] - len(current))
        superseded = max(0, min(count, round(self.n["credentials_total"] * DUE_SHARE) - due_now))
        lasting = [c for c in current if c[4] == "verified" and id(c) not in due_ids]
        rows = []
        yesterday = today - timedelta(days=1)
        for n in range(count):
            base = rng.choice(lasting) if lasting else rng.choice(current)
            person = self.people[base[1] - 1]
            if n < superseded:  # renewed: the new one is current, the old one is still verified until tonight
                issued = base[5] - timedelta(days=rng.randint(365, 1500))
                rows.append(self._credential(person, base[2], base[3], "verified", issued, yesterday))
                continue
            ended = today - timedelta(days=rng.randint(30, 1900))
            issued = ended - timedelta(days=rng.randint(365, 1800))
            r = rng.random()
            state = "expired" if r < 0.95 else "rejected" if r < 0.98 else "revoked"
            rows.append(self._credential(person, base[2], base[3], state, issued,
                                         None if state == "rejected" else ended))
        self.superseded = superseded
        return rows

    def credential_rows(self):
        for n, row in enumerate(self.current + self.history_plan, start=1):
            row[0] = n
            yield (n, row[1], row[2], row[3], row[4], row[5].isoformat(),
                   row[6].isoformat() if row[6] else None, row[7], row[8], row[9])

    # -- bookings ---------------------------------------------------------------------------------------

    def _rates(self):
        """Expected bookings per 30-day block for each person, so the total comes to the target."""
        rng = self.rng
        factor = {"full_time": 1.6, "part_time": 1.0, "occasional": 0.4}
        weights = [factor[p.availability] * rng.lognormvariate(0, 0.5) for p in self.people]
        total = sum(weights)
        self.blocks = math.ceil((PAST_DAYS + FUTURE_DAYS) / BLOCK_DAYS)
        past_blocks = PAST_DAYS // BLOCK_DAYS
        for person, weight in zip(self.people, weights, strict=True):
            blocks = self.blocks if person.status in ("active", "paused") else past_blocks
            # Second bookings on a day add some; absences and full blocks take some away: 1.066 nets them out.
            person.rate = self.n["bookings"] * weight / total / blocks / 1.066

    def booking_rows(self):
        """Bookings in order of start time (as they would have been made), ids following that order."""
        rng, days = self.rng, self.days
        rand, randrange, choice = rng.random, rng.randrange, rng.choice
        parties = self.booking_parties
        addresses = [f"{s} {n}" for s in STREETS for n in range(1, 40)]
        links = [f"https://meet.example.no/room-{n}" for n in range(500)]
        start_day = days.today - PAST_DAYS
        next_id = 1
        for block in range(self.blocks):
            first = start_day + block * BLOCK_DAYS
            last = min(first + BLOCK_DAYS, days.today + FUTURE_DAYS)
            future_block = last > days.today
            eligible: dict[tuple, list[int]] = {}
            rows = []
            for person in self.people:
                if future_block and person.status not in ("active", "paused") and first >= days.today:
                    continue
                n = int(person.rate)
                if rand() < person.rate - n:
                    n += 1
                if not n:
                    continue
                workdays = eligible.get(person.pattern)
                if workdays is None:
                    workdays = eligible[person.pattern] = [d for d in range(first, last)
                                                           if days.weekday[d] in person.hours]
                if not workdays:
                    continue
                for day in rng.sample(workdays, min(n, len(workdays))):
                    if day in person.blocked:
                        continue
                    if day >= days.today and person.status not in ("active", "paused"):
                        continue
                    intervals = person.hours[days.weekday[day]]
                    start, end = intervals[0] if len(intervals) == 1 else choice(intervals)
                    length = min(choice(DURATIONS), end - start)
                    begin = start + 15 * randrange((end - start - length) // 15 + 1)
                    self._booking(rows, person, day, begin, length, parties, addresses, links)
                    after = begin + length + 15
                    if rand() < 0.08 and end - after >= 30:
                        self._booking(rows, person, day, after, min(60, end - after), parties, addresses, links)
            rows.sort(key=lambda r: r[7])
            for row in rows:
                yield (next_id, *row)
                next_id += 1

    def _booking(self, rows, person, day, begin, length, parties, addresses, links):
        rng, days = self.rng, self.days
        rand = rng.random
        agency, booker, sector = parties[rng.randrange(len(parties))]
        language = person.languages[0] if len(person.languages) == 1 or rand() < 0.75 else \
            rng.choice(person.languages[1:])
        category = person.categories[language]
        rank = CATEGORY_RANK[category]
        minimum = category if rand() < 0.5 else "ABCDE"[rng.randint(rank, 5) - 1]
        modality = person.modalities[0] if len(person.modalities) == 1 else rng.choice(person.modalities)
        starts = days.at(day, begin)
        ends = days.at(day, begin + length)
        future = day > days.today or (day == days.today and begin - days.offset[day] > self.now_minute)
        created_day = min(day - rng.randint(1, LEAD_DAYS), days.today - 1)
        created = f"{days.text[created_day]} {TIME[rng.randrange(360, 1080)]}"
        interpreter, respond_by, late, billable, report = person.id, None, 0, 0, None
        r = rand()
        if future:
            if r < 0.78:
                status = "confirmed"
            elif r < 0.86:
                status = "requested"
                made = self.now - timedelta(minutes=rng.randint(10, 600))
                created = stamp(made)
                moment = datetime.fromisoformat(starts).replace(tzinfo=UTC)
                respond_by = stamp(min(made + timedelta(hours=24), made + (moment - made) / 2))
            elif r < 0.90:
                status, interpreter = "open", None
            elif r < 0.98:
                status = "cancelled"
            else:
                status = "declined"
        elif r < 0.85:
            status, billable, report = "completed", 1, "approved"
        elif r < 0.94:
            status = "cancelled"
            late = billable = int(rand() < 0.1)
        elif r < 0.97:
            status = "declined"
        elif r < 0.99:
            status = "lapsed"
        else:
            status, interpreter = "cancelled", None
        if interpreter is not None and sector in POLICE_CERTIFICATE_SECTORS and \
                not any(issued <= day <= until for issued, until in person.police):
            # Not theirs to take: the booking is one of a party whose sector needs no certificate.
            free = self.uncertified_parties
            agency, booker, sector = free[rng.randrange(len(free))]
        if interpreter is not None and status in ("confirmed", "completed") and \
                (person.last_booked is None or created > person.last_booked):
            person.last_booked = created
        onsite = modality == "onsite"
        # A paused interpreter's coming bookings were made while they were active and marked when they paused,
        # as the app marks them (interpreter_record.correct); the others (suspended, ...) have no coming ones.
        unqualified = int(future and interpreter is not None and status in ("confirmed", "requested")
                          and person.status != "active")
        rows.append((agency, booker, interpreter, status, language, minimum, modality, starts, ends, sector,
                     addresses[rng.randrange(len(addresses))] if onsite else None,
                     person.municipality if onsite else None,
                     links[rng.randrange(len(links))] if modality == "video" else None,
                     respond_by, late, billable, 0, unqualified, report, created, created))

    def qualification_rows_final(self):
        """The qualifications with their interpreter's last booking (known once the bookings are made) and name, as
        the database's triggers keep them (migrations 0009 and 0010)."""
        people = {person.id: person for person in self.people}
        names = {row[0]: row[3] for row in self.interpreter_rows}
        for interpreter_id, language, category, rank, county in self.qualification_rows:
            last = people[interpreter_id].last_booked
            yield interpreter_id, language, category, rank, county, last is not None, last, names[interpreter_id]

    def interpreter_rows_final(self):
        for row, person in zip(self.interpreter_rows, self.people, strict=True):
            row[16] = person.last_booked
            yield tuple(row)


def migrate(t: targets.Target) -> None:
    """The schema, exactly as production builds it: the migrations, through Flask-Migrate."""
    import flask_migrate

    from registry import create_app
    from registry.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": t.url, "SECRET_KEY": "bench"})
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()


def generate(t: targets.Target, *, seed: int = SEED, analyze_sqlite: bool = False, log=print) -> dict:
    """Make the database afresh and load it; returns the facts written beside it (counts, seconds)."""
    started = time.perf_counter()
    now = datetime.now(UTC)
    today = oslo_date(now)
    timings = Timings()
    log(f"generating {t.label} at scale {t.scale} (today {today})")
    with timings.timed("schema (migrations)"):
        targets.recreate(t)
        migrate(t)
    with timings.timed("plan people and credentials"):
        plan = Plan(t.scale, seed, today, now)
    loader = SqliteLoader(t.sqlite_path, timings) if t.db == "sqlite" else PostgresLoader(t.url, timings)
    loader.suspend(TABLES)
    counts = {
        "agencies": loader.load("agencies", ("id", "orgnr", "name", "name_key", "sector", "county_number", "active",
                                             "created_at"), plan.agency_rows),
        "bookings": loader.load("bookings", BOOKING_COLUMNS, plan.booking_rows()),
    }
    log(f"  {counts['bookings']:,} bookings loaded ({time.perf_counter() - started:.0f} s)")
    counts["interpreters"] = loader.load("interpreters", INTERPRETER_COLUMNS, plan.interpreter_rows_final())
    counts["users"] = loader.load("users", USER_COLUMNS, plan.user_rows)
    counts["working_hours"] = loader.load("working_hours", ("id", "interpreter_id", "weekday", "start_time",
                                                            "end_time"), plan.hours_rows)
    counts["absences"] = loader.load("absences", ("id", "interpreter_id", "starts_at", "ends_at", "note",
                                                  "created_at"), plan.absence_rows)
    counts["sanctions"] = loader.load("sanctions", ("id", "interpreter_id", "kind", "reason", "decided_on",
                                                    "starts_on", "ends_on", "created_at"), plan.sanction_rows)
    counts["credentials"] = loader.load("credentials", CREDENTIAL_COLUMNS, plan.credential_rows())
    counts["qualifications"] = loader.load("qualifications", ("interpreter_id", "language_code", "category",
                                                              "rank", "county_number", "booked", "last_booked_at",
                                                              "name_key"),
                                           plan.qualification_rows_final())
    log(f"  all rows loaded ({time.perf_counter() - started:.0f} s); building indexes and constraints")
    loader.resume()
    checks = loader.validate()
    if any(checks.values()):
        raise SystemExit(f"the generated data breaks the rules: {checks}")
    loader.execute(f"UPDATE counters SET value = {1000 + len(plan.people)} WHERE name = 'register_number'")
    # So a check of uncertified_bookings is not vacuous: how many bookings the rule held for.
    counts["bookings_needing_police_certificate"] = loader.execute(f"SELECT count(*) {NEEDING_CERTIFICATE}")[0][0]
    if t.db == "postgresql":
        loader.sequences([tb for tb in TABLES if tb != "qualifications"])
        loader.finish(TABLES)
    else:
        loader.finish(analyze=analyze_sqlite)
    counts["credentials_current"] = len(plan.current)
    counts["credentials_due"] = plan.due["current"] + plan.superseded
    counts["credentials_due_current"] = plan.due["current"]
    counts["holding_bookings_checked"] = True
    meta = {"fingerprint": targets.fingerprint(), "scale": t.scale, "seed": seed, "today": today.isoformat(),
            "generated_at": now.isoformat(timespec="seconds"), "counts": counts, "checks": checks,
            "load_seconds": dict(timings), "total_seconds": round(time.perf_counter() - started, 1),
            "analyzed": analyze_sqlite if t.db == "sqlite" else True}
    targets.write_meta(t, meta)
    log(f"  done in {meta['total_seconds']:.0f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()
                                                              if isinstance(v, int) and not isinstance(v, bool)))
    return meta


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data-dir", default=str(DATA_DIR))
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a database on the server (to create others)")
    parser.add_argument("--pg-name", help="database name (default bench_<scale>)")
    parser.add_argument("--analyze", action="store_true", help="SQLite: run ANALYZE after the load")
    args = parser.parse_args(argv)
    from pathlib import Path

    t = targets.target(args.db, args.scale, Path(args.data_dir), args.pg_url, args.pg_name)
    generate(t, seed=args.seed, analyze_sqlite=args.analyze)
    return 0


if __name__ == "__main__":
    sys.exit(main())
