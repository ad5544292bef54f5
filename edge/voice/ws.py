"""The voice routes of the edge's local API: the WebSocket `voice_stream_start` → `voice_chunk`… →
`voice_stream_end`, answered by `voice_partial_transcript` while speaking, `health_alert` for red flags and
`voice_analysis_result`; and `POST /v1/voice/analyze` for a whole recording in the request body.

Mount with `app.include_router(edge.voice.ws.router)`; the store and user come from the `voice_store` and
`voice_user` dependencies, which an app may override (`app.dependency_overrides`)."""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import uuid

from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from edge.store import Store
from edge.uploads import read_upload, upload_body
from edge.voice import audio as audio_stage
from edge.voice.stream import StreamFormat, VoiceStream
from protocol.errors import HealthSyncError, InputError

log = logging.getLogger(__name__)
router = APIRouter(tags=["voice"])
PATH = "/v1/voice/stream"
ANALYZE_PATH = "/v1/voice/analyze"


@functools.lru_cache(maxsize=1)
def _device_store() -> Store:
    from edge.config import open_store

    return open_store()


def voice_store() -> Store:
    """The store sessions write to (the device's store unless overridden)."""
    return _device_store()


def voice_user(store: Store = Depends(voice_store)) -> uuid.UUID:
    """Whose voice this is: the device's primary user unless overridden."""
    from edge.config import primary_user

    return primary_user(store)


async def _send(ws: WebSocket, event: str, data: dict | None = None) -> None:
    await ws.send_text(json.dumps({"event": event, "data": data or {}}, default=str))


async def _error(ws: WebSocket, exc: HealthSyncError) -> None:
    await _send(ws, "error", exc.to_dict())


@router.websocket(PATH)
async def voice_stream(ws: WebSocket, store: Store = Depends(voice_store),
                       user_id: uuid.UUID = Depends(voice_user)) -> None:
    """One utterance per stream start; many utterances per connection."""
    await ws.accept()
    stream: VoiceStream | None = None
    partial_task: asyncio.Task | None = None
    unfinished: bytes | str | None = None  # a chunk whose decoding was cancelled: the partial result takes it too

    async def run_partial(s: VoiceStream) -> None:
        try:
            text = await asyncio.to_thread(s.partial_transcript)
            if text:
                await _send(ws, "voice_partial_transcript", {"text": text, "seconds": round(s.seconds, 2)})
        except (HealthSyncError, RuntimeError, WebSocketDisconnect):
            pass  # a partial is a courtesy: the final result is what counts

    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(msg.get("code", 1000))
            try:
                if msg.get("bytes") is not None:
                    event, data = "voice_chunk", {"audio": msg["bytes"]}
                else:
                    try:
                        doc = json.loads(msg.get("text") or "")
                        event, data = doc["event"], doc.get("data") or {}
                        if not isinstance(event, str) or not isinstance(data, dict):
                            raise TypeError
                    except (ValueError, KeyError, TypeError, AttributeError):
                        raise InputError('messages are JSON {"event": …, "data": {…}} or binary PCM16') from None
                if event == "voice_stream_start":
                    stream = VoiceStream(store, user_id, StreamFormat.from_message(data))
                    await _send(ws, "voice_stream_started", {"sample_rate": stream.fmt.sample_rate,
                                                             "channels": stream.fmt.channels})
                elif event == "voice_chunk":
                    if stream is None:
                        raise InputError("send voice_stream_start before voice_chunk")
                    # Decoding (base64, PCM16 to float) is on a worker thread: a large chunk never stalls the loop.
                    # The frames are appended here, in arrival order, once decoded.
                    chunk = data.get("audio") or b""
                    try:
                        frames = await asyncio.to_thread(stream.decode_chunk, chunk)
                    except asyncio.CancelledError:
                        unfinished = chunk
                        raise
                    stream.add_frames(frames)
                    if stream.partial_due() and (partial_task is None or partial_task.done()):
                        partial_task = asyncio.create_task(run_partial(stream))
                elif event == "voice_stream_end":
                    if stream is None:
                        raise InputError("send voice_stream_start before voice_stream_end")
                    if partial_task is not None:
                        # Let a running partial finish: the model is busy with it anyway, and when nothing but
                        # silence followed it, it becomes the final transcript.
                        await partial_task
                    current, stream = stream, None
                    result = await asyncio.to_thread(current.finish)
                    out = result.to_dict()
                    if result.alert_id:
                        await _send(ws, "health_alert", {"alert_id": out["alert_id"], "symptom_id":
                                    out["symptom_id"], "urgency": out["triage"]["urgency"],
                                    "red_flags": out["red_flags"], "advice": out["triage"]["advice"]})
                    await _send(ws, "voice_analysis_result", out)
                else:
                    raise InputError(f"unknown event {event!r}")
            except HealthSyncError as exc:
                await _error(ws, exc)
    except (WebSocketDisconnect, asyncio.CancelledError) as exc:
        # The client went away, or the server cancelled this connection (shutting down) while a chunk was decoding.
        if partial_task is not None:
            partial_task.cancel()
        if stream is not None and (stream.seconds > 0 or unfinished):
            # Submitted at once: it runs to the end on its thread even when this task is being cancelled.
            kept = asyncio.get_running_loop().run_in_executor(None, _keep_partial, stream, unfinished)
            if isinstance(exc, asyncio.CancelledError):
                raise
            await kept
        elif stream is not None:
            # Gone before any audio was taken in (the chunk may still have been queued): there is nothing to keep.
            log.info("stream broke off before any audio; nothing stored")


@router.post(ANALYZE_PATH, openapi_extra=upload_body("audio", "A recording: WAV, FLAC, OGG or MP3"),
             responses={201: {"description": "stored: the analysis in the JSON envelope"},
                        400: {"description": "BAD_INPUT: unreadable, empty, too short or too long audio"}})
async def analyze_upload(request: Request, keep_audio: bool | None = None, store: Store = Depends(voice_store),
                         user_id: uuid.UUID = Depends(voice_user)) -> JSONResponse:
    """Analyse a recording sent as the raw request body or as a multipart form's `file` (WAV, FLAC, OGG or MP3);
    answers in the JSON envelope."""
    from edge.voice.pipeline import AnalyzeOptions, analyze_audio
    from protocol.envelope import envelope, failure

    try:
        body = await read_upload(request, audio_stage.MAX_FILE_BYTES)
        decoded = await asyncio.to_thread(audio_stage.load_bytes, body)  # a whole file: decoded off the loop
        result = await asyncio.to_thread(analyze_audio, store, decoded, user_id, AnalyzeOptions(keep_audio=keep_audio))
    except HealthSyncError as exc:
        return JSONResponse(failure(exc.to_dict()), status_code=exc.http_status)
    return JSONResponse(envelope(result.to_dict(), message="stored"), status_code=201)


def _keep_partial(stream: VoiceStream, unfinished: bytes | str | None = None) -> None:
    """The client went away mid-utterance: store what arrived, marked partial; too little or silence stores nothing."""
    if unfinished:
        with contextlib.suppress(HealthSyncError):  # a bad last chunk: what came before it is still kept
            stream.add_chunk(unfinished)
    try:
        result = stream.finish(partial=True)
        log.info("stream broke off after %.1f s; partial result stored as %s", stream.seconds, result.symptom_id)
    except HealthSyncError as exc:
        log.info("stream broke off after %.1f s; nothing stored (%s)", stream.seconds, exc.code)
