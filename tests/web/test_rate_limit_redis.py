"""Rate limits shared between web servers through Redis (REGISTRY_RATELIMIT_STORAGE_URI=redis://...).

With several gunicorn workers or servers, in-memory counters would give each its own allowance. Here two
processes, each a server of its own on the same database and the same Redis, take turns: the first spends the
account's failed logins, the second then refuses the right password for that account (and only that account).
The Redis that the machine runs (127.0.0.1:6379, database 15) is used, under a key prefix of this test only.
Both servers are processes of their own because the rate limiter is one object per process.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import redis

from tests.conftest import _require
from tests.helpers import PASSWORD, user

REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]

SERVER = textwrap.dedent("""
    import json, sys
    from tests.conftest import make_app
    url, storage, prefix, attempts = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    app = make_app(url, RATELIMIT_STORAGE_URI=storage, RATELIMIT_KEY_PREFIX=prefix, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    statuses = [client.post("/login", data={"email": email, "password": password},
                            environ_base={"REMOTE_ADDR": address}).status_code
                for email, password, address in attempts]
    print(json.dumps(statuses))
""")


@pytest.fixture
def redis_prefix():
    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        _require("Redis rate-limit tests", f"cannot reach {REDIS}: {error}")
    prefix = f"test-{uuid.uuid4().hex}"
    yield prefix
    for key in client.scan_iter(f"*{prefix}*"):
        client.delete(key)
    client.close()


def server(database_url: str, prefix: str, attempts: list[tuple[str, str, str]]) -> list[int]:
    done = subprocess.run([sys.executable, "-c", SERVER, database_url, REDIS, prefix, json.dumps(attempts)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_failed_logins_counted_by_one_server_lock_the_account_on_another(session, database_url, redis_prefix):
    booker = user(session, "booker@example.no")
    user(session, "other@example.no", agency=booker.agency)
    wrong = [("booker@example.no", "wrong password!", f"10.1.0.{n}") for n in range(5)]
    assert server(database_url, redis_prefix, wrong) == [401] * 5
    assert server(database_url, redis_prefix, [("booker@example.no", PASSWORD, "10.1.0.99"),
                                               ("other@example.no", PASSWORD, "10.1.0.98")]) == [429, 302]
