"""The benchmark suite: a national-scale register, measured against the limits of its own stack.

    .venv/bin/python -m bench --db sqlite|postgresql --scale 1      # generate if needed, measure, report
    .venv/bin/python -m bench.generate --db sqlite --scale 0.01     # only (re)load the data

generate.py builds the data (loaders.py does the bulk paths), run.py measures and report.py writes
bench/results.md and bench/results-<db>.json. Figures are ratios measured side by side in one run where
the issue asks for them, because the machines are shared and noisy; absolute times stand beside them.
"""

from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
