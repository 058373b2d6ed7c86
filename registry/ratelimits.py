"""Rate-limit counters kept in the process, without a thread per request.

limits' MemoryStorage clears expired counters in a threading.Timer that it starts again, 10 ms later, whenever a
request is counted: under load nearly every API request started a thread. Counting one request cost 330 us of
CPU that way, against 65 us here (limits' fixed window, requests 12 ms apart, the process's CPU time over 300 of
them, timer threads included; Redis costs 370 us for the round trip). This storage is MemoryStorage with that
clearing done in a request's own thread, at most once every SWEEP_SECONDS. A counter read after its window has
ended is dropped on reading, as before, so the limits themselves are the same.

`process-memory://` (the default REGISTRY_RATELIMIT_STORAGE_URI) counts in each process apart, as `memory://`
does; with several gunicorn workers or web servers use `redis://`.
"""

import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class ProcessMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["process-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = time.monotonic() + SWEEP_SECONDS

    # MemoryStorage calls this (a name-mangled private method) before each change; tests/test_ratelimits.py fails
    # if a new release of limits stops calling it or starts threads again.
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            self._MemoryStorage__expire_events()
