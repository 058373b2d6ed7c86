"""A realistic, deterministic demo register: `flask --app registry demo load`."""

import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from .domain import qualification
from .domain.clock import OSLO
from .domain.interpreters import create_interpreter
from .models import Agency, Booking, Credential, Interpreter, Municipality, Qualification, Sanction, User, WorkingHours

SEED = 2022  # the year tolkeloven came into force
COUNT = 300

FIRST = {
    "female": ["Amina", "Fatima", "Hodan", "Leila", "Maryam", "Nadia", "Olena", "Anna", "Katarzyna", "Selam",
               "Yordanos", "Zahra", "Shirin", "Ayse", "Elif", "Maria", "Sofia", "Ingrid", "Kari", "Lin",
               "Mai", "Tigist", "Irina", "Natalia", "Ewa", "Hawa", "Samira", "Rana", "Dilan", "Roya"],
    "male": ["Ahmed", "Mohammed", "Ali", "Hassan", "Omar", "Yusuf", "Abdi", "Tesfay", "Dawit", "Bilal",
             "Piotr", "Tomasz", "Andriy", "Oleksandr", "Dmitri", "Reza", "Farid", "Karim", "Mehmet", "Emre",
             "Carlos", "Javier", "Lars", "Ola", "Minh", "Wei", "Jamal", "Samir", "Kawa", "Aram"],
}
LAST = ["Abdullahi", "Hussein", "Mohamud", "Tesfamariam", "Gebremedhin", "Haile", "Kowalski", "Nowak",
        "Wiśniewska", "Shevchenko", "Kovalenko", "Ivanova", "Petrov", "Rahimi", "Ahmadi", "Hosseini",
        "Karimi", "Yilmaz", "Demir", "García", "López", "Nguyen", "Tran", "Chen", "Wang", "Haddad",
        "Khalil", "Mansour", "Berg", "Hansen", "Johansen", "Olsen", "Nilsen", "Barzani", "Osman", "Warsame"]
# Weighted like Norway's demand: Arabic, Polish, Somali and Tigrinya dominate.
LANGUAGE_WEIGHTS = {
    "ar": 30, "pl": 18, "so": 16, "ti": 15, "fa": 10, "prs": 10, "ru": 9, "uk": 12, "ckb": 7, "ku": 5,
    "en": 6, "es": 5, "tr": 5, "ps": 5, "am": 5, "th": 4, "vi": 4, "sq": 3, "bs": 3, "hr": 3, "sr": 3,
    "lt": 4, "lv": 2, "ro": 3, "fr": 4, "de": 2, "pt": 2, "it": 2, "zh": 3, "ur": 3, "my": 3, "ta": 2,
    "tl": 2, "sw": 2, "om": 2, "uz": 1, "ka": 1, "hy": 1, "az": 1, "bg": 1, "hu": 1, "rom": 1, "se": 2,
    "kab": 1, "ne": 1, "hi": 1,
}
# Credential sets that give each category (DESIGN.md); E needs the general TAO course too.
PROFILES = {
    "A": ("authorisation", "bachelor"),
    "B": ("bachelor",),
    "C": ("authorisation",),
    "D": ("basic_course",),
    "E": ("bilingual_test",),
}
PROFILE_WEIGHTS = {"A": 6, "B": 10, "C": 14, "D": 25, "E": 45}


def load(session, today: date) -> int:
    """Create the demo register; returns the number of interpreters created."""
    rng = random.Random(SEED)
    municipalities = session.execute(sa.select(Municipality.number, Municipality.county_number)).all()
    by_county: dict[str, list[str]] = {}
    for number, county in municipalities:
        by_county.setdefault(county, []).append(number)
    counties = sorted(by_county)
    languages = list(LANGUAGE_WEIGHTS)
    created = []
    for n in range(COUNT):
        gender = rng.choice(["female", "male"]) if n % 40 else "other"
        first = rng.choice(FIRST["female" if gender == "other" else gender])
        name = f"{first} {rng.choice(LAST)}"
        county = counties[n] if n < len(counties) else rng.choice(counties)
        interpreter = create_interpreter(
            session, name=name, gender=gender, county_number=county,
            municipality_number=rng.choice(by_county[county]),
            email=f"tolk{n + 1}@example.no", phone=f"+47 9{rng.randrange(1000000, 9999999)}",
            publish_contact=rng.random() < 0.4,
            availability=rng.choice(["full_time", "part_time", "part_time", "occasional"]),
            offers_onsite=rng.random() < 0.85, offers_video=rng.random() < 0.8, offers_phone=True,
            status="suspended" if n % 60 == 59 else ("paused" if n % 75 == 74 else "active"),
        )
        if interpreter.status == "suspended":
            _suspend(session, interpreter, n, today)
        _credentials(session, rng, interpreter, n, languages, today)
        _hours(session, rng, interpreter)
        created.append(interpreter.id)
    session.flush()
    qualification.recompute(session, created, today)
    return len(created)


def _suspend(session, interpreter: Interpreter, n: int, today: date) -> None:
    """The decision behind a suspended demo interpreter, as the sanctions page and their record show it (without
    one they were suspended on no one's word). Decided by the demo's registry admin (load_accounts)."""
    decided = today - timedelta(days=3 + n % 37)  # 3-39 days ago; not drawn from rng, so the rest stays as it was
    interpreter.status_after_sanction = "active"
    session.add(Sanction(interpreter_id=interpreter.id, kind="suspension", decided_on=decided, starts_on=decided,
                         reason="Klage på brot på god tolkeskikk under eit oppdrag; saka er under behandling."))


def _credentials(session, rng, interpreter: Interpreter, n: int, languages: list[str], today: date):
    weights = [LANGUAGE_WEIGHTS[code] for code in languages]
    # The first interpreters cover every language; then demand decides.
    chosen = {languages[n % len(languages)]} if n < len(languages) else set()
    chosen |= set(rng.choices(languages, weights, k=rng.choice([1, 1, 1, 2])))
    # Every category appears early, whatever the draw.
    categories = list(PROFILES)
    needs_tao = False
    for i, language in enumerate(sorted(chosen)):
        category = categories[n % 5] if n < 20 and i == 0 else rng.choices(
            categories, [PROFILE_WEIGHTS[c] for c in categories])[0]
        needs_tao |= category == "E"
        for type in PROFILES[category]:
            issued = today - timedelta(days=rng.randrange(200, 4000))
            session.add(Credential(interpreter_id=interpreter.id, type=type, language_code=language,
                                   state="verified", issued_on=issued,
                                   valid_until=_valid_until(rng, n, today)))
    if needs_tao:
        session.add(Credential(interpreter_id=interpreter.id, type="tao", language_code=None,
                               state="verified", issued_on=today - timedelta(days=rng.randrange(100, 3000))))
    if rng.random() < 0.3:
        session.add(Credential(interpreter_id=interpreter.id, type="police_certificate", language_code=None,
                               state="verified", issued_on=today - timedelta(days=rng.randrange(30, 700)),
                               valid_until=today + timedelta(days=rng.randrange(60, 700))))
    if n % 25 == 3:
        session.add(Credential(interpreter_id=interpreter.id, type="basic_course", language_code="ar",
                               state="pending", issued_on=today - timedelta(days=20)))


def _hours(session, rng, interpreter: Interpreter) -> None:
    """Weekday office hours for most; evenings and weekends for some, as part-timers often work."""
    days = range(5) if interpreter.availability != "occasional" else rng.sample(range(7), 3)
    start, end = (time(8), time(16)) if rng.random() < 0.7 else (time(12), time(20))
    for day in days:
        session.add(WorkingHours(interpreter_id=interpreter.id, weekday=day, start_time=start, end_time=end))


def _valid_until(rng, n: int, today: date) -> date | None:
    """Most credentials have no end; about one in twelve runs out within 90 days."""
    if n % 12 == 5:
        return today + timedelta(days=rng.randrange(5, 90))
    return None if rng.random() < 0.8 else today + timedelta(days=rng.randrange(200, 1500))


DEMO_PASSWORD = "tolkeregister-demo"
AGENCIES = (
    # orgnr, name, sector, county, invoicing reference, admin, bookers
    ("983974724", "Helse Bergen HF", "health", "46", "HB-TOLK-2027", "admin@helse-bergen.example",
     ("booker@helse-bergen.example", "poliklinikk@helse-bergen.example")),
    ("889640782", "NAV Grünerløkka", "nav", "03", "NAV-0302", "admin@nav-grunerlokka.example",
     ("booker@nav-grunerlokka.example",)),
    ("942110464", "Trondheim kommune", "municipal", "50", "TK-4410", "admin@trondheim.example",
     ("booker@trondheim.example",)),
)
REGISTRY_ADMIN = "admin@tolkeregister.example"
INTERPRETER_LOGINS = 3


def load_accounts(session, password_profile: str) -> list[tuple[str, str]]:
    """Public bodies with admins and bookers, a registry admin, and logins for a few interpreters.

    Returns (role, email) of every login; they all share DEMO_PASSWORD.
    """
    from .domain import accounts

    logins = []

    def login(email, name, role, **links):
        user = accounts.create_user(session, email, name, role, **links)
        accounts.set_password(user, DEMO_PASSWORD, password_profile)
        logins.append((role, email))
        return user

    registry_admin = login(REGISTRY_ADMIN, "Ragnhild Registeradmin", "registry_admin")
    session.flush()
    session.execute(sa.update(Sanction).where(Sanction.decided_by_id.is_(None)).values(decided_by_id=registry_admin.id))
    for orgnr, name, sector, county, reference, admin, bookers in AGENCIES:
        agency = accounts.create_agency(session, orgnr, name, sector, county, reference)
        login(admin, f"Administrator, {name}", "agency_admin", agency=agency)
        for n, email in enumerate(bookers, start=1):
            login(email, f"Bestiller {n}, {name}", "booker", agency=agency)
    people = session.scalars(sa.select(Interpreter).where(Interpreter.status == "active")
                             .order_by(Interpreter.register_number).limit(INTERPRETER_LOGINS))
    for person in people:
        login(person.email, person.name, "interpreter", interpreter=person)
    return logins


PAST_OUTCOMES = {"completed": 80, "cancelled": 8, "lapsed": 12}
COMING_OUTCOMES = {"confirmed": 60, "requested": 25, "open": 15}
SECTORS_BY_AGENCY = {"health": ("health",), "nav": ("nav", "child_welfare"), "municipal": ("municipal", "school",
                                                                                           "child_welfare")}


def load_bookings(session, now: datetime) -> int:
    """A year of past bookings and a month of coming ones for the demo bodies, never overlapping.

    Past bookings are mostly completed, some cancelled, some lapsed (unmet demand: a request no one took lapses,
    as the lapse-requests job leaves it); coming ones are confirmed, requested or open. Written directly, as
    history, not through the booking rules (which refuse times in the past); the database's overlap check still
    applies.
    """
    rng = random.Random(SEED + 1)
    agencies = session.scalars(sa.select(Agency).order_by(Agency.id)).all()
    bookers = {a.id: session.scalars(sa.select(User).where(User.agency_id == a.id).order_by(User.id)).all()
               for a in agencies}
    rows = session.execute(
        sa.select(Qualification.interpreter_id, Qualification.language_code, Qualification.category,
                  Interpreter.municipality_number)
        .join(Interpreter, Interpreter.id == Qualification.interpreter_id)
        .where(Interpreter.status == "active")).all()
    weights = [LANGUAGE_WEIGHTS.get(r.language_code, 1) for r in rows]
    certificates: dict[int, list] = {}
    for c in session.execute(sa.select(Credential.interpreter_id, Credential.state, Credential.issued_on,
                                       Credential.valid_until).where(Credential.type == "police_certificate")):
        certificates.setdefault(c.interpreter_id, []).append(c)
    taken: set[tuple[int, date, int]] = set()
    made = 0
    for n in range(900):
        past = n < 750
        day = (now - timedelta(days=rng.randrange(1, 365))).date() if past else \
            (now + timedelta(days=rng.randrange(2, 35))).date()
        if day.weekday() >= 5:
            day -= timedelta(days=2)
        hour = rng.randrange(8, 15)
        row = rng.choices(rows, weights)[0]
        if (row.interpreter_id, day, hour) in taken:
            continue
        agency = agencies[n % len(agencies)]
        start = datetime.combine(day, time(hour), tzinfo=OSLO).astimezone(UTC)
        outcomes = PAST_OUTCOMES if past else COMING_OUTCOMES
        status = rng.choices(list(outcomes), list(outcomes.values()))[0]
        holds = status in ("completed", "confirmed", "requested")
        if holds:
            taken.add((row.interpreter_id, day, hour))
        modality = rng.choice(["onsite", "onsite", "video", "phone"])
        booker_id = rng.choice(bookers[agency.id]).id
        min_category = rng.choice(["C", "D", "E", row.category])
        sectors = SECTORS_BY_AGENCY.get(agency.sector, ("other",))
        sector = rng.choice(sectors)
        if holds and qualification.needs_police_certificate(sector) and not any(
                qualification.is_valid_on(c, day) for c in certificates.get(row.interpreter_id, ())):
            # The interpreter may not take it without a police certificate valid that day: the body books it for
            # its own sector instead (the first, which needs none); drawn from nothing, so the rest stays as it was.
            sector = next(s for s in sectors if not qualification.needs_police_certificate(s))
        session.add(Booking(
            agency_id=agency.id, booker_id=booker_id,
            interpreter_id=row.interpreter_id if holds else None, status=status,
            language_code=row.language_code, min_category=min_category,
            modality=modality, starts_at=start, ends_at=start + timedelta(hours=1), sector=sector,
            address="Demoveien 1" if modality == "onsite" else None,
            municipality_number=row.municipality_number if modality == "onsite" else None,
            respond_by=start - timedelta(hours=12) if status == "requested" else None,
            report_state="approved" if status == "completed" else None,
            actual_start=start if status == "completed" else None,
            actual_end=start + timedelta(hours=1) if status == "completed" else None,
            billable=status == "completed", created_at=start - timedelta(days=7), updated_at=start))
        made += 1
    session.flush()
    return made


def is_empty(session) -> bool:
    return session.scalar(sa.select(sa.func.count()).select_from(Interpreter)) == 0
