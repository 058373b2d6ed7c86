"""Small builders for tests: real rows through the real domain functions."""

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from types import SimpleNamespace

import pyotp

from registry.database import listening
from registry.domain import qualification
from registry.domain.interpreters import create_interpreter
from registry.models import Credential

TODAY = date(2027, 3, 1)
NEXT_PAGE = re.compile(r'<a class="ds-link" rel="next" href="([^"]+)">Next page</a>')


def interpreter(session, name="Amina Hussein", county="03", credentials=(), today=TODAY, **fields):
    """An interpreter with credentials given as (type, language, extra-fields) and categories computed."""
    defaults = dict(gender="female", availability="part_time", municipality_number=None,
                    email="amina@example.no", phone="+47 91234567")
    defaults.update(fields)
    person = create_interpreter(session, name=name, county_number=county, **defaults)
    for type, language, *extra in credentials:
        values = dict(state="verified", issued_on=date(2020, 1, 1))
        values.update(extra[0] if extra else {})
        session.add(Credential(interpreter_id=person.id, type=type, language_code=language, **values))
    session.flush()
    qualification.recompute(session, [person.id], today)
    session.commit()
    return person


PASSWORD = "correct horse battery staple"


def user(session, email="booker@example.no", role="booker", agency=None, person=None, password=PASSWORD, **fields):
    """A user with a password; bookers and agency admins get an agency if none is given."""
    from registry.domain import accounts

    if role in ("booker", "agency_admin") and agency is None:
        agency = accounts.create_agency(session, "974760673", "Helse Testby HF", "health", "03")
    if role == "interpreter" and person is None:
        person = interpreter(session, email=email)
    new = accounts.create_user(session, email, fields.pop("name", email), role, agency=agency, interpreter=person)
    accounts.set_password(new, password, "CHEAPEST")
    for key, value in fields.items():
        setattr(new, key, value)
    session.commit()
    return new


@contextmanager
def write_lock_probe(engine, reads: str) -> Iterator[SimpleNamespace]:
    """Watches the app's statements while open. Each time one reading `reads` (e.g. "FROM api_tokens") runs, it
    notes how many transactions had begun (`read_in`) and, on SQLite, whether a second connection could take the
    write lock at that moment (`others`: "could write" or SQLite's error); for each INSERT INTO bookings, how many
    had begun (`booked_in`). So a test can tell whether a request read something before or inside the transaction
    that holds SQLite's write lock."""
    seen = SimpleNamespace(begins=0, others=[], read_in=[], booked_in=[])
    sqlite = engine.dialect.name == "sqlite"

    def note_begin(_conn):
        seen.begins += 1

    def probe(_conn, _cursor, statement, *_args):
        if statement.lstrip().startswith("INSERT INTO bookings"):
            seen.booked_in.append(seen.begins)
        if reads not in statement:
            return
        seen.read_in.append(seen.begins)
        if sqlite:
            other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                seen.others.append("could write")
            except sqlite3.OperationalError as error:
                seen.others.append(str(error))
            finally:
                other.close()

    with listening(engine, begin=note_begin, before_cursor_execute=probe):
        yield seen


@contextmanager
def rollbacks(engine) -> Iterator[list]:
    """The ROLLBACKs the app's connections issue while open (psycopg forgets its prepared statements on each)."""
    seen = []

    def note(_conn):
        seen.append("rollback")

    with listening(engine, rollback=note):
        yield seen


def plans(session, run, statement_holds: str) -> list[str]:
    """The query plan of each statement holding `statement_holds` that `run()` executes, as the database reads it
    (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN), one text per statement."""
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement_holds in statement:
            seen.append((statement, parameters))

    with listening(session.get_bind(), before_cursor_execute=before):
        run()
    explain = "EXPLAIN QUERY PLAN " if session.get_bind().dialect.name == "sqlite" else "EXPLAIN "
    return ["\n".join(str(row[-1]) for row in session.connection().exec_driver_sql(explain + statement, parameters))
            for statement, parameters in seen]


def walk_pages(client, session, url: str, items: str) -> list[SimpleNamespace]:
    """Follow a list's "Next page" links from `url` (a page in English) to the last page: for each page its HTML,
    the texts that `items` (a regular expression with one group) finds on it, and how many statements it ran. Every
    page but the first links back to `url` as "First page"; the first does not."""
    pages, first = [], f'href="{url.replace("&", "&amp;")}">First page</a>'
    while url:
        counted: list = []
        with listening(session.get_bind(), before_cursor_execute=lambda *args, c=counted: c.append(args[2])):
            html = client.get(url).text
        assert (first in html if pages else "First page" not in html), url
        pages.append(SimpleNamespace(html=html, items=re.findall(items, html), statements=len(counted)))
        found = NEXT_PAGE.search(html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return pages


_TOTP_STEPS: dict[str, int] = {}


def totp_code(secret: str) -> str:
    """A two-factor code the app has not seen for this secret. Each code logs in once (RFC 6238, section 5.2), so a
    second login within a step takes the next step's code, which the app accepts as clock drift; a third waits for
    a new step. Only now's step and the next are taken: the server reads its clock a moment later, and both stay in
    its window even if a step begins in between."""
    totp = pyotp.TOTP(secret)
    while True:
        now = time.time()
        current = totp.timecode(now)
        step = max(current, _TOTP_STEPS.get(secret, current - 1) + 1)
        if step <= current + 1:
            _TOTP_STEPS[secret] = step
            return totp.generate_otp(step)
        time.sleep(totp.interval - now % totp.interval + 0.05)
