"""Where a benchmark database lives, creating and dropping it, and the facts kept beside it (meta)."""

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from . import BENCH_DIR, ROOT

# Data older than this is made again: the coming year of bookings and the credentials due move with the date.
STALE_AFTER_DAYS = 7


def scale_token(scale: float) -> str:
    """1 -> "1", 0.01 -> "0_01": part of a file or database name."""
    return f"{scale:.6f}".rstrip("0").rstrip(".").replace(".", "_")


@dataclass(frozen=True)
class Target:
    db: str  # "sqlite" or "postgresql"
    scale: float
    name: str
    url: str  # the app's DATABASE_URL
    meta_path: Path
    sqlite_path: Path | None = None
    server_url: str | None = None  # PostgreSQL: a database on the server to connect to for CREATE/DROP

    @property
    def label(self) -> str:
        return f"{self.db} {self.name}"


def target(db: str, scale: float, data_dir: Path, pg_url: str, pg_name: str | None = None) -> Target:
    data_dir.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        name = f"bench_{scale_token(scale)}"
        path = data_dir / f"{name}.sqlite3"
        return Target("sqlite", scale, name, f"sqlite:///{path}", data_dir / f"{name}.sqlite3.json", path)
    if db == "postgresql":
        name = pg_name or f"bench_{scale_token(scale)}"
        base = pg_url.rsplit("/", 1)[0]
        return Target("postgresql", scale, name, f"{base}/{name}", data_dir / f"postgresql-{name}.json",
                      server_url=pg_url)
    raise ValueError(f"unknown database {db!r}: sqlite or postgresql")


def psycopg_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _server(t: Target) -> sa.Engine:
    return sa.create_engine(psycopg_url(t.server_url), isolation_level="AUTOCOMMIT")


def recreate(t: Target) -> None:
    """An empty database (the schema comes from the migrations afterwards)."""
    drop(t)
    if t.db == "postgresql":
        engine = _server(t)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{t.name}"')
        engine.dispose()


def drop(t: Target) -> None:
    if t.db == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(t.sqlite_path) + suffix).unlink(missing_ok=True)
    else:
        engine = _server(t)
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{t.name}" WITH (FORCE)')
        engine.dispose()
    t.meta_path.unlink(missing_ok=True)


def exists(t: Target) -> bool:
    if t.db == "sqlite":
        return t.sqlite_path.exists()
    engine = _server(t)
    with engine.connect() as conn:
        found = conn.exec_driver_sql("SELECT 1 FROM pg_database WHERE datname = %s", (t.name,)).scalar()
    engine.dispose()
    return bool(found)


def fingerprint() -> str:
    """Changes when the generator or the schema changes: then the data is made again."""
    digest = hashlib.sha256()
    for path in sorted([BENCH_DIR / "generate.py", BENCH_DIR / "loaders.py",
                        *(ROOT / "migrations" / "versions").glob("*.py")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def read_meta(t: Target) -> dict | None:
    try:
        return json.loads(t.meta_path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def write_meta(t: Target, meta: dict) -> None:
    t.meta_path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")


def usable(t: Target, today: date) -> tuple[bool, str]:
    """Whether the data already there can be measured again, and if not, why."""
    meta = read_meta(t)
    if meta is None or not exists(t):
        return False, "no data yet"
    if meta.get("fingerprint") != fingerprint():
        return False, "the generator or the schema changed"
    if meta.get("scale") != t.scale:
        return False, "another scale"
    if (today - date.fromisoformat(meta["today"])).days > STALE_AFTER_DAYS or meta.get("dirty"):
        return False, "stale (made more than a week ago, or a run was interrupted)"
    return True, f"made {meta['today']}"
