"""One command measures everything, side by side in one run, and writes the results.

    .venv/bin/python -m bench --db sqlite --scale 1
    .venv/bin/python -m bench --db postgresql --scale 0.01 --duration 5 --iterations 50

1. Data: generated (bench/generate.py) unless a usable set of this scale is already there.
2. In process: the availability search (find_available on an app context) for a popular, a mid and a rare
   language, without and with a county; the public register page through Flask's test client.
3. The same API requests the load test sends, one at a time through the test client (no server, no contention);
   then under load: gunicorn with 4 workers and wrk, each endpoint for --duration seconds: /healthz, GET
   /api/v1/register/{n}, GET /api/v1/availability, POST /api/v1/bookings; then the workers' peak RSS.
4. The expire-credentials job against a raw UPDATE of the same rows (bench/expiry.py, in its own process).

Prints the table and writes <out-dir>/results-<db>.json and <out-dir>/results.md.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from itertools import cycle, islice
from pathlib import Path

import sqlalchemy as sa

from registry import create_app
from registry.domain.clock import oslo_date
from registry.extensions import db

from . import BENCH_DIR, DATA_DIR, DEFAULT_PG_URL, ROOT, expiry, inprocess, load, report, targets
from .generate import generate
from .report import Figure, log

LOADS = ("healthz", "register", "availability", "booking")


def figure_keys(database: str) -> list[str]:
    """Every figure a run on this database writes (PostgreSQL's server CPU and the expiry job's time in SQL only
    there); the rot test (tests/bench) checks that none goes missing."""
    return [key for key in _FIGURE_KEYS if database == "postgresql" or not _postgresql_only(key)]


def _postgresql_only(key: str) -> bool:
    return key.endswith(".db_cpu_ms") or key == "expiry.job_sql_s"


_FIGURE_KEYS = (
    ["data.load_s"]
    + [f"availability.{kind}.{where}.{p}_ms" for kind, _ in inprocess.LANGUAGE_RANKS for where in inprocess.PLACES
       for p in ("p50", "p95", "p99")]
    + [f"register.{case}.{p}_ms" for case in inprocess.REGISTER_CASES for p in ("p50", "p95", "p99")]
    + [f"api_alone.{name}.{what}" for name in LOADS for what in ("mean_ms", "ratio")
       if (name, what) != ("healthz", "ratio")]
    + [f"load.{name}.{what}" for name in LOADS for what in ("rps", "p95_ms", "ratio", "app_cpu_ms", "db_cpu_ms",
                                                              "cores_busy")
       if (name, what) != ("healthz", "ratio")]
    + ["load.booking.created", "load.booking.conflicts", "memory.worker_peak_rss_mb"]
    + [f"expiry.{what}" for what in ("credentials", "due", "raw_update_statement_s", "raw_update_s", "job_s",
                                      "job_sql_s", "ratio")]
)


def bench_app(url: str, application_name: str | None = None):
    """The app on the bench database, configured as production is (no mail logged on queueing)."""
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-secret-key", "MAIL_LOG_ON_QUEUE": False,
              "API_RATE_LIMIT": load.NO_RATE_LIMIT}
    if url.startswith("postgresql") and application_name:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"application_name": application_name}}
    return create_app(config)


def _mark(t: targets.Target, dirty: bool) -> None:
    """While the run changes the data (bookings made, credentials expired) the data is marked; an interrupted
    run leaves the mark, and the next run makes the data again."""
    meta = targets.read_meta(t) or {}
    meta["dirty"] = dirty
    targets.write_meta(t, meta)


def data_phase(t: targets.Target, args) -> tuple[list[Figure], dict]:
    usable, why = targets.usable(t, oslo_date())
    if args.regenerate or not usable:
        log(f"data: generating ({'asked to' if args.regenerate else why})")
        meta = generate(t, seed=args.seed, analyze_sqlite=args.analyze, log=log)
        fresh = True
    else:
        log(f"data: using {t.label} ({why}); --regenerate makes it again")
        meta = targets.read_meta(t)
        fresh = False
    figures = [Figure.of("data.load_s", "data: generate and bulk-load, indexes, validation", meta["total_seconds"],
                         "s")]
    return figures, {"meta": meta, "generated_in_this_run": fresh}


def load_phase(app, t: targets.Target, args, work_dir: Path) -> tuple[list[Figure], dict]:
    rng = random.Random(args.seed)
    tokens = load.make_tokens(app)
    if not tokens:
        raise SystemExit("no bookers in the bench data")
    posts = max(300, int(args.duration * 400))
    requests = {
        "healthz": load.healthz_lines(),
        "register": load.register_lines(app, 5000, rng) or [load.line("GET", "/api/v1/register/1")],
        "availability": load.availability_lines(tokens, 5000, rng),
        "booking": load.booking_lines(app, tokens, posts, rng),
    }
    # Bookings for the one-at-a-time run: slots of their own, at most a quarter, which wrk never sends.
    count = args.iterations + inprocess.WARM_UP
    cut = len(requests["booking"]) - min(count, len(requests["booking"]) // 4)
    requests["booking"], alone_booking = requests["booking"][:cut], requests["booking"][cut:]
    marks = load.high_water(app)
    _mark(t, True)
    server, results, removed = None, {}, {}
    try:
        log(f"in process: the API's requests one at a time, up to {args.iterations} each")
        alone_figures, alone_details = inprocess.api_requests(app, {
            **{name: list(islice(cycle(requests[name]), count)) for name in ("healthz", "register", "availability")},
            "booking": alone_booking}, case_seconds=args.case_seconds)
        server = load.Server(t.url, work_dir / f"gunicorn-{t.db}.log")
        warm = [(x.split("\t")[1], x.split("\t")[2] or None) for x in
                (requests["healthz"][0], requests["register"][0], requests["availability"][0])]
        server.warm(warm)
        results, ceilings = _bracketed_loads(server, requests, args, work_dir, database=t.db == "postgresql")
        peaks = server.peak_rss_mb()
    finally:
        if server is not None:
            server.stop()
        removed = load.remove_added(app, marks)
        load.drop_tokens(app)
        _mark(t, False)
    rates = results["healthz"]["segments_rps"]
    figures = alone_figures
    notes = [f"/healthz in its {len(rates)} segments before, between and after the other loads: "
             + ", ".join(f"{r:,.0f}" for r in rates) + " requests per second"]
    labels = inprocess.API_LABELS
    for name, r in results.items():
        figures.append(Figure.of(f"load.{name}.rps", f"{labels[name]}: requests per second", r["rps"], "/s"))
        figures.append(Figure.of(f"load.{name}.p95_ms", f"{labels[name]}: p95 latency", r["p95_ms"], "ms"))
        if name != "healthz":
            ratio_target = {"availability": "availability_ratio", "booking": "booking_ratio"}.get(name)
            base = r["ceiling_rps"]
            figures.append(Figure.of(f"load.{name}.ratio", f"{labels[name]}: ratio to /healthz",
                                     r["rps"] / base if base else None, "x", ratio_target))
        cpu, served = r["cpu_s"], r["requests"]
        figures.append(Figure.of(f"load.{name}.app_cpu_ms", f"{labels[name]}: CPU per request, gunicorn workers",
                                 cpu["app"] * 1000 / served if served else None, "ms"))
        if cpu["database"] is not None:
            figures.append(Figure.of(f"load.{name}.db_cpu_ms", f"{labels[name]}: CPU per request, PostgreSQL server",
                                     cpu["database"] * 1000 / served if served else None, "ms"))
        figures.append(Figure.of(f"load.{name}.cores_busy", f"{labels[name]}: cores busy (workers and database)",
                                 (cpu["app"] + (cpu["database"] or 0)) / (r["duration_us"] / 1e6), "cores"))
        # wrk counts every 4xx and 5xx as a "status" error; only 5xx and broken connections are failures here.
        failed = sum(v for k, v in r["statuses"].items() if k >= 500) + sum(
            v for k, v in r["errors"].items() if k != "status")
        if failed:
            notes.append(f"{labels[name]}: {failed:,} server errors or failed requests under load "
                         f"(statuses {r['statuses']}, errors {r['errors']}); see gunicorn-{t.db}.log")
    statuses = results["booking"]["statuses"]
    figures.append(Figure.of("load.booking.created", "POST /api/v1/bookings: booked (201)", statuses.get(201, 0)))
    figures.append(Figure.of("load.booking.conflicts", "POST /api/v1/bookings: refused as taken or not "
                             "qualified (409)", statuses.get(409, 0)))
    figures.append(Figure.of("memory.worker_peak_rss_mb", "gunicorn worker peak RSS (VmHWM) after the load",
                             max(peaks.values()) if peaks else None, "MB", "worker_peak_rss_mb"))
    details = {"one_at_a_time": alone_details,
               "wrk": results, "healthz_segments": ceilings, "worker_peak_rss_mb": peaks, "removed_after": removed,
               "notes": notes, "prepared": {k: len(v) for k, v in requests.items()}}
    return figures, details


def _bracketed_loads(server, requests: dict, args, work_dir: Path, database: bool) -> tuple[dict, list[dict]]:
    """Each endpoint's load between two shorter loads of /healthz, and its ratio to the mean of those two.

    The host's speed drifts over minutes (on the shared 2-core machines /healthz served 823/s in one run and
    1,097/s an hour later), so a ceiling measured once, minutes before the last endpoint, moved the ratios by as
    much as the code did. /healthz runs 4 times for a third of --duration each; its figures are their mean
    (requests per second) and median (p95), and each segment is kept in the JSON.

    Each load also records the CPU the gunicorn workers and, with `database` (PostgreSQL on this machine), the
    database server used meanwhile (`cpu_s`): what a request costs, apart from how many the cores could serve."""
    def wrk(name: str, lines: list[str], seconds: float) -> dict:
        before = load.cpu_now(server, database)
        result = load.run_wrk(server.base, name, lines, seconds, args.connections, args.threads, work_dir)
        result["cpu_s"] = load.cpu_spent(before, load.cpu_now(server, database))
        return result

    segment = max(1.0, args.duration / 3)
    endpoints = [name for name in requests if name != "healthz"]
    log(f"load: healthz for {segment:g} s before, between and after the others")
    ceilings = [wrk("healthz", requests["healthz"], segment)]
    results = {}
    for name in endpoints:
        log(f"load: {name} for {args.duration:g} s ({len(requests[name]):,} prepared requests)")
        results[name] = wrk(name, requests[name], args.duration)
        ceilings.append(wrk("healthz", requests["healthz"], segment))
        results[name]["ceiling_rps"] = (ceilings[-2]["rps"] + ceilings[-1]["rps"]) / 2
    rates = [c["rps"] for c in ceilings]
    healthz = dict(ceilings[-1], rps=statistics.fmean(rates), p95_ms=statistics.median(c["p95_ms"] for c in ceilings),
                   requests=sum(c["requests"] for c in ceilings),
                   statuses={k: sum(c["statuses"].get(k, 0) for c in ceilings)
                             for k in {k for c in ceilings for k in c["statuses"]}},
                   errors={k: sum(c["errors"][k] for c in ceilings) for k in ceilings[0]["errors"]},
                   duration_us=sum(c["duration_us"] for c in ceilings),
                   cpu_s={part: None if ceilings[0]["cpu_s"][part] is None else sum(c["cpu_s"][part] for c in ceilings)
                          for part in ("app", "database")},
                   segments_rps=rates)
    return {"healthz": healthz, **results}, ceilings


def expiry_phase(app, t: targets.Target, args) -> tuple[list[Figure], dict]:
    _mark(t, True)
    notes = []
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "bench.expiry", t.url], cwd=ROOT, capture_output=True,
                              text=True, timeout=args.expiry_timeout, check=False)
    except subprocess.TimeoutExpired:
        expiry.clean_after_kill(app)
        _mark(t, False)
        seconds = time.perf_counter() - started
        notes.append(f"the expiry job was stopped after {seconds:.0f} s (--expiry-timeout); its transaction was "
                     "rolled back, and the figure is a lower bound")
        result = _expiry_counts(app) | {"job_s": seconds, "raw_update_s": None, "raw_update_statement_s": None,
                                        "job_sql_s": None, "stopped": True}
    else:
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-JSON ")), None)
        if line is None:
            raise RuntimeError(f"bench.expiry failed: {done.stdout[-3000:]} {done.stderr[-3000:]}")
        result = json.loads(line[len("BENCH-JSON "):])
        if result["outcome"] != "ok":
            raise RuntimeError(f"the expiry job failed: {result['error']}")
        if not result["restored"]:
            raise RuntimeError("the expiry phase left the bookings' warnings other than it found them; the data is "
                               "marked for making again")
        _mark(t, False)
    ratio = result["job_s"] / result["raw_update_s"] if result.get("raw_update_s") else None
    figures = [
        Figure.of("expiry.credentials", "expiry: credentials in the table", result["credentials"]),
        Figure.of("expiry.due", "expiry: credentials due", result["due"]),
        Figure.of("expiry.raw_update_statement_s", "expiry: raw SQL UPDATE of the due rows, the statement",
                  result["raw_update_statement_s"], "s"),
        Figure.of("expiry.raw_update_s", "expiry: raw SQL UPDATE of the due rows, committed", result["raw_update_s"],
                  "s"),
        Figure.of("expiry.job_s", "expiry: the expire-credentials job", result["job_s"], "s"),
        Figure.of("expiry.ratio", "expiry: job / raw UPDATE", ratio, "x", "expiry_ratio"),
    ]
    if t.db == "postgresql":
        figures.insert(-1, Figure.of("expiry.job_sql_s", "expiry: of the job, in its SQL statements",
                                     result["job_sql_s"], "s"))
    return figures, {"expiry": result, "notes": notes}


def _expiry_counts(app) -> dict:
    from registry.models import Credential

    with app.app_context():
        today = oslo_date()
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Credential))
        due = db.session.scalar(sa.select(sa.func.count()).select_from(Credential).where(
            Credential.state == "verified", Credential.valid_until < today))
        db.session.remove()
    return {"credentials": total, "due": due}


def server_version(app) -> str | None:
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return None
        version = db.session.scalar(sa.text("SELECT version()"))
        db.session.remove()
    return version.split(" on ")[0]


def run(args) -> dict:
    load.require_wrk()
    out_dir, work_dir = Path(args.out_dir), Path(args.data_dir)
    t = targets.target(args.db, args.scale, work_dir, args.pg_url, args.pg_name)
    started = time.perf_counter()
    figures, details, notes = [], {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}, []
    try:
        found, info = data_phase(t, args)
        figures += found
        details["data"] = {"generated_in_this_run": info["generated_in_this_run"]}
        meta = info["meta"]
        app = bench_app(t.url)
        log(f"in process: availability search, {args.iterations} searches a case")
        found, info = inprocess.availability(app, args.iterations, seed=args.seed, case_seconds=args.case_seconds)
        figures += found
        details.update(info)
        log(f"in process: register page, {args.iterations} requests a case")
        found, info = inprocess.register_page(app, args.iterations, case_seconds=args.case_seconds)
        figures += found
        details.update(info)
        found, info = load_phase(app, t, args, work_dir)
        figures += found
        notes += info.pop("notes")
        details["load"] = info
        log("expiry: raw UPDATE (committed, then undone) and the job")
        found, info = expiry_phase(app, t, args)
        figures += found
        notes += info.pop("notes")
        details.update(info)
        version = server_version(app)
        with app.app_context():
            db.engine.dispose()
    finally:
        if args.drop_after:
            targets.drop(t)
    details["notes"] = notes
    details["run_seconds"] = round(time.perf_counter() - started, 1)
    details["options"] = {k: v for k, v in vars(args).items() if k not in ("out_dir", "data_dir")}
    data = {k: meta.get(k) for k in ("counts", "load_seconds", "total_seconds", "today", "generated_at", "checks",
                                     "analyzed")}
    doc = report.document(t.db, t.scale, figures, report.machine(version), data, details)
    print(report.table(figures))
    for note in notes:
        print(f"note: {note}")
    path = report.write(out_dir, doc)
    log(f"wrote {path} and {out_dir / 'results.md'} ({details['run_seconds']:.0f} s)")
    return doc


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description="Measure the register at national scale.")
    p.add_argument("--db", choices=("sqlite", "postgresql"), required=True)
    p.add_argument("--scale", type=float, default=1.0, help="1 = 50,000 interpreters, 5,000,000 bookings")
    p.add_argument("--duration", type=float, default=30, help="seconds of load per endpoint (default 30)")
    p.add_argument("--iterations", type=int, default=200, help="in-process measurements per case (default 200)")
    p.add_argument("--case-seconds", type=float, default=30,
                   help="an in-process case stops after this long (with at least 20 measurements)")
    p.add_argument("--connections", type=int, default=8, help="wrk connections (default 8, two per worker)")
    p.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    p.add_argument("--expiry-timeout", type=float, default=900, help="stop the expiry job after this many seconds")
    p.add_argument("--regenerate", action="store_true", help="make the data again even if usable data is there")
    p.add_argument("--analyze", action="store_true", help="SQLite: ANALYZE after loading (production does not)")
    p.add_argument("--drop-after", action="store_true", help="delete the bench database at the end")
    p.add_argument("--seed", type=int, default=2022)
    p.add_argument("--out-dir", default=str(BENCH_DIR), help="where results-<db>.json and results.md go")
    p.add_argument("--data-dir", default=str(DATA_DIR), help="SQLite files, data facts and logs")
    p.add_argument("--pg-url", default=DEFAULT_PG_URL, help="a database on the PostgreSQL server")
    p.add_argument("--pg-name", help="the bench database's name (default bench_<scale>)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        run(args)
    except load.WrkMissing as error:
        log(str(error))
        return 3
    return 0
