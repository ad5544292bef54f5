"""FastAPI dependencies: the verified caller, a database session under their role, and per-endpoint rate limits."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from protocol.errors import HealthSyncError, RateLimitedError
from sync_server.auth import Principal
from sync_server.db import aborted_in_conflict

T = TypeVar("T")


def bearer_token(request: Request) -> str | None:
    """The token from `Authorization: Bearer …`, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


# The dependencies that only compute (verify a token's signature, hand on a connection) are `async def`: FastAPI
# runs a plain `def` dependency on a worker thread, and those hops (two per request here) were a measurable part of
# a small push's server CPU. What waits on Redis or Postgres stays a plain `def`, off the event loop.


def _verified(request: Request) -> Principal:
    principal = request.app.state.verifier.verify(bearer_token(request))
    request.state.principal = principal
    return principal


async def _verify(request: Request) -> Principal:
    # A verifier with a JWKS URL may fetch the signing keys over the network: that one waits on a worker thread.
    if request.app.state.verifier.jwks_url:
        return await run_in_threadpool(_verified, request)
    return _verified(request)


async def current_principal(request: Request) -> Principal:
    """The verified caller; 401 (AUTH_MISSING / AUTH_EXPIRED / AUTH_BAD_SIGNATURE / AUTH_INVALID) otherwise."""
    return await _verify(request)


async def optional_principal(request: Request) -> Principal:
    """The verified caller, or `anon` when no token is sent (a bad token is still a 401)."""
    if bearer_token(request) is None:
        return Principal.anonymous()
    return await _verify(request)


@contextmanager
def transaction(request: Request, principal: Principal) -> Iterator[Any]:
    """The request's transaction under the caller's role and claims, then its after-commit hooks (blocking: on a
    worker thread). What `db_session` gives a route, for a route that runs its whole body in one thread hop."""
    with request.app.state.db.session(principal.db_role, principal.claims) as conn:
        yield conn
    # Committed (a failed route or commit raised above and skips this): the work that must follow the commit.
    for hook in getattr(request.state, "after_commit", ()):
        hook()


def _transaction(request: Request, principal: Principal = Depends(current_principal)) -> Iterator[Any]:
    with transaction(request, principal) as conn:
        yield conn


def after_commit(request: Request, hook: Callable[[], object]) -> None:
    """Run `hook` once the request's transaction has committed, before the answer is sent (cache invalidation: done
    earlier, a concurrent reader could cache the state the transaction is about to replace)."""
    request.state.after_commit = [*getattr(request.state, "after_commit", ()), hook]


async def db_session(conn: Any = Depends(_transaction, scope="function")) -> Any:
    """One transaction for the request, running as the caller's Postgres role with their JWT claims (RLS).

    The transaction is function-scoped: it commits when the route returns and *before* the response is sent,
    so a failed commit is answered as an error, never as a success. (FastAPI's default for `yield`
    dependencies would commit after the response.) A plain function wrapping it keeps `Depends(db_session)`
    correct wherever it is used.
    """
    return conn


def client_ip(request: Request) -> str:
    """The caller's address (rate limits of anonymous and guessable endpoints key by it)."""
    return request.client.host if request.client else "unknown"


def rate_limit(scope: str, *, anonymous: bool = False):
    """A dependency that counts a hit for (caller, scope) and answers 429 with Retry-After when over the limit.

    Authenticated endpoints key by user id; `anonymous=True` endpoints key by the caller's IP address.
    """

    def check_authenticated(request: Request, principal: Principal = Depends(current_principal)) -> None:
        check_rate(request, scope, principal)

    def check_anonymous(request: Request) -> None:
        _hit(request, scope, f"ip:{client_ip(request)}")

    return check_anonymous if anonymous else check_authenticated


# A deadlock or serialization failure (SQLSTATE class 40) rolled the whole transaction back and nothing of it was
# kept: running the work again in a fresh transaction is safe, and usually succeeds once the other side committed.
TRANSACTION_TRIES = 3


async def in_transaction(request: Request, principal: Principal, scope: str, work: Callable[[Any], T]) -> T:
    """Count the caller's hit on `scope`, then run `work(conn)` in the request's transaction and its after-commit
    hooks, all in one worker-thread hop; what `work` returns (the response, rendered on that thread) is the
    answer. For the busiest routes: as dependencies the same steps took four or five hops a request (a plain
    `def` dependency runs on a thread, a `yield` one on a thread at each end), a measurable part of a small push's
    server CPU. A transaction Postgres aborted in a deadlock or serialization failure is run again, at most
    TRANSACTION_TRIES times in all (its writes and after-commit hooks were dropped with it)."""

    def run() -> T:
        check_rate(request, scope, principal)
        hooks = list(getattr(request.state, "after_commit", ()))
        for attempt in range(1, TRANSACTION_TRIES + 1):
            request.state.after_commit = list(hooks)  # a rolled-back try's hooks must not run after the next one
            try:
                with transaction(request, principal) as conn:
                    return work(conn)
            except HealthSyncError as exc:
                if attempt == TRANSACTION_TRIES or not aborted_in_conflict(exc.__cause__):
                    raise
        raise AssertionError("unreachable")

    return await run_in_threadpool(run)


def check_rate(request: Request, scope: str, principal: Principal) -> None:
    """Count an authenticated caller's hit on `scope` (blocking: Redis); 429 when over the limit. What
    `rate_limit(scope)` does as a dependency, for a route that runs its whole body in one thread hop."""
    _hit(request, scope, f"user:{principal.user_id}")


def _hit(request: Request, scope: str, who: str) -> None:
    settings = request.app.state.settings
    decision = request.app.state.limiter.hit(f"{scope}:{who}", settings.rate_limit_requests,
                                             settings.rate_limit_window_s)
    if not decision.allowed:
        raise RateLimitedError(
            f"rate limit of {decision.limit} requests per {settings.rate_limit_window_s} s exceeded for {scope}",
            retry_after=decision.retry_after_s,
        )
