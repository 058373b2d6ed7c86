"""The default rate-limit storage (process-memory://): limits' memory storage without a thread per counted request."""

import threading
import time

from limits import parse, strategies
from limits.storage import MemoryStorage

from registry import ratelimits
from registry.extensions import limiter
from registry.ratelimits import ProcessMemoryStorage


def threads_started_by(hits) -> int:
    """How many threads the threading module starts while `hits` runs (each new thread calls the trace hook)."""
    started = []
    threading.settrace(lambda *_: started.append(1))
    try:
        hits()
    finally:
        threading.settrace(None)
    return len(started)


def spaced_hits(storage, count: int = 8):
    """Counted requests 15 ms apart: limits' memory storage starts its clearing timer again 10 ms after the last."""
    limiter_ = strategies.FixedWindowRateLimiter(storage)
    item = parse("100 per minute")

    def hits():
        for n in range(count):
            assert limiter_.hit(item, "api-v1", f"token{n}")
            time.sleep(0.015)
    return hits


def test_the_app_counts_in_the_process_memory_storage_by_default(app):
    with app.app_context():
        assert isinstance(limiter.storage, ProcessMemoryStorage)


def test_a_counted_request_starts_no_thread():
    """limits' own memory storage starts a timer thread for nearly every counted request under load (what made a
    rate-limited API request cost about 0.25 ms more CPU); this one starts none. If a release of limits stops
    starting them, the first assertion says so, and this storage can go."""
    assert threads_started_by(spaced_hits(MemoryStorage("memory://"))) >= 3
    assert threads_started_by(spaced_hits(ProcessMemoryStorage("process-memory://"))) == 0


def test_a_limit_holds_and_ends_with_its_window_and_ended_counters_are_cleared(monkeypatch):
    monkeypatch.setattr(ratelimits, "SWEEP_SECONDS", 0.05)
    storage = ProcessMemoryStorage("process-memory://")
    limiter_ = strategies.FixedWindowRateLimiter(storage)
    item = parse("2 per 1 second")
    assert limiter_.hit(item, "login", "kari") and limiter_.hit(item, "login", "kari")
    assert not limiter_.hit(item, "login", "kari")  # the third in the window is refused
    assert limiter_.hit(item, "login", "ola")  # counted apart
    time.sleep(1.1)
    assert limiter_.hit(item, "login", "kari")  # a new window
    # Counters of ended windows are dropped by the sweep in a later request's own thread, not kept for ever.
    assert not any("ola" in key for key in storage.storage)

