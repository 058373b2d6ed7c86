"""Under load: gunicorn with 4 workers and wrk on the same machine, against /healthz and the JSON API.

/healthz touches no database: it is the framework's own ceiling, and every other figure is also given as a
ratio to it, measured minutes apart in the same run. The API's per-token rate limit is lifted for the run
(REGISTRY_API_RATE_LIMIT): the server's capacity is measured, not one client's quota.
"""

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa

from registry.database import writing
from registry.domain import accounts
from registry.domain.clock import OSLO, now
from registry.domain.times import to_utc
from registry.extensions import db
from registry.models import (
    Absence,
    ApiToken,
    Booking,
    Interpreter,
    OutboxMessage,
    Qualification,
    User,
    WorkingHours,
)
from registry.models.booking import HOLDING
from registry.models.interpreter import LISTED_STATUSES

from . import BENCH_DIR, ROOT
from .generate import COUNTY_WEIGHTS, language_weights
from .inprocess import CATEGORY_MIX

LUA = BENCH_DIR / "wrk.lua"
WORKERS = 4
TOKEN_NAME = "bench"
# The API's per-token rate limit, lifted: the server's capacity is measured, not one client's quota.
NO_RATE_LIMIT = "1000000 per minute"


class WrkMissing(RuntimeError):
    pass


def require_wrk() -> str:
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing("wrk is not installed: apt-get install -y wrk")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving wsgi:app on a free port, with the bench's database and settings."""

    def __init__(self, database_url: str, log_path: Path, workers: int = WORKERS):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, DATABASE_URL=database_url, SECRET_KEY="bench-secret-key",
                   REGISTRY_API_RATE_LIMIT=NO_RATE_LIMIT, REGISTRY_MAIL_LOG_ON_QUEUE="false")
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "--timeout", "60", "wsgi:app"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait_ready(workers)

    def _wait_ready(self, workers: int, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200 and len(self.workers()) >= workers:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within {seconds} s; see {self.log.name}")

    def workers(self) -> list[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return [int(c) for c in children]

    def peak_rss_mb(self) -> dict[int, float]:
        """VmHWM (the peak resident set) of each worker, in MB."""
        peaks = {}
        for pid in self.workers():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[pid] = int(line.split()[1]) / 1024
            except OSError:
                continue
        return peaks

    def warm(self, paths: list[tuple[str, str | None]], rounds: int = 3) -> None:
        """A few requests of each kind, so every worker has its imports, templates and connections warm."""
        for _ in range(rounds * WORKERS):
            for path, token in paths:
                request = urllib.request.Request(self.base + path)
                if token:
                    request.add_header("Authorization", f"Bearer {token}")
                try:
                    urllib.request.urlopen(request, timeout=30).read()
                except urllib.error.HTTPError:
                    pass

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def cpu_seconds(pids) -> dict[int, float]:
    """User and system CPU seconds each process has used so far, from /proc (Linux); gone processes are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime and stime, fields 14 and 15
    return seconds


def database_server_pids() -> list[int]:
    """This machine's PostgreSQL server processes: the postmaster, its backends and its helpers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def cpu_now(server: "Server", database: bool) -> dict:
    """CPU seconds used so far by the gunicorn workers and, with `database`, by the local PostgreSQL server."""
    return {"app": cpu_seconds(server.workers()), "database": cpu_seconds(database_server_pids()) if database else None}


def cpu_spent(before: dict, after: dict) -> dict:
    """Seconds of CPU between two cpu_now readings; a process started in between counts from its start."""
    def spent(part: str):
        if after[part] is None:
            return None
        return sum(max(0.0, seconds - before[part].get(pid, 0.0)) for pid, seconds in after[part].items())
    return {"app": spent("app"), "database": spent("database")}


def run_wrk(base: str, name: str, lines: list[str], duration: float, connections: int, threads: int,
            work_dir: Path) -> dict:
    """One wrk run over the prepared requests; requests per second, p95 and the statuses seen."""
    path = work_dir / f"wrk-{name}.tsv"
    path.write_text("\n".join(lines) + "\n")
    threads = max(1, min(threads, connections))
    command = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
               "-s", str(LUA), base, "--", str(path), str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr[-2000:]}")
    result = json.loads(line[len("BENCH-JSON "):])
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds if seconds else 0.0
    result["p95_ms"] = result["latency_us"]["p95"] / 1000
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    result["command"] = " ".join(command)
    return result


# Prepared requests ---------------------------------------------------------------------------------

def make_tokens(app, count: int = 20) -> list[str]:
    """API tokens for bookers of different agencies (earlier bench tokens are removed first)."""
    with app.app_context(), writing():
        db.session.execute(sa.delete(ApiToken).where(ApiToken.name == TOKEN_NAME))
        bookers = db.session.scalars(sa.select(User).where(User.role == "booker", User.active.is_(True))
                                     .order_by(User.id)).all()
        chosen = bookers[:: max(1, len(bookers) // count)][:count]
        values = [accounts.create_api_token(db.session, user, TOKEN_NAME)[1] for user in chosen]
        db.session.commit()
    return values


def drop_tokens(app) -> None:
    with app.app_context(), writing():
        db.session.execute(sa.delete(ApiToken).where(ApiToken.name == TOKEN_NAME))
        db.session.commit()


def line(method: str, path: str, token: str = "", body: dict | None = None) -> str:
    return "\t".join((method, path, token, json.dumps(body, separators=(",", ":")) if body else ""))


def healthz_lines() -> list[str]:
    return [line("GET", "/healthz")]


def register_lines(app, count: int, rng: random.Random) -> list[str]:
    with app.app_context():
        numbers = db.session.scalars(
            sa.select(Interpreter.register_number).where(
                Interpreter.status.in_(LISTED_STATUSES),
                sa.select(Qualification.interpreter_id).where(Qualification.interpreter_id == Interpreter.id).exists())
        ).all()
        db.session.remove()
    numbers = rng.sample(numbers, min(count, len(numbers)))
    return [line("GET", f"/api/v1/register/{n}") for n in numbers]


def _local(day, minute: int) -> datetime:
    return to_utc(datetime(day.year, day.month, day.day, minute // 60, minute % 60), "start", fold=0)


def availability_lines(tokens: list[str], count: int, rng: random.Random) -> list[str]:
    """Searches as bookers make them: languages as often as they are asked for, on site in a county or not."""
    weights = language_weights()
    codes, code_weights = list(weights), list(weights.values())
    counties, county_weights = list(COUNTY_WEIGHTS), list(COUNTY_WEIGHTS.values())
    today = now().astimezone(OSLO).date()
    lines = []
    for n in range(count):
        day = today + timedelta(days=rng.randint(2, 56))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        minute = rng.randrange(8 * 60, 14 * 60 + 1, 15)
        start = _local(day, minute)
        query = {"language": rng.choices(codes, code_weights)[0], "min_category": rng.choice(CATEGORY_MIX),
                 "modality": "onsite", "start": start.isoformat(),
                 "end": (start + timedelta(minutes=rng.choice((60, 90, 120)))).isoformat()}
        if rng.random() < 0.5:
            query["county"] = rng.choices(counties, county_weights)[0]
        else:
            query["modality"] = rng.choice(("video", "phone"))
        lines.append(line("GET", "/api/v1/availability?" + urlencode(query), tokens[n % len(tokens)]))
    return lines


def booking_lines(app, tokens: list[str], count: int, rng: random.Random) -> list[str]:
    """Direct requests for free slots of many interpreters: in their working hours, outside absences and
    bookings, never two of ours overlapping. A slot may still be refused (409: the interpreter lost a category
    tonight, or the list wrapped around and the slot is taken), which the run counts."""
    start_of_search = now() + timedelta(days=2)
    with app.app_context():
        people = db.session.execute(sa.select(
            Interpreter.id, Interpreter.register_number, Interpreter.offers_onsite, Interpreter.offers_video,
            Interpreter.offers_phone, Interpreter.municipality_number).where(Interpreter.status == "active")).all()
        rng.shuffle(people)
        people = people[:max(1, min(len(people), count // 2))]
        ids = [p.id for p in people]
        held, hours, busy = defaultdict(dict), defaultdict(lambda: defaultdict(list)), defaultdict(list)
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for q in db.session.execute(sa.select(Qualification.interpreter_id, Qualification.language_code,
                                                  Qualification.category).where(Qualification.interpreter_id.in_(chunk))):
                held[q.interpreter_id][q.language_code] = q.category
            for h in db.session.execute(sa.select(WorkingHours.interpreter_id, WorkingHours.weekday,
                                                  WorkingHours.start_time, WorkingHours.end_time)
                                        .where(WorkingHours.interpreter_id.in_(chunk))):
                hours[h.interpreter_id][h.weekday].append((h.start_time, h.end_time))
            for b in db.session.execute(sa.select(Booking.interpreter_id, Booking.starts_at, Booking.ends_at).where(
                    Booking.interpreter_id.in_(chunk), Booking.status.in_(HOLDING), Booking.ends_at > start_of_search)):
                busy[b.interpreter_id].append((b.starts_at, b.ends_at))
            for a in db.session.execute(sa.select(Absence.interpreter_id, Absence.starts_at, Absence.ends_at).where(
                    Absence.interpreter_id.in_(chunk), Absence.ends_at > start_of_search)):
                busy[a.interpreter_id].append((a.starts_at, a.ends_at))
        db.session.remove()
    first_day = start_of_search.astimezone(OSLO).date()
    lines = []
    people = [p for p in people if held[p.id] and hours[p.id]]
    for n in range(count * 3):
        if len(lines) >= count or not people:
            break
        person = people[n % len(people)]
        slot = _free_slot(rng, first_day, hours[person.id], busy[person.id])
        if slot is None:
            continue
        start, end = slot
        busy[person.id].append(slot)
        language = rng.choice(sorted(held[person.id]))
        modalities = [m for m, offered in (("onsite", person.offers_onsite), ("video", person.offers_video),
                                           ("phone", person.offers_phone)) if offered]
        modality = rng.choice(modalities)
        body = {"language": language, "min_category": held[person.id][language] if rng.random() < 0.5 else "E",
                "modality": modality, "start": start.isoformat(), "end": end.isoformat(),
                "interpreter": str(person.register_number), "sector": "health", "reference": f"bench-{n}"}
        if modality == "onsite":
            body.update(address="Storgata 1", municipality=person.municipality_number)
        elif modality == "video":
            body["meeting_url"] = "https://meet.example.no/bench"
        lines.append(line("POST", "/api/v1/bookings", tokens[n % len(tokens)], body))
    return lines


def _free_slot(rng: random.Random, first_day, hours: dict, busy: list, tries: int = 12):
    for _ in range(tries):
        day = first_day + timedelta(days=rng.randint(0, 150))
        intervals = hours.get(day.weekday())
        if not intervals:
            continue
        begin, end = rng.choice(intervals)
        begin_minute, end_minute = begin.hour * 60 + begin.minute, end.hour * 60 + end.minute
        if end_minute - begin_minute < 60:
            continue
        minute = begin_minute + 15 * rng.randrange((end_minute - begin_minute - 60) // 15 + 1)
        start = _local(day, minute)
        stop = start + timedelta(minutes=60)
        if all(stop <= b_start or start >= b_end for b_start, b_end in busy):
            return start, stop
    return None


def high_water(app) -> dict[str, int]:
    """The last booking and outbox ids, so what the load test adds can be removed afterwards."""
    with app.app_context():
        marks = {"bookings": db.session.scalar(sa.select(sa.func.max(Booking.id))) or 0,
                 "outbox": db.session.scalar(sa.select(sa.func.max(OutboxMessage.id))) or 0}
        db.session.remove()
    return marks


def remove_added(app, marks: dict[str, int]) -> dict[str, int]:
    """Bookings and messages the load test made are deleted again (the audit log keeps its entries)."""
    with app.app_context(), writing():
        bookings = db.session.execute(sa.delete(Booking).where(Booking.id > marks["bookings"])).rowcount
        outbox = db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id > marks["outbox"])).rowcount
        db.session.commit()
    return {"bookings": bookings, "outbox": outbox}

