"""Files sent to the local API: as the raw request body or as a multipart form's `file` field (what a browser's
FormData and `curl -F file=@x` send), with the size limit checked before the body is read."""
from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request

from protocol.errors import InputError


def upload_body(kind: str, description: str) -> dict[str, Any]:
    """The OpenAPI `requestBody` of an upload route: the file raw, or as the `file` field of a multipart form."""
    binary = {"type": "string", "format": "binary"}
    raw_types = {"audio": ("audio/wav", "audio/flac", "audio/ogg", "audio/mpeg"),
                 "image": ("image/jpeg", "image/png")}[kind]
    return {"requestBody": {"required": True, "description": description, "content": {
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"],
                                           "properties": {"file": {**binary, "description": description}}}},
        "application/octet-stream": {"schema": binary},
        **{t: {"schema": binary} for t in raw_types}}}}


async def read_upload(request: Request, limit: int) -> bytes:
    """The uploaded file's bytes: the multipart `file` field when the request is a form, else the whole body."""
    declared = int(request.headers.get("content-length") or 0)
    if declared > limit:
        raise InputError(f"the upload is {declared / 2**20:.0f} MiB; the limit is {limit / 2**20:.0f} MiB")
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        try:
            form = await request.form(max_part_size=limit)
        except (MultiPartException, HTTPException) as exc:  # starlette's parse errors, as they come from form()
            raise InputError(f"the multipart form could not be read ({type(exc).__name__})",
                             hint="send the file as the form field `file`") from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError("the multipart form has no file in the field `file`",
                                 hint="curl -F file=@recording.wav …, or FormData.append('file', blob)")
            data = await upload.read()
        finally:
            await form.close()  # every part's temporary file, the file field's or not
    else:
        data = await request.body()
    return data  # an empty one is refused by the decoder, with the reason
