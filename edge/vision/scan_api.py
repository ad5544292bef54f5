"""The scanner's routes on the edge's local API: `POST /v1/scan` reads a photo (multipart `file` or the raw body)
and answers what it found without storing it; `POST /v1/scan/confirm` stores what a person confirmed.

Reading and storing are two steps so that nothing a nurse has not seen and confirmed reaches the record (the kiosk
app shows the read values as an editable form). The store and the patient come from the same dependencies as the
voice routes (`voice_store`, `voice_user`), which the kiosk app overrides with the signed-in session's patient."""
from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from edge.store import Store
from edge.uploads import read_upload, upload_body
from edge.voice.ws import voice_store, voice_user
from protocol.envelope import envelope, failure
from protocol.errors import HealthSyncError

router = APIRouter(tags=["scan"])
MAX_IMAGE_BYTES = 25 * 2**20


class ConfirmedScan(BaseModel):
    """What the person confirmed: the kept or corrected lab values and medications, and the report's date."""

    image_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    collected_on: dt.date | None = None
    labs: list[dict[str, Any]] = Field(default_factory=list, max_length=100)
    medications: list[dict[str, Any]] = Field(default_factory=list, max_length=100)


def read(data: bytes) -> dict[str, Any]:
    """Scan a photo's bytes; the result as plain data (nothing stored)."""
    from edge.vision.scanner import scan as scanner

    result, _ = scanner.scan(data)
    return result.to_dict()


def store_confirmed(store: Store, user_id: uuid.UUID, body: ConfirmedScan) -> dict[str, Any]:
    """Save a confirmed scan (a repeat of an earlier one stores nothing and says so)."""
    from edge.vision.scanner import scan as scanner

    result = scanner.confirmed(body.image_sha256, body.collected_on, body.labs, body.medications)
    return scanner.save(store, user_id, result)


@router.post("/v1/scan", openapi_extra=upload_body("image", "A photo of a lab report, label or pill box"),
             responses={200: {"description": "what was read (nothing stored)"},
                        400: {"description": "BAD_INPUT: not a readable image"}})
async def scan_upload(request: Request) -> JSONResponse:
    """Read a photo (multipart `file` or raw body, JPEG/PNG): labs, medications, overlay, printed date."""
    try:
        data = await read_upload(request, MAX_IMAGE_BYTES)
        out = await asyncio.to_thread(read, data)
    except HealthSyncError as exc:
        return JSONResponse(failure(exc.to_dict()), status_code=exc.http_status)
    return JSONResponse(envelope(out, message="read; confirm to store"))


@router.post("/v1/scan/confirm", status_code=201)
def scan_confirm(body: ConfirmedScan, store: Store = Depends(voice_store),
                 user_id: uuid.UUID = Depends(voice_user)) -> JSONResponse:
    """Store the confirmed lab values (as health metrics dated by the report) and medications."""
    try:
        saved = store_confirmed(store, user_id, body)
    except HealthSyncError as exc:
        return JSONResponse(failure(exc.to_dict()), status_code=exc.http_status)
    return JSONResponse(envelope(saved, message="stored"), status_code=201)
