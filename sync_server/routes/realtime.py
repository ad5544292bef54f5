"""`/v1/ws`, the one WebSocket endpoint, and acknowledging alerts.

A connection authenticates with the user's JWT (`Authorization: Bearer`, or `?access_token=` for browsers), then
receives without asking every event its user may read, in the envelope {topic, event, seq, payload};
`?since=<seq>` first replays what it missed, from the log under the user's RLS, exactly once and in order, then
continues live. Client messages: {"action": "subscribe"|"unsubscribe", "topic"}, {"action": "ping"}, and
{"action": "appointment_bid", "appointment_id", "price", "slot_start", "slot_end", "note"} (a doctor's bid, the
same rules as POST …/bids). Server messages on topic `control` (seq null): heartbeat, subscribed, pong, ack,
error, dropped (a slow consumer: it carries the seq to resume from, then the socket closes with 4008). A resume
from before the retained log gets an `error` with code EVENTS_PRUNED and `resume_from` first (what it missed is
gone: reload the state), then the retained events after that point.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from protocol.codes import ErrorCode
from protocol.errors import HealthSyncError, InputError
from sync_server import alerts, audit
from sync_server.auth import Principal
from sync_server.console import session as console_session
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.events import log as event_log
from sync_server.events import runtime
from sync_server.events.hub import Connection, control
from sync_server.marketplace import bids, idempotency
from sync_server.routes.marketplace import BidBody, IdempotencyKey

router = APIRouter(tags=["realtime"], lifespan=runtime.lifespan)
BACKLOG_PAGE = 500
CLOSE_AUTH, CLOSE_BAD_REQUEST, CLOSE_SLOW, CLOSE_UNAVAILABLE = 4401, 4400, 4008, 1013


def _token(ws: WebSocket) -> str | None:
    scheme, _, token = ws.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    # Last, the console's HttpOnly cookie (same-origin handshakes only): its live.js puts no token in a URL.
    return ws.query_params.get("access_token") or console_session.websocket_token(ws)


async def _refuse(ws: WebSocket, code: int, error: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        await ws.send_json(control("error", **error))
        await ws.close(code)


def _since(ws: WebSocket) -> int | None:
    raw = ws.query_params.get("since")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise InputError("since must be the seq of the last event received (a non-negative integer)")
    return int(raw)


@router.websocket("/v1/ws")
async def events_socket(ws: WebSocket):
    """The event stream of the signed-in user (see the module's docstring)."""
    await ws.accept()
    app = ws.app
    try:
        principal = app.state.verifier.verify(_token(ws))
        since = _since(ws)
    except HealthSyncError as exc:
        await _refuse(ws, CLOSE_AUTH if exc.http_status == 401 else CLOSE_BAD_REQUEST, exc.to_dict())
        return
    rt = getattr(app.state, "realtime", None)
    if rt is None or principal.user_id is None:
        await _refuse(ws, CLOSE_UNAVAILABLE, {"code": ErrorCode.SYNC_UNAVAILABLE, "message": "real time is off"})
        return
    topics = [t for t in (ws.query_params.get("topics") or "").split(",") if t.strip()][:50]
    conn = Connection(str(principal.user_id), max_queue=rt.settings.ws_queue, topics=topics or None)
    upto = rt.hub.add(conn)
    writer = asyncio.create_task(_write(ws, conn))
    try:
        if since is not None:
            await _backlog(app, principal, conn, since, upto)
        conn.go_live(upto)
        await _serve(ws, conn, principal, rt, writer)
    except WebSocketDisconnect:
        pass
    finally:
        rt.hub.remove(conn)
        writer.cancel()


async def _backlog(app, principal: Principal, conn: Connection, since: int, upto: int) -> None:
    """Replay (since, upto] from the log under the user's RLS, page by page, before going live."""
    pruned_upto = await run_in_threadpool(_pruned_upto, app.state.db, principal)
    after = since
    if since < pruned_upto:
        # Events after `since` may have been pruned: replaying the rest as if complete would hide the loss.
        await conn.queue.put(control(
            "error", code=ErrorCode.EVENTS_PRUNED, message=ErrorCode.EVENTS_PRUNED.sentence,
            resume_from=pruned_upto))
        after = pruned_upto
    while after < upto:
        page = await run_in_threadpool(_read_page, app.state.db, principal, after, upto)
        for event in page:
            await conn.queue_backlog(event)
        if len(page) < BACKLOG_PAGE:
            break
        after = page[-1].seq


def _pruned_upto(db, principal: Principal) -> int:
    with db.session(principal.db_role, principal.claims) as c:
        return event_log.pruned_upto(c)


def _read_page(db, principal: Principal, after: int, upto: int):
    with db.session(principal.db_role, principal.claims) as c:
        return event_log.read_for_caller(c, after, upto, BACKLOG_PAGE)


async def _write(ws: WebSocket, conn: Connection) -> None:
    while True:
        message = await conn.queue.get()
        await ws.send_text(json.dumps(message, default=str, separators=(",", ":")))
        if message.get("seq") is not None:
            conn.last_sent = message["seq"]


async def _serve(ws: WebSocket, conn: Connection, principal: Principal, rt, writer: asyncio.Task) -> None:
    reader = asyncio.create_task(_read(ws, conn, principal))
    beat = asyncio.create_task(_heartbeat(conn, principal, rt.settings.heartbeat_s))
    dropped = asyncio.create_task(conn.dropped.wait())
    try:
        done, _ = await asyncio.wait({reader, beat, dropped, writer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, beat, dropped):
            task.cancel()
    if dropped in done:
        writer.cancel()
        # Dropped rather than slowing the others: say where to resume, then close.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.send_json(control("dropped", reason="slow consumer",
                                                        resume_since=conn.last_sent)), 1.0)
            await asyncio.wait_for(ws.close(CLOSE_SLOW, f"slow consumer; resume with since={conn.last_sent}"), 1.0)
    elif beat in done and not beat.cancelled() and beat.exception() is None:
        with contextlib.suppress(Exception):
            await ws.send_json(control("error", code=ErrorCode.AUTH_EXPIRED, message="the token expired",
                                       resume_since=conn.last_sent))
            await ws.close(CLOSE_AUTH)


async def _heartbeat(conn: Connection, principal: Principal, every_s: float) -> None:
    """A heartbeat every `every_s`; returns (ending the connection) when the token expires."""
    expires = principal.claims.get("exp")
    while True:
        wait = every_s if not isinstance(expires, int | float) else min(every_s, max(expires - time.time(), 0))
        await asyncio.sleep(wait)
        if isinstance(expires, int | float) and time.time() >= expires:
            return
        conn.send_control(control("heartbeat", last_seq=conn.last_sent, server_time_ms=int(time.time() * 1000)))


async def _read(ws: WebSocket, conn: Connection, principal: Principal) -> None:
    while True:
        text = await ws.receive_text()
        try:
            msg = json.loads(text)
            if not isinstance(msg, dict):
                raise ValueError
        except ValueError:
            conn.send_control(control("error", code=ErrorCode.BAD_INPUT, message="send a JSON object"))
            continue
        action = msg.get("action")
        topic = msg.get("topic")
        if action in ("subscribe", "unsubscribe") and isinstance(topic, str) and 0 < len(topic) <= 200:
            conn.subscribe(topic) if action == "subscribe" else conn.unsubscribe(topic)
            conn.send_control(control("subscribed", topics=None if conn.topics is None else sorted(conn.topics)))
        elif action == "ping":
            conn.send_control(control("pong", last_seq=conn.last_sent))
        elif action == "appointment_bid":
            conn.send_control(await run_in_threadpool(_bid, ws.app, principal, msg))
        else:
            conn.send_control(control("error", code=ErrorCode.BAD_INPUT,
                                      message="actions: subscribe, unsubscribe, ping, appointment_bid"))


def _bid(app, principal: Principal, msg: dict[str, Any]) -> dict[str, Any]:
    """A bid sent over the socket: the same rules and audit as POST /api/v1/appointments/{id}/bids."""
    try:
        appointment_id = uuid.UUID(str(msg.get("appointment_id")))
        body = BidBody.model_validate({k: msg[k] for k in ("price", "slot_start", "slot_end", "note") if k in msg})
        with app.state.db.session(principal.db_role, principal.claims) as c:
            bid = bids.place(c, appointment_id, price=body.price, slot_start=body.slot_start,
                             slot_end=body.slot_end, note=body.note)
            audit.record(c, principal, "create", "appointment_bids", row_id=bid["id"])
    except (ValueError, PydanticValidationError):
        return control("error", action="appointment_bid", code=ErrorCode.VALIDATION_FAILED,
                       message="appointment_bid needs appointment_id, price, slot_start, slot_end")
    except HealthSyncError as exc:
        return control("error", action="appointment_bid", **exc.to_dict())
    return control("ack", action="appointment_bid", bid=json.loads(json.dumps(bid, default=str)))


@router.post("/api/v1/alerts/{alert_id}/acknowledge", dependencies=[Depends(rate_limit("alerts:ack"))])
def acknowledge_alert(request: Request, alert_id: uuid.UUID, principal: Principal = Depends(current_principal),
                      conn=Depends(db_session), idempotency_key: str | None = IdempotencyKey):
    """The care team acknowledges a health alert (stops its escalation); everyone told gets the update."""

    def act():
        row = alerts.acknowledge(conn, alert_id)
        audit.record(conn, principal, "update", "health_alerts", row_id=alert_id, subject_id=row["patient_id"])
        return 200, row, "alert acknowledged"

    return idempotency.run(conn, principal.user_id, idempotency_key, "POST", request.url.path, None, act)
