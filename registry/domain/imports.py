"""Importing exam and course results from a CSV file: a dry run first, then all of it or nothing.

The file is UTF-8 text (a byte-order mark is allowed) with a header line naming these columns, in any order,
separated by commas or semicolons:

    register_number, name, birth_date, type, language, date, valid_until

Each row is one verified credential of one interpreter already in the register, found by register number,
or else by name and date of birth (which must match exactly one person). `type` is a credential type code,
`language` a language code (empty for tao and police_certificate), `date` the date of issue (not in the
future), `valid_until` the last valid day (empty: the type's default validity, if any).

A row either creates a credential, changes one that is already there (a waiting one is verified; an expired
one or one with another `valid_until` gets the new date), or changes nothing. `check` says which, row by row,
with every fault and its line number, and writes nothing. `run` checks again (the register may have changed)
and, only if there is no fault at all, writes every row in the caller's transaction with bulk statements,
recomputes the categories of the interpreters touched once, and writes one audit entry.
"""

import csv
import hashlib
import io
import re
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..database import chunks
from ..models import Credential, Interpreter
from ..models.credential import CREDENTIAL_TYPES, GENERAL_TYPES
from . import audit, booking, qualification
from .admin_records import validity_years
from .clock import oslo_date
from .errors import InvalidInput, NotFound
from .languages import LANGUAGE_CODES
from .profile import parse_date, years_after
from .register import as_register_number, name_key
from .typed import FORBIDDEN

COLUMNS = ("register_number", "name", "birth_date", "type", "language", "date", "valid_until")
REQUIRED_COLUMNS = COLUMNS
MAX_ROWS = 100_000
CHUNK = 500
TOKEN = re.compile(r"[0-9a-f]{32}")
KEEP_UPLOADS_SECONDS = 24 * 3600


@dataclass
class Row:
    """One line of the file and what it would do: `action` is create, verify, renew, change, unchanged or error."""

    line: int
    action: str = "error"
    errors: list = field(default_factory=list)
    register_number: int | None = None
    name: str | None = None
    type: str | None = None
    language: str | None = None
    issued_on: date | None = None
    valid_until: date | None = None
    old_valid_until: date | None = None
    interpreter_id: int | None = None
    credential_id: int | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    # Faults of the file as a whole: (line, message)
    file_errors: list[tuple[int, object]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def counts(self) -> dict[str, int]:
        counts = {"create": 0, "verify": 0, "renew": 0, "change": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts["error" if row.errors else row.action] += 1
        return counts

    @property
    def faults(self) -> list[tuple[int, object]]:
        """Every fault with its line, in line order."""
        found = list(self.file_errors) + [(r.line, e) for r in self.rows for e in r.errors]
        return sorted(found, key=lambda fault: fault[0])


# Reading the file ---------------------------------------------------------------------------------

def _decode(data: bytes, report: Report) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for number, line in enumerate(data.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            report.file_errors.append((number, _l(
                "Line %(line)s is not UTF-8 text. Save the file as CSV UTF-8 and try again.", line=number)))
    return None


def _delimiter(first_line: str) -> str:
    return max((";", ",", "\t"), key=first_line.count)


def _header(names: list[str]) -> dict[str, int]:
    return {re.sub(r"\s+", "_", n.strip().lower()): i for i, n in enumerate(names)}


def _records(text: str, report: Report):
    """(line number, {column: value}) for each non-empty line after the header; faults go to the report."""
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = next(reader, None)
    except csv.Error as error:
        report.file_errors.append((1, _l("Line 1 cannot be read as CSV: %(error)s", error=str(error))))
        return
    if not header or not any(h.strip() for h in header):
        report.file_errors.append((1, _l("The file is empty. The first line must name the columns: %(columns)s.",
                                         columns=", ".join(COLUMNS))))
        return
    positions = _header(header)
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        report.file_errors.append((1, _l(
            "Line 1: the column %(missing)s is missing. The first line must name the columns: %(columns)s.",
            missing=", ".join(missing), columns=", ".join(COLUMNS))))
        return
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            report.file_errors.append((start, _l("Line %(line)s cannot be read as CSV: %(error)s", line=start,
                                                 error=str(error))))
            return
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            report.file_errors.append((start, _l(
                "Line %(line)s has %(found)s fields, but the first line names %(expected)s columns.",
                line=start, found=len(values), expected=len(header))))
            continue
        record = {c: values[positions[c]].strip() for c in COLUMNS}
        if any(FORBIDDEN.search(v) for v in record.values()):
            # A control character (a NUL, say) is in no name or code: say so, rather than echo it back in a fault
            # about the value it spoils ("no interpreter is named ...").
            report.file_errors.append((start, _l("Line %(line)s contains characters that are not allowed, such as "
                                                 "control characters. Remove them and try again.", line=start)))
            continue
        yield start, record


# Checking rows -----------------------------------------------------------------------------------

@dataclass
class _Person:
    id: int
    register_number: int
    name: str
    name_key: str
    birth_date: date | None


def _people(session, numbers: set[int], births: set[date]) -> tuple[dict, dict]:
    """Interpreters by register number, and by (name key, birth date)."""
    columns = (Interpreter.id, Interpreter.register_number, Interpreter.name, Interpreter.name_key,
               Interpreter.birth_date)
    by_number, by_name = {}, defaultdict(list)
    for chunk in chunks(numbers, CHUNK):
        for row in session.execute(sa.select(*columns).where(Interpreter.register_number.in_(chunk))):
            by_number[row.register_number] = _Person(*row)
    for chunk in chunks(births, CHUNK):
        for row in session.execute(sa.select(*columns).where(Interpreter.birth_date.in_(chunk))):
            by_name[(row.name_key, row.birth_date)].append(_Person(*row))
    return by_number, by_name


def _existing(session, interpreter_ids: set[int]) -> dict[tuple, list]:
    """Credentials already there, by (interpreter, type, language, issue date)."""
    found = defaultdict(list)
    columns = (Credential.id, Credential.interpreter_id, Credential.type, Credential.language_code,
               Credential.issued_on, Credential.state, Credential.valid_until)
    for chunk in chunks(interpreter_ids, CHUNK):
        for row in session.execute(sa.select(*columns).where(Credential.interpreter_id.in_(chunk))):
            found[(row.interpreter_id, row.type, row.language_code, row.issued_on)].append(row)
    return found


def _date(value: str, row: Row, message) -> date | None:
    try:
        return parse_date(value, "date")
    except InvalidInput:
        row.errors.append(_l("Line %(line)s: %(what)s %(value)s is not a date. Write it as YYYY-MM-DD or "
                             "DD.MM.YYYY.", line=row.line, what=message, value=value[:20]))
        return None


def _parse(line: int, values: dict, languages: set[str], today: date) -> tuple[Row, dict]:
    """The row's own checks, without the database; and what identifies the person."""
    row = Row(line)
    number = values["register_number"]
    if number:
        row.register_number = as_register_number(number)
        if row.register_number is None:
            row.errors.append(_l("Line %(line)s: the register number %(value)s is not a number.", line=line,
                                 value=number[:20]))
    row.name = values["name"] or None
    born = _date(values["birth_date"], row, _l("the date of birth")) if values["birth_date"] else None
    if not number and not (row.name and born):
        if not row.errors:
            row.errors.append(_l("Line %(line)s: give the register number, or the name and the date of birth.",
                                 line=line))
    kind = values["type"].lower()
    if kind not in CREDENTIAL_TYPES:
        row.errors.append(_l("Line %(line)s: unknown type %(value)s. Use one of %(types)s.", line=line,
                             value=values["type"][:30] or "–", types=", ".join(CREDENTIAL_TYPES)))
    else:
        row.type = kind
    language = values["language"].lower() or None
    if row.type in GENERAL_TYPES and language:
        row.errors.append(_l("Line %(line)s: %(type)s is not for one language; leave the language empty.",
                             line=line, type=row.type))
    elif row.type and row.type not in GENERAL_TYPES and not language:
        row.errors.append(_l("Line %(line)s: give the language of the %(type)s.", line=line, type=row.type))
    elif language and language not in languages:
        row.errors.append(_l("Line %(line)s: unknown language %(value)s.", line=line, value=values["language"][:20]))
    else:
        row.language = language
    if not values["date"]:
        row.errors.append(_l("Line %(line)s: give the date of issue.", line=line))
    else:
        row.issued_on = _date(values["date"], row, _l("the date of issue"))
        if row.issued_on and row.issued_on > today:
            row.errors.append(_l("Line %(line)s: the date of issue %(date)s is in the future.", line=line,
                                 date=row.issued_on.isoformat()))
    if values["valid_until"]:
        row.valid_until = _date(values["valid_until"], row, _l("valid until"))
        if row.valid_until and row.issued_on and row.valid_until < row.issued_on:
            row.errors.append(_l("Line %(line)s: valid until is before the date of issue.", line=line))
        elif row.valid_until and row.valid_until < today:
            row.errors.append(_l("Line %(line)s: the credential ran out on %(date)s; only valid credentials are "
                                 "imported.", line=line, date=row.valid_until.isoformat()))
    return row, {"born": born}


def _identify(row: Row, born: date | None, by_number: dict, by_name: dict) -> None:
    if row.register_number is not None:
        person = by_number.get(row.register_number)
        if person is None:
            row.errors.append(_l("Line %(line)s: no interpreter has register number %(number)s.", line=row.line,
                                 number=row.register_number))
            return
        if row.name and name_key(row.name) != person.name_key:
            row.errors.append(_l("Line %(line)s: register number %(number)s is %(name)s, not %(given)s.",
                                 line=row.line, number=row.register_number, name=person.name, given=row.name))
            return
        if born and person.birth_date and born != person.birth_date:
            row.errors.append(_l("Line %(line)s: the date of birth does not match register number %(number)s.",
                                 line=row.line, number=row.register_number))
            return
    elif row.name and born:
        found = by_name.get((name_key(row.name), born), [])
        if not found:
            row.errors.append(_l("Line %(line)s: no interpreter is named %(name)s and born %(date)s.",
                                 line=row.line, name=row.name, date=born.isoformat()))
            return
        if len(found) > 1:
            row.errors.append(_l("Line %(line)s: %(count)s interpreters are named %(name)s and born %(date)s. "
                                 "Give the register number.", line=row.line, count=len(found), name=row.name,
                                 date=born.isoformat()))
            return
        person = found[0]
    else:
        return
    row.interpreter_id, row.register_number, row.name = person.id, person.register_number, person.name


def _decide(row: Row, existing: dict, defaults: dict, today: date) -> None:
    """What the row does to the register: create, verify, renew, change or unchanged."""
    same = existing.get((row.interpreter_id, row.type, row.language, row.issued_on), [])
    live = [c for c in same if c.state in ("verified", "pending", "expired")]
    if not live and [c for c in same if c.state in ("rejected", "revoked")]:
        row.errors.append(_l("Line %(line)s: this credential was rejected or revoked in the register. Record it on "
                             "the interpreter's page if it is right.", line=row.line))
        return
    given = row.valid_until
    if not live:
        years = defaults.get(row.type)
        row.valid_until = given or (years_after(row.issued_on, years) if years else None)
        if row.valid_until is not None and row.valid_until < today:
            row.errors.append(_l("Line %(line)s: with the type's default validity the credential ran out on "
                                 "%(date)s. Give valid until.", line=row.line, date=row.valid_until.isoformat()))
            return
        row.action = "create"
        return
    current = sorted(live, key=lambda c: ({"verified": 0, "pending": 1, "expired": 2}[c.state], -c.id))[0]
    row.credential_id, row.old_valid_until = current.id, current.valid_until
    row.valid_until = given or current.valid_until
    if current.state == "expired":
        if given is None:
            row.errors.append(_l("Line %(line)s: this credential has expired in the register. Give a new valid "
                                 "until to renew it.", line=row.line))
            return
        row.action = "renew"
    elif current.state == "pending":
        if row.valid_until is not None and row.valid_until < today:
            row.errors.append(_l("Line %(line)s: give valid until; the waiting credential's date has passed.",
                                 line=row.line))
            return
        row.action = "verify"
    else:
        row.action = "unchanged" if row.valid_until == current.valid_until else "change"


def check(session, data: bytes, today: date) -> Report:
    """The dry run: what every row would do and every fault, with line numbers. Writes nothing."""
    report = Report()
    text = _decode(data, report)
    if text is None:
        return report
    parsed = []
    for line, values in _records(text, report):
        if len(parsed) >= MAX_ROWS:
            report.file_errors.append((line, _l("The file has more than %(n)s rows. Split it into smaller files.",
                                                n=MAX_ROWS)))
            break
        parsed.append((line, values))
    if not parsed and not report.file_errors:
        report.file_errors.append((1, _l("The file has no rows after the first line.")))
    languages = set(LANGUAGE_CODES)
    rows = [(_parse(line, values, languages, today)) for line, values in parsed]
    by_number, by_name = _people(session, {r.register_number for r, _ in rows if r.register_number is not None},
                                 {extra["born"] for r, extra in rows if extra["born"] and r.register_number is None})
    for row, extra in rows:
        _identify(row, extra["born"], by_number, by_name)
    existing = _existing(session, {r.interpreter_id for r, _ in rows if r.interpreter_id})
    defaults = validity_years(session)
    seen: dict[tuple, int] = {}
    for row, _ in rows:
        report.rows.append(row)
        if row.errors or row.interpreter_id is None or row.type is None or row.issued_on is None:
            continue
        key = (row.interpreter_id, row.type, row.language, row.issued_on)
        if key in seen:
            row.errors.append(_l("Line %(line)s repeats line %(first)s: the same credential for the same person.",
                                 line=row.line, first=seen[key]))
            continue
        seen[key] = row.line
        _decide(row, existing, defaults, today)
    return report


# Importing ----------------------------------------------------------------------------------------

def run(session, actor, data: bytes, filename: str | None, now: datetime, ip: str | None = None) -> Report:
    """Check the file again and, if nothing is wrong, import every row in the caller's transaction.

    With any fault nothing is written and the report says why; the caller commits only an ok report.
    """
    today = oslo_date(now)
    report = check(session, data, today)
    if not report.ok:
        return report
    made = dict(state="verified", verified_by_id=actor.id, verified_at=now, created_at=now, updated_at=now)
    new = [dict(interpreter_id=r.interpreter_id, type=r.type, language_code=r.language, issued_on=r.issued_on,
                valid_until=r.valid_until, **made) for r in report.rows if r.action == "create"]
    changed = [dict(id=r.credential_id, valid_until=r.valid_until, **{k: made[k] for k in (
               "state", "verified_by_id", "verified_at", "updated_at")}) for r in report.rows
               if r.action in ("verify", "renew", "change")]
    for chunk in chunks(new, 1000):
        session.execute(sa.insert(Credential), chunk)
    for chunk in chunks(changed, 1000):
        session.execute(sa.update(Credential), chunk)
    touched = sorted({r.interpreter_id for r in report.rows if r.action != "unchanged"})
    # Loaded here so the recompute finds them in the session instead of fetching them one by one.
    people = [p for chunk in chunks(touched, CHUNK) for p in session.scalars(
        sa.select(Interpreter).where(Interpreter.id.in_(chunk)))]
    qualification.recompute(session, touched, today)
    booking.clear_requalified(session, touched, now, "import")
    counts = report.counts
    audit.record(session, "import.completed", actor=actor, object_type="import",
                 object_id=hashlib.sha256(data).hexdigest()[:16], ip=ip,
                 after={"file": (filename or "")[:200], "sha256": hashlib.sha256(data).hexdigest(),
                        "rows": len(report.rows), "interpreters": len(people),
                        **{k: v for k, v in counts.items() if k != "error"}})
    return report


# The uploaded file between the dry run and the import ------------------------------------------------

def save_upload(directory, data: bytes, filename: str | None) -> str:
    """Keep an uploaded file under a random name until it is imported; old ones are removed."""
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _remove_old(folder)
    token = secrets.token_hex(16)
    (folder / f"{token}.csv").write_bytes(data)
    (folder / f"{token}.name").write_text((filename or "import.csv")[:200], encoding="utf-8")
    return token


def load_upload(directory, token: str) -> tuple[bytes, str]:
    """The file kept by `save_upload`; NotFound for anything else (or once imported or removed)."""
    if not isinstance(token, str) or not TOKEN.fullmatch(token):
        raise NotFound(_l("There is no such uploaded file. Upload it again."))
    folder = Path(directory)
    try:
        data = (folder / f"{token}.csv").read_bytes()
        name = (folder / f"{token}.name").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(_l("There is no such uploaded file. It may already be imported; upload it again.")) from None
    return data, name


def remove_upload(directory, token: str) -> None:
    if isinstance(token, str) and TOKEN.fullmatch(token):
        for suffix in (".csv", ".name"):
            (Path(directory) / f"{token}{suffix}").unlink(missing_ok=True)


def _remove_old(folder: Path) -> None:
    limit = time.time() - KEEP_UPLOADS_SECONDS
    for path in folder.iterdir():
        try:
            if path.suffix in (".csv", ".name") and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            continue

