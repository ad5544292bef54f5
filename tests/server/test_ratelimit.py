"""Rate limiting: one suite for both backends (in-process and Redis), then 429 + Retry-After through the API."""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from sync_server import testing
from sync_server.app import create_app
from sync_server.ratelimit import FailOpenRateLimiter, MemoryRateLimiter, RedisRateLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        client.close()
        pytest.skip(f"no Redis reachable at {REDIS_URL}: the Redis backend is not tested here")
    return client


class FakeClock:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request):
    made = []

    def make(clock):
        if request.param == "memory":
            return MemoryRateLimiter(clock=clock)
        client = _redis_client()
        made.append(client)
        return RedisRateLimiter(client, prefix=f"hs-test:{uuid.uuid4().hex}:", clock=clock)

    yield make
    for client in made:
        client.close()


def test_allows_up_to_the_limit_then_refuses(make_limiter):
    clock = FakeClock(60 * 20_000 + 20)  # 20 s into a 60 s window
    limiter = make_limiter(clock)
    decisions = [limiter.hit("k", 3, 60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[-1].retry_after_s == 40  # the window ends 40 s later


def test_keys_are_independent(make_limiter):
    limiter = make_limiter(FakeClock())
    assert limiter.hit("a", 1, 60).allowed
    assert not limiter.hit("a", 1, 60).allowed
    assert limiter.hit("b", 1, 60).allowed


def test_next_window_starts_afresh(make_limiter):
    clock = FakeClock(60 * 30_000)
    limiter = make_limiter(clock)
    assert limiter.hit("k", 1, 60).allowed
    assert not limiter.hit("k", 1, 60).allowed
    clock.t += 60
    assert limiter.hit("k", 1, 60).allowed


def test_unreachable_redis_falls_back_to_in_process():
    limiter = FailOpenRateLimiter(RedisRateLimiter.from_url("redis://127.0.0.1:1/0"))
    assert limiter.hit("k", 1, 60).allowed
    assert not limiter.hit("k", 1, 60).allowed


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_api_answers_429_with_retry_after(pg_url, backend):
    redis_url = None
    if backend == "redis":
        _redis_client().close()
        redis_url = REDIS_URL
    app = create_app(testing.settings_for(pg_url, rate_limit_requests=2, rate_limit_window_s=60, redis_url=redis_url))
    if backend == "redis":  # isolate this test's keys from earlier runs sharing the Redis database
        app.state.limiter.primary.prefix = f"hs-test:{uuid.uuid4().hex}:"
    user, other = uuid.uuid4(), uuid.uuid4()
    try:
        with TestClient(app) as c:
            codes = [c.get("/api/v1/health/metrics", headers=testing.auth(user)).status_code for _ in range(3)]
            assert codes == [200, 200, 429]
            r = c.get("/api/v1/health/metrics", headers=testing.auth(user))
            assert r.json()["error"]["code"] == "RATE_LIMITED"
            assert 1 <= int(r.headers["retry-after"]) <= 60
            # Per user and per endpoint: another user, or another endpoint, has its own budget.
            assert c.get("/api/v1/health/metrics", headers=testing.auth(other)).status_code == 200
            created = c.post("/api/v1/health/metrics", headers=testing.auth(user),
                             json={"metric_type": "heart_rate", "value": 70})
            assert created.status_code == 201
    finally:
        app.state.db.close()
