"""The benchmark keeps working as the code changes: the whole suite, end to end, at a tiny scale.

`python -m bench` runs as `make bench` would (generate, in-process searches and pages, gunicorn under wrk,
the expiry job against a raw UPDATE), on 25 interpreters and 2,500 bookings with 2 s of load per endpoint,
into a temporary directory, so the real results in bench/ are never touched. It asserts that the run
finishes and that every figure is in the results with a value, not that the targets are met (that is for
the full run on the reference machine).
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.run import figure_keys
from tests.conftest import _require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request) -> list[str]:
    """Arguments naming the database to run on; PostgreSQL gets a throwaway database, dropped afterwards."""
    if shutil.which("wrk") is None:
        _require("The benchmark's load test", "wrk is not installed: apt-get install -y wrk")
    if request.param == "sqlite":
        return ["--db", "sqlite"]
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        _require("PostgreSQL tests", "set TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test to run them")
    name = f"bench_rot_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    def drop():
        engine = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1),
                                  isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    request.addfinalizer(drop)
    return ["--db", "postgresql", "--pg-url", base, "--pg-name", name]


def test_the_whole_benchmark_runs_and_reports_every_figure(database, tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "bench", *database, "--scale", "0.0005", "--duration", "2", "--iterations", "10",
               "--expiry-timeout", "60", "--out-dir", str(out), "--data-dir", str(tmp_path / "data"), "--drop-after"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=150, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]

    db = database[1]
    result = json.loads((out / f"results-{db}.json").read_text())
    assert result["database"] == db and result["scale"] == 0.0005
    assert {"cpu", "cores", "python", "sqlite"} <= set(result["machine"]) and result["date"]
    values = {f["figure"]: f["value"] for f in result["figures"]}
    assert sorted(values) == sorted(figure_keys(db))
    assert [key for key, value in values.items() if not isinstance(value, int | float)] == []
    targeted = {f["figure"]: f["met"] for f in result["figures"] if f["target"]}
    # availability p95: 3 languages x 4 places; register page p95: 8 cases; load, expiry and memory: 4
    assert len(targeted) == 12 + 8 + 4 and all(isinstance(met, bool) for met in targeted.values())
    ratios = {"load.availability.ratio", "load.booking.ratio", "expiry.ratio", "memory.worker_peak_rss_mb"}
    assert ratios <= set(targeted)
    assert values["load.healthz.rps"] > 0 and values["load.booking.created"] > 0
    # /healthz runs before, between and after the other loads; each ratio is to the two segments around it.
    ceilings = [segment["rps"] for segment in result["details"]["load"]["healthz_segments"]]
    assert len(ceilings) == 4 and min(ceilings) > 0
    for n, name in enumerate(("register", "availability", "booking")):
        around = (ceilings[n] + ceilings[n + 1]) / 2
        assert values[f"load.{name}.ratio"] == pytest.approx(values[f"load.{name}.rps"] / around, rel=0.02)
    # What a request costs in CPU: the workers always do some work; a request that reads or writes the database makes
    # PostgreSQL's server work too (on SQLite the database is inside the workers: figure_keys leaves it out).
    for name in ("healthz", "register", "availability", "booking"):
        assert values[f"load.{name}.app_cpu_ms"] > 0
        assert 0 < values[f"load.{name}.cores_busy"] <= os.cpu_count() + 0.5
    if db == "postgresql":
        assert values["load.availability.db_cpu_ms"] > 0 and values["load.booking.db_cpu_ms"] > 0
    assert values["expiry.due"] > 0 and values["expiry.job_s"] > 0
    # The baseline is timed until its COMMIT returns, as the job is: never less than the statement alone.
    assert values["expiry.raw_update_s"] >= values["expiry.raw_update_statement_s"] >= 0  # rounded: 0.0 when tiny
    # The job's SQL statements are timed inside its run (PostgreSQL): some were run, and they took part of its time.
    expiry = result["details"]["expiry"]
    assert expiry["job_statements"] > 0
    # Each is made three times, in turns, and the medians count: one run's few tenths moved the ratio by points.
    assert expiry["rounds"] == 3 and len(expiry["job_all_s"]) == len(expiry["raw_update_all_s"]) == 3
    assert expiry["job_s"] == sorted(expiry["job_all_s"])[1]
    assert expiry["raw_update_s"] == sorted(expiry["raw_update_all_s"])[1]
    if db == "postgresql":
        assert 0 < expiry["job_sql_s"] < expiry["job_s"]
    else:
        assert expiry["job_sql_s"] is None and "expiry.job_sql_s" not in values
    # Put back as found, so the next run on the same data measures the same job (the warnings the data held stay).
    # The data held warnings before the job (the paused interpreter's coming bookings), so this can fail.
    assert expiry["warned_before"] > 0 and expiry["restored"] is True
    assert result["data"]["counts"]["bookings"] > 2000 and result["data"]["checks"]["overlaps"] == 0
    assert result["data"]["checks"]["unmarked_bookings"] == 0
    # Child welfare and the police have only interpreters holding a police certificate valid on the day; some do.
    assert result["data"]["checks"]["uncertified_bookings"] == 0
    assert result["data"]["counts"]["bookings_needing_police_certificate"] > 0

    summary = (out / "results.md").read_text()
    assert f"## {db} (scale 0.0005)" in summary and "| figure | value | target |" in summary
    assert "requests per second" in done.stdout
    # Nothing of the run is left behind: the SQLite file is deleted, the PostgreSQL database dropped.
    assert not list((tmp_path / "data").glob("*.sqlite3"))
