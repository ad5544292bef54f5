"""The edge's local WebSocket for live therapy: camera frames or a phone's landmarks in, feedback out."""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from edge.vision.therapy import session as therapy_session
from edge.vision.therapy.landmarks import from_payload
from protocol.errors import HealthSyncError, InputError

PATH = "/v1/therapy/ws"


def _decode_jpeg(data: bytes):
    import cv2
    import numpy as np

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError("frame is not a readable JPEG/PNG image")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _default_saver(result, pain_before, pain_after) -> str:
    from edge import config

    with config.open_store() as store:
        row = therapy_session.save(store, config.primary_user(store), result, pain_before, pain_after)
        return str(row.id)


class _Conn:
    """One client's live session and its message handling (transport-free, so it is easy to test)."""

    def __init__(self, saver: Callable[..., str]):
        self.saver = saver
        self.live: therapy_session.LiveSession | None = None
        self.ended = False  # a session was finished and none started since
        self.t0 = time.monotonic()

    def _late(self) -> bool:
        """A frame or pose arriving after the session was finished (one still on its way when Finish was pressed):
        dropped, since an error for it would replace the saved session's summary on the screen."""
        return self.live is None and self.ended

    def _need_live(self) -> therapy_session.LiveSession:
        if self.live is None:
            raise InputError('send {"type": "start", "exercise": …} first')
        return self.live

    def handle_jpeg(self, data: bytes) -> list[dict[str, Any]]:
        """A binary message: one encoded camera frame (none once the session is finished: `_late`)."""
        if self._late():
            return []
        return self._need_live().feed_frame(_decode_jpeg(data), time.monotonic() - self.t0)

    def handle(self, msg: dict[str, Any]) -> list[dict[str, Any]]:
        """Answer one JSON message with the events to send back."""
        kind = msg.get("type")
        try:
            t = float(msg.get("t", time.monotonic() - self.t0))
            aspect = float(msg.get("aspect", 4 / 3))
        except (TypeError, ValueError):
            raise InputError("t and aspect must be numbers") from None
        if kind == "start":
            if self.live is not None:
                self.live.close()
            sides = tuple(msg["sides"]) if msg.get("sides") else None
            self.live = therapy_session.LiveSession(str(msg.get("exercise", "")), sides=sides)
            self.ended = False
            ex = self.live.exercise
            return [{"type": "therapy_started", "exercise": ex.name, "title": ex.title, "cue": ex.cue}]
        if kind in ("frame", "therapy_pose_data") and self._late():
            return []
        if kind == "therapy_pose_data":
            pose = None if msg.get("landmarks") is None else from_payload(msg, aspect)
            return self._need_live().feed_pose(pose, t)
        if kind == "frame":
            try:
                data = base64.b64decode(str(msg.get("image", "")), validate=True)
            except ValueError:
                raise InputError("frame.image must be base64") from None
            return self._need_live().feed_frame(_decode_jpeg(data), t)
        if kind == "end":
            live = self._need_live()
            result = live.result()
            live.close()
            self.live, self.ended = None, True
            out = {"type": "therapy_summary", **{k: v for k, v in result.to_dict().items() if k != "events"}}
            if msg.get("save", True):
                out["session_id"] = self.saver(result, msg.get("pain_before"), msg.get("pain_after"))
            return [out]
        raise InputError(f"unknown message type {kind!r}: use start, therapy_pose_data, frame or end")


def build_router(saver: Callable[..., str] = _default_saver,
                 saver_for: Callable[[WebSocket], Callable[..., str]] | None = None) -> APIRouter:
    """The router the local API mounts; `saver(result, pain_before, pain_after) -> id` stores a finished session,
    or `saver_for(ws)` picks the saver per connection (the kiosk app: the browser session's patient)."""
    router = APIRouter()

    @router.websocket(PATH)
    async def therapy_ws(ws: WebSocket) -> None:
        try:
            chosen = saver_for(ws) if saver_for is not None else saver
        except HealthSyncError as exc:  # signed out or no patient chosen: say so, then close
            await ws.accept()
            await ws.send_json({"type": "error", **exc.to_dict()})
            await ws.close(code=1008)
            return
        await ws.accept()
        conn = _Conn(chosen)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    # Pose estimation is CPU-bound: run it off the event loop, one message at a time.
                    if message.get("bytes") is not None:  # a raw JPEG frame
                        replies = await run_in_threadpool(conn.handle_jpeg, message["bytes"])
                    else:
                        try:
                            msg = json.loads(message.get("text") or "")
                        except ValueError:
                            raise InputError("messages must be JSON objects") from None
                        if not isinstance(msg, dict):
                            raise InputError("messages must be JSON objects")
                        replies = await run_in_threadpool(conn.handle, msg)
                except HealthSyncError as exc:  # a bad message is answered, and the session goes on
                    replies = [{"type": "error", **exc.to_dict()}]
                for r in replies:
                    await ws.send_json(r)
        except WebSocketDisconnect:
            pass
        finally:
            if conn.live is not None:
                conn.live.close()

    return router


router = build_router()
