"""Figures, their targets, the printed table, bench/results-<db>.json and bench/results.md."""

import json
import os
import platform
import socket
import sqlite3
import statistics
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

# The ceilings. Each is (operator, threshold); a figure without one is reported beside them.
TARGETS = {
    "availability_p95_ms": ("<=", 20.0),
    "register_page_p95_ms": ("<=", 30.0),
    "availability_ratio": (">=", 0.25),
    "booking_ratio": (">=", 0.40),
    "expiry_ratio": ("<=", 2.0),
    "worker_peak_rss_mb": ("<=", 150.0),
}


@dataclass
class Figure:
    figure: str  # a stable key, e.g. availability.popular.county.p95_ms
    label: str
    value: float | None
    unit: str = ""
    target: str | None = None  # e.g. "<= 20"
    met: bool | None = None

    @classmethod
    def of(cls, key: str, label: str, value, unit: str = "", target: str | None = None) -> "Figure":
        met = None
        if target is not None and value is not None:
            op, threshold = TARGETS[target]
            met = value <= threshold if op == "<=" else value >= threshold
        shown = f"{TARGETS[target][0]} {TARGETS[target][1]:g}" if target else None
        return cls(key, label, None if value is None else round(float(value), 3), unit, shown, met)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    """p50, p95 and p99 (inclusive method: defined for any number of samples from two)."""
    if len(samples_ms) < 2:
        value = samples_ms[0] if samples_ms else None
        return {"p50": value, "p95": value, "p99": value}
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}


def machine(database_version: str | None) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        memory_kb = 0
    return {"host": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(),
            "memory_gb": round(memory_kb / 1024 / 1024, 1), "os": platform.platform(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "database_server": database_version,
            # The machine is shared: the load average says how quiet it was while the run ended.
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def document(database: str, scale: float, figures: list[Figure], machine_info: dict, data: dict,
             details: dict) -> dict:
    return {"machine": machine_info, "date": datetime.now(UTC).isoformat(timespec="seconds"), "database": database,
            "scale": scale, "data": data, "figures": [asdict(f) for f in figures], "details": details}


def table(figures: list[Figure]) -> str:
    rows = [("figure", "value", "target", "")]
    for f in figures:
        rows.append((f.label, _md_value(asdict(f)), f.target or "", {True: "met", False: "MISSED", None: ""}[f.met]))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip() for r in rows]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def write(out_dir: Path, doc: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"results-{doc['database']}.json"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    write_markdown(out_dir)
    return path


def _md_value(f: dict) -> str:
    if f["value"] is None:
        return "-"
    unit, value = f["unit"], f["value"]
    if unit == "x":
        return f"{value:,.3f}" if value < 0.1 else f"{value:,.2f}"
    if not unit:
        return f"{value:,.0f}"
    return f"{value:,.1f} {unit}"


def write_markdown(out_dir: Path) -> Path:
    """bench/results.md: the latest run on each database, side by side with its targets."""
    docs = []
    for name in ("sqlite", "postgresql"):
        path = out_dir / f"results-{name}.json"
        if path.exists():
            docs.append(json.loads(path.read_text()))
    lines = ["# Benchmark results", "",
             "Written by `python -m bench` (`make bench BENCH_DB=sqlite|postgresql`); the latest run on each database.",
             "Ratios are measured side by side in one run; absolute times stand beside them. A missed target says",
             "MISSED. How to read and reproduce them: bench/README.md.", ""]
    for doc in docs:
        m = doc["machine"]
        counts = doc["data"].get("counts", {})
        lines += [f"## {doc['database']} (scale {doc['scale']:g})", "",
                  f"{doc['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; Python {m['python']}, "
                  f"SQLite {m['sqlite']}" + (f", {m['database_server']}" if m.get("database_server") else "")
                  + f"; load average {doc['details'].get('load_average_at_start', ['?'])[0]} at the start, "
                  f"{m.get('load_average', ['?'])[0]} at the end (the machine is shared).",
                  "",
                  "Data: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in counts.items()
                                       if isinstance(v, int) and not isinstance(v, bool))
                  + f"; loaded in {doc['data'].get('total_seconds', 0):,.0f} s.", "",
                  "| figure | value | target | |", "| --- | ---: | --- | --- |"]
        for f in doc["figures"]:
            verdict = {True: "met", False: "**MISSED**", None: ""}[f["met"]]
            lines.append(f"| {f['label']} | {_md_value(f)} | {f['target'] or ''} | {verdict} |")
        missed = [f["label"] for f in doc["figures"] if f["met"] is False]
        lines += ["", f"Targets missed: {len(missed)}" + (" (" + "; ".join(missed) + ")." if missed else "."), ""]
        notes = doc.get("details", {}).get("notes", [])
        if notes:
            lines += ["Notes:", ""] + [f"- {n}" for n in notes] + [""]
    path = out_dir / "results.md"
    path.write_text("\n".join(lines))
    return path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
