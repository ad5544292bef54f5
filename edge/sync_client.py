"""The edge's sync client: push the outbox as changesets, settle receipts, pull pages by cursor, repair divergence.

Every step is resumable: a change leaves the outbox only with its receipt, and the pull cursor is saved in the
same transaction as the page it covers, so a cut at any point repeats work at most (the server answers
duplicates) and never loses or doubles a row.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from edge import claims, outbox, pull, shred
from edge.auth_client import AuthUnavailableError
from edge.device_keys import ServerPin, device_keys, pin_server, server_pin
from edge.store import Store
from protocol import changeset, request_auth
from protocol.codes import ErrorCode
from protocol.errors import AuthError, HealthSyncError, RemoteAuthError, RemoteError
from protocol.receipts import Receipt
from protocol.schema import MAX_RECORD_BYTES, TABLES

RETRYABLE_STATUS = {429, 500, 502, 503, 504}
OFFSET_TOLERANCE_MS = 500
# The server's answers to a changeset over its body limit (middleware) or its envelope cap.
TOO_LARGE = (ErrorCode.PAYLOAD_TOO_LARGE, ErrorCode.CHANGESET_TOO_LARGE)


class DeviceRevokedError(HealthSyncError):
    """The server revoked this device; `shredded` says whether the store key was destroyed as it ordered."""

    code = ErrorCode.DEVICE_REVOKED
    http_status = 403

    def __init__(self, message: str, *, shredded: bool, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.shredded = shredded


class SyncUnavailableError(HealthSyncError):
    """The server could not be reached (or kept failing) after the retries; nothing was lost."""

    code = ErrorCode.SYNC_UNAVAILABLE
    recoverable = True


@dataclass(frozen=True)
class SyncOptions:
    """Batch sizes, retry policy and the wire format version this device writes."""

    batch_size: int = 2000
    batch_bytes: int = 2 * MAX_RECORD_BYTES  # sealed bytes per changeset: half the server's default body limit
    page_size: int = 2000
    attempts: int = 5
    backoff_s: float = 0.5
    backoff_max_s: float = 30.0
    timeout_s: float = 30.0
    format_version: int = changeset.FORMAT_VERSION
    # How often a pull asks for the server's checksums to verify this copy (seconds; 0: every pull). A change of
    # the server's scope digest verifies at once, whatever the time (see SyncClient.pull).
    verify_every_s: float = 300.0


@dataclass
class SyncResult:
    """What one sync round did."""

    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    superseded: int = 0  # lost a merge to a later write: left the outbox, the row took the winner
    restamped: int = 0  # refused as stamped too far ahead, sent again under the corrected clock
    pulled: int = 0
    cursor: int = 0
    repaired: list[str] = field(default_factory=list)
    push_error: dict[str, Any] | None = None  # the push failed (the pull still ran): its code, message, hint
    claims: dict[str, Any] | None = None  # a clinic device's claim codes filed with the server (edge/claims.py)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _state(store: Store, key: str, default: str | None = None) -> str | None:
    row = store.query("SELECT value FROM sync_state WHERE key=?", (key,))
    return row[0][0] if row else default


def _set_state(conn, key: str, value: str) -> None:
    conn.execute("INSERT INTO sync_state(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                 (key, value))


def settle(store: Store, receipts: list[Receipt], *, restamp: set[str] | frozenset[str] = frozenset()
           ) -> dict[str, int]:
    """Apply a push's receipts to the outbox, and the rows they carry to the store: a refused change's row goes
    back to the server's state at once (the server sends it for the state machine's refusals), a change that lost a
    merge takes the winner (merged per key with any later local change). Returns the counts per status."""
    counts = outbox.apply_receipts(store, receipts, restamp=restamp)
    repairs = [r.row for r in receipts if r.status == "rejected" and r.row]
    if repairs:
        pull.apply_pulled(store, repairs, server_wins=True)
    winners = [r.row for r in receipts if r.status == "superseded" and r.row]
    if winners:
        pull.apply_pulled(store, winners)
    return counts


def status(store: Store) -> dict[str, Any]:
    """Pending, quarantined and last-synced figures for `sync status`."""
    return {"pending": outbox.pending_count(store), "quarantined": len(outbox.quarantined(store)),
            "last_synced_at": _state(store, "last_synced_at"), "cursor": int(_state(store, "cursor", "0") or 0),
            "last_error": _state(store, "last_error"), "device_id": store.device_id,
            "superseded": outbox.superseded_total(store), "clock_offset_ms": store.clock_offset_ms}


class SyncClient:
    """Talks to one sync server for one store, as the user whose token it holds."""

    def __init__(self, store: Store, token: str, *, http: httpx.Client | None = None,
                 options: SyncOptions = SyncOptions(), server_url: str | None = None):
        self.store = store
        self.options = options
        self._token = token
        base = server_url or (server_pin(store).url if http is None else "")
        self._owns_http = http is None
        self._signing_key = None  # the device's Ed25519 key, unsealed once
        self.http = http or httpx.Client(base_url=base, timeout=options.timeout_s)

    def close(self) -> None:
        """Close the HTTP connections this client opened."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _bearer(self) -> str:
        """The access token: a fixed string, or a source (edge.token_provider) that refreshes it before expiry."""
        return self._token if isinstance(self._token, str) else self._token.token()

    def _request(self, method: str, url: str, *, sign: bool = False, **kw) -> dict[str, Any]:
        """One API call with exponential backoff and full jitter on network errors, 429 and 5xx; with `sign`, each
        attempt carries a fresh proof of this device (protocol.request_auth)."""
        from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

        headers = {"Authorization": f"Bearer {self._bearer()}", **kw.pop("headers", {})}
        retrying = Retrying(stop=stop_after_attempt(self.options.attempts),
                            wait=wait_random_exponential(multiplier=self.options.backoff_s,
                                                         max=self.options.backoff_max_s),
                            retry=retry_if_exception_type((httpx.TransportError, _Retryable)), reraise=False)
        try:
            for attempt in retrying:
                with attempt:
                    resp = self._send(method, url, headers, sign, kw)
                    if resp.status_code in RETRYABLE_STATUS:
                        raise _Retryable(resp)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise SyncUnavailableError(f"sync server unavailable after {self.options.attempts} attempts: "
                                       f"{_describe(last)}", hint="changes stay queued; sync again later") from None
        return _answer(resp)

    def call(self, method: str, url: str, **kw) -> dict[str, Any]:
        """One authenticated API call with the client's retries (the envelope's data, or a HealthSyncError)."""
        return self._request(method, url, **kw)

    def _send(self, method: str, url: str, headers: dict[str, str], sign: bool, kw: dict) -> httpx.Response:
        if sign:
            # Built once only to learn the exact path, query and body httpx will send (the same arguments encode
            # the same bytes again below).
            request = self.http.build_request(method, url, headers=headers, **kw)
            if self._signing_key is None:
                # Cached: unsealing takes the store's lock, which a page being applied holds, and the next page is
                # fetched (and signed) meanwhile on the prefetch thread.
                self._signing_key = device_keys(self.store).signing
            headers = {**headers, **request_auth.sign_request(
                self._signing_key, self.store.device_id, method, request.url.path, request.url.query,
                request.content, now_ms=self._now_ms())}
        return self.http.request(method, url, headers=headers, **kw)

    def _now_ms(self) -> int:
        """Our best estimate of the server's clock: the device's wall clock plus the offset learned on syncs."""
        return self.store.wall_ms() + self.store.clock_offset_ms

    def _signed(self, method: str, url: str, **kw) -> dict[str, Any]:
        """A device-proven call: retried once on the server's time when our clock is off; a revoked device
        destroys its store key when the server's order verifies (and says so)."""
        try:
            try:
                return self._request(method, url, sign=True, **kw)
            except HealthSyncError as exc:
                if exc.code != "DEVICE_PROOF_STALE" or not self._learn_offset_from_refusal(exc):
                    raise
                return self._request(method, url, sign=True, **kw)
        except HealthSyncError as exc:
            if exc.code == "DEVICE_REVOKED":
                self._revoked(exc)
            raise

    def _learn_offset_from_refusal(self, exc: HealthSyncError) -> bool:
        """A proof refused as stale: take the server's clock from the refusal's timestamp (False if it has none)."""
        try:
            server = dt.datetime.fromisoformat(str(getattr(exc, "server_time", None)))
        except ValueError:
            return False
        self.store.set_clock_offset(int(server.timestamp() * 1000) - self.store.wall_ms())
        return True

    def _revoked(self, exc: HealthSyncError) -> None:
        """Crypto-shred the store if the server's order is authentic (made with the pinned server key for this
        device); raise DeviceRevokedError either way."""
        keys, pin = device_keys(self.store), server_pin(self.store)
        order = (getattr(exc, "detail", None) or {}).get("shred")
        if not request_auth.verify_shred(order, keys.agreement, pin.public_key, self.store.device_id,
                                         now_ms=self._now_ms()):
            raise DeviceRevokedError("this device was revoked by the server, but its order to destroy the store "
                                     "key did not verify; nothing was destroyed", shredded=False,
                                     hint="check the server URL and its pinned key") from None
        shred.crypto_shred(self.store)
        raise DeviceRevokedError("this device was revoked by the server: as it ordered, the store key was destroyed "
                                 "(crypto-shred) and the data on this device can no longer be read", shredded=True,
                                 hint="initialise a new store (healthsync edge init) and enroll it") from None

    # ------------------------------------------------------------------ enrollment

    def enroll(self, url: str, name: str | None = None) -> ServerPin:
        """Register this device's public keys with the server and pin the server's key."""
        keys = device_keys(self.store)
        server = self._request("GET", "/v1/sync/server-key")["server_public_key"]
        out = self._request("POST", "/v1/devices", json={
            "device_id": self.store.device_id, "signing_key": keys.signing_public.hex(),
            "agreement_key": keys.agreement_public.hex(), "name": name,
            "format_version": self.options.format_version, **_clinic_of(self.store)})
        if out["server_public_key"] != server:
            raise HealthSyncError("the server answered two different public keys; refusing to enroll")
        return pin_server(self.store, url, bytes.fromhex(server), out["user_id"])

    # ------------------------------------------------------------------ push

    def push(self, result: SyncResult | None = None) -> SyncResult:
        """Push the whole outbox in batches; each batch's receipts are settled before the next is sent."""
        result = result or SyncResult()
        pin = server_pin(self.store)
        keys = device_keys(self.store)
        size = self.options.batch_size
        restamped: set[str] = set()  # re-stamped once this push; refused again, they go to quarantine
        while True:
            changes = outbox.pending(self.store, size, self.options.batch_bytes)
            if not changes:
                return result
            _, data = changeset.seal(changes, device_id=self.store.device_id, user_id=_actor(self.store, pin,
                                                                                             self._bearer()),
                                     signing_key=keys.signing, server_public_key=pin.public_key,
                                     format_version=self.options.format_version)
            try:
                sent = self.store.wall_ms()
                answer = self._request("POST", "/v1/sync/push", content=data,
                                       headers={"Content-Type": "application/octet-stream"})
                self._learn_offset(answer, sent, self.store.wall_ms())
            except HealthSyncError as exc:
                if exc.code == ErrorCode.DEVICE_REVOKED:  # the push refusal carries no order; a signed call gets it
                    self._signed("GET", "/v1/sync/pull", params={"cursor": 0, "limit": 1})
                if exc.code not in TOO_LARGE:
                    raise
                if len(changes) > 1:
                    size = len(changes) // 2  # big records: smaller changesets until the server's limit fits
                else:
                    # Too large even alone: set it aside so the rest of the queue flows (principle 5).
                    outbox.quarantine_unsendable(self.store, changes[0], len(data), exc.code)
                    result.rejected += 1
                    size = self.options.batch_size
                continue
            receipts = [Receipt.from_wire(r) for r in answer["receipts"]]
            if self.options.format_version < 2:
                # v1 changesets carry no change ids (the server derives them): receipts match by position.
                receipts = [dataclasses.replace(r, change_id=c.change_id)
                            for r, c in zip(receipts, changes, strict=True)]
            restamp = self._restamp_skewed(receipts, restamped)
            counts = settle(self.store, receipts, restamp=restamp)
            restamped |= restamp
            for key in ("accepted", "duplicate", "rejected", "superseded", "restamped"):
                setattr(result, key, getattr(result, key) + counts[key])
            if sum(counts.values()) == 0:
                raise HealthSyncError("the server settled none of the pushed changes; stopping to avoid a loop")

    def _learn_offset(self, answer: dict[str, Any], sent_ms: int, got_ms: int) -> None:
        """Learn the server's clock from an answer (its time against the middle of our request), so stamps follow
        the server's time; kept unless it moved by more than the half-second a round trip blurs."""
        server = answer.get("server_time_ms")
        if isinstance(server, int) and not isinstance(server, bool):
            offset = server - (sent_ms + got_ms) // 2
            if abs(offset - self.store.clock_offset_ms) > OFFSET_TOLERANCE_MS:
                self.store.set_clock_offset(offset)

    def _restamp_skewed(self, receipts: list[Receipt], done: set[str]) -> set[str]:
        """The changes refused as stamped too far ahead that may be re-stamped (once each); rewinds the clock."""
        skewed = {r.change_id for r in receipts if r.status == "rejected" and r.code == "CLOCK_SKEW"} - done
        if skewed:
            self.store.rewind_clock()
        return skewed

    # ------------------------------------------------------------------ pull

    def pull(self, result: SyncResult | None = None, *, tables: list[str] | None = None,
             cursor: int | None = None, verify: bool | None = None) -> SyncResult:
        """Pull pages since the saved cursor (or `cursor` for a repair), applying each page with its cursor; then,
        when verifying (`verify`, else when due), compare checksums and repair what diverged."""
        from concurrent.futures import ThreadPoolExecutor

        result = result or SyncResult()
        repairing = cursor is not None
        cursor = cursor if repairing else int(_state(self.store, "cursor", "0") or 0)
        # A repair's own pages need no checksums: it takes the server's rows as they are.
        verify = not repairing and (self._verify_due() if verify is None else verify)

        def fetch(after: int) -> tuple[dict[str, Any], int, int]:
            params: dict[str, Any] = {"cursor": after, "limit": self.options.page_size,
                                      "checksums": "true" if verify else "false"}
            if tables:
                params["table"] = tables
            sent = self.store.wall_ms()
            page = self._signed("GET", "/v1/sync/pull", params=params)
            return page, sent, self.store.wall_ms()

        # The next page is fetched while this one is applied: the server's work (query, encode) and the network
        # overlap the device's (validate, seal, write). A page is applied only after the one before it, and each
        # with its cursor, so a failure anywhere still resumes from the last page applied.
        full_repair = repairing and cursor == 0 and bool(tables)
        seen: set[tuple[str, str]] = set()  # a repair from cursor 0 sees every row still in scope
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-pull") as prefetch:
            upcoming = prefetch.submit(fetch, cursor)
            while True:
                page, sent, got = upcoming.result()
                self._learn_offset(page, sent, got)
                if page["has_more"]:
                    upcoming = prefetch.submit(fetch, int(page["cursor"]))
                if full_repair:
                    seen.update((c["table"], c["pk"]) for c in page["changes"])
                with self.store.transaction() as conn:
                    result.pulled += pull.apply_pulled(self.store, page["changes"], server_wins=repairing)
                    cursor = int(page["cursor"])
                    if not repairing:
                        _set_state(conn, "cursor", str(cursor))
                if not page["has_more"]:
                    break
        result.cursor = cursor
        if not repairing and "checksums" in page:  # an older server sends them on every pull: use them
            if self._repair(page["checksums"], result):
                with self.store.transaction() as conn:
                    _set_state(conn, "verified_at_ms", str(self._now_ms()))
                    _set_state(conn, "scope", page.get("scope") or "")
        elif not repairing and self._scope_changed(page):
            self.pull(result, verify=True)
        elif full_repair:
            # Rows the server no longer shows this device (they left its scope) go, unless a local change waits.
            pull.purge_out_of_scope(self.store, tables, seen, keep_owner=server_pin(self.store).user_id)
        return result

    def _scope_changed(self, page: dict[str, Any]) -> bool:
        """Whether the server's scope digest differs from the one at the last verify: the patients this user may
        read changed (a registration, a care window, break-glass), so rows entered or left the scope without a
        change the cursor shows; verified at once rather than at the next due time."""
        return page.get("scope") is not None and page["scope"] != _state(self.store, "scope")

    def _verify_due(self) -> bool:
        """Whether this pull should ask for checksums: never verified, or last verified `verify_every_s` ago (or
        'in the future': the clock was set back). Ages are on the server-corrected clock, which a jump of the
        device's own clock moves only until the next answer corrects it."""
        last = _state(self.store, "verified_at_ms")
        if not last:
            return True
        age_ms = self._now_ms() - int(last)
        return age_ms < 0 or age_ms >= self.options.verify_every_s * 1000

    def _repair(self, server_sums: dict[str, str], result: SyncResult) -> bool:
        """Re-pull the tables whose checksum differs from ours (rows with unsettled local changes excluded);
        whether the comparison was made (not with pushes pending: the next pull verifies again)."""
        if outbox.pending_count(self.store):
            return False  # unpushed local changes make checksums differ by design
        ours = pull.local_checksums(self.store, server_sums)
        diverged = [t for t, s in server_sums.items() if t in TABLES and ours.get(t) != s]
        if diverged:
            self.pull(result, tables=diverged, cursor=0)
            result.repaired = diverged
        return True

    # ------------------------------------------------------------------ rounds

    def run(self) -> SyncResult:
        """One round: push everything, then pull everything, even when the push failed (then `push_error` says why);
        records the last-synced time or the error. Raises when the pull fails (the push's error first, if both)."""
        result = SyncResult()
        push_error = None
        try:
            self.push(result)
            if self.store.meta("clinic_id"):  # after the push: the codes' registrations are on the server now
                result.claims = claims.file_pending(self.store, self.call)
        except HealthSyncError as exc:
            # A failed push never stops the pull: the server's changes still arrive (the result says both).
            push_error, result.push_error = exc, exc.to_dict()
        try:
            self.pull(result)
        except HealthSyncError as exc:
            self._record_error(push_error, exc)
            raise (push_error or exc) from None
        if push_error is not None:
            self._record_error(push_error, None)
            self.report()
            return result
        with self.store.transaction() as conn:
            _set_state(conn, "last_synced_at", dt.datetime.now(dt.UTC).isoformat())
            conn.execute("DELETE FROM sync_state WHERE key='last_error'")
        self.report()
        return result

    def report(self) -> bool:
        """Tell the server this device's sync health for the clinic console (pending and quarantined counts, each
        quarantined change's table and reason code, versions, last error), signed by the device. Best effort: an
        older server without the route, or any refusal, leaves the round as it was (returns False)."""
        from importlib.metadata import PackageNotFoundError, version

        from protocol.schema import SCHEMA_VERSION

        try:
            app_version = version("healthsync")
        except PackageNotFoundError:
            app_version = None
        now = status(self.store)
        items = [{"table": q.table, "code": q.code, "reason": (q.reason or "")[:300]}
                 for q in outbox.quarantined(self.store)[:50]]
        body = {"app_version": app_version, "schema_version": SCHEMA_VERSION, "pending": now["pending"],
                "quarantined": now["quarantined"], "quarantine": items,
                "last_error": (now["last_error"] or "")[:500] or None, "last_push_at": now["last_synced_at"],
                "last_pull_at": now["last_synced_at"]}
        try:
            self._request("POST", f"/v1/devices/{self.store.device_id}/report", sign=True, json=body)
        except HealthSyncError:
            return False
        return True

    def _record_error(self, push: HealthSyncError | None, pull: HealthSyncError | None) -> None:
        """Keep what failed this round for `sync status`: "CODE: message", prefixed push:/pull: when it was one."""
        if push is None or pull is None:
            only = push or pull
            text = f"{'push: ' if push else ''}{only.code}: {only.message}"
        else:
            text = f"push: {push.code}: {push.message}; pull: {pull.code}: {pull.message}"
        with self.store.transaction() as conn:
            _set_state(conn, "last_error", text)

    def watch(self, interval_s: float = 10.0, max_rounds: int | None = None, on_round=None) -> None:
        """Sync whenever the server is reachable; back off (doubling, capped) while it is not."""
        delay, rounds = interval_s, 0
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            try:
                result = self.run()
                # A push that found no server backs off like a failed round, even though the pull got through.
                pushed = (result.push_error or {}).get("code") != SyncUnavailableError.code
                delay = interval_s if pushed else min(delay * 2, self.options.backoff_max_s * 10)
                if on_round:
                    on_round(result, None)
            except (SyncUnavailableError, AuthUnavailableError) as exc:
                delay = min(delay * 2, self.options.backoff_max_s * 10)
                if on_round:
                    on_round(None, exc)
            except AuthError as exc:
                # A session a sign-in can renew: wait for it (the outbox is untouched). A fixed token cannot be.
                if not getattr(self._token, "renewable", False):
                    raise
                delay = interval_s
                if on_round:
                    on_round(None, exc)
            time.sleep(delay)


class _Retryable(Exception):
    def __init__(self, resp: httpx.Response):
        super().__init__(f"HTTP {resp.status_code}")
        self.resp = resp


def _describe(exc: BaseException | None) -> str:
    return type(exc).__name__ if not isinstance(exc, _Retryable) else str(exc)


def _answer(resp: httpx.Response) -> dict[str, Any]:
    """The envelope's data, or the server's error as a HealthSyncError with its code."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.is_success and body.get("success", True):
        return body.get("data") or {}
    # A refusal without our envelope (a proxy in between, say) still gets a registered code.
    fallback = ErrorCode.SYNC_UNAVAILABLE if resp.status_code >= 500 else ErrorCode.HEALTHSYNC_ERROR
    error = body.get("error") or {"code": fallback, "message": resp.text[:200]}
    cls = RemoteAuthError if resp.status_code == 401 else RemoteError
    raise cls(f"server refused: {error.get('message')}", remote_code=str(error.get("code") or fallback),
              http_status=resp.status_code, hint=error.get("hint"),
              detail=error, server_time=body.get("timestamp"))  # a revocation's order; the server's clock


def _clinic_of(store: Store) -> dict[str, str]:
    """The enrollment field that makes this store a clinic's kiosk (`edge init --clinic`); empty on a phone."""
    clinic = store.meta("clinic_id")
    return {"clinic_id": clinic} if clinic else {}


def _actor(store: Store, pin, token: str) -> str:
    """Who a changeset is from: on a phone the enrolled user; on a kiosk whichever staff member's token is in use
    (the server checks the token's user against the changeset's, and the kiosk against that user's clinics)."""
    if not store.meta("clinic_id"):
        return pin.user_id
    from edge.auth_session import token_user

    return token_user(token) or pin.user_id  # not a JWT we can read: the server answers with a clear error
