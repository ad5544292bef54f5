"""POST /v1/sync/push (changeset bytes in, receipts out) and GET /v1/sync/pull (pages of changes by cursor)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from protocol.codes import ErrorCode
from protocol.envelope import current_request_id, envelope
from protocol.errors import HealthSyncError
from protocol.schema import TABLES
from sync_server import sync_service
from sync_server.auth import Principal
from sync_server.deps import after_commit, current_principal, in_transaction
from sync_server.device_auth import prove_device, request_proof
from sync_server.predictions_cache import for_app as predictions_cache
from sync_server.reconcile import Caller
from sync_server.responses import FastJSONResponse, ok
from sync_server.sync_keys import server_key_for

router = APIRouter(prefix="/v1/sync", tags=["sync"])
MAX_PULL = 5000


def _server_key(request: Request):
    return server_key_for(request.app.state.settings)


@router.get("/server-key")
def server_key(request: Request):
    """The server's X25519 public key (devices pin it at enrollment)."""
    return ok({"server_public_key": sync_service.server_public_key(_server_key(request))})


_CHANGESET_BODY = {"requestBody": {"required": True, "description": "A changeset (protocol.changeset.seal).",
                                   "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                      "format": "binary"}}}}}


class UnknownTableError(HealthSyncError):
    """A pull named a table the server does not replicate."""

    code = ErrorCode.UNKNOWN_TABLE
    http_status = 400


@router.post("/push", openapi_extra=_CHANGESET_BODY)
async def push(request: Request, principal: Principal = Depends(current_principal)):
    """Merge a signed, encrypted changeset; one receipt per change (accepted / duplicate / rejected + reason)."""
    data = await request.body()  # already read by the body-limit middleware: no waiting here
    caller = Caller(str(principal.user_id), principal.role, request_id=current_request_id())
    settings = request.app.state.settings

    # Opening, validating and merging a changeset is seconds of CPU and Postgres work for a large push: on a worker
    # thread, so the event loop keeps answering other requests meanwhile; the answer is rendered there too.
    def work(conn) -> JSONResponse:
        touched: dict[str, set[str]] = {"predictions": set()}
        result = sync_service.push(conn, data, caller, _server_key(request), doc_outbox=bool(settings.mongodb_uri),
                                   max_skew_s=settings.max_skew_s, touched=touched)
        if touched["predictions"]:
            # After the commit, before the answer: the device's next read, on any instance, finds no stale page.
            cache = predictions_cache(request.app)
            after_commit(request, lambda: cache.invalidate(touched["predictions"]))
        return ok(result, message=f"{len(result['receipts'])} receipts")

    return await in_transaction(request, principal, "sync:push", work)


def pull_tables(tables: list[str] | None) -> list[str] | None:
    """The tables a pull asked for, each once and in order; an unknown name is a 400 rather than silently ignored."""
    if not tables:
        return None
    unknown = sorted({t for t in tables if t not in TABLES})
    if unknown:
        raise UnknownTableError(f"unknown table {unknown[0][:64]!r}", field="table",
                                hint=f"known tables: {', '.join(TABLES)}")
    return list(dict.fromkeys(tables))


@router.get("/pull")
async def pull(
    request: Request,
    principal: Principal = Depends(current_principal),
    cursor: int = Query(0, ge=0, le=2**63 - 1, description="The change_seq of the last change already applied."),
    limit: int = Query(1000, ge=1, le=MAX_PULL),
    table: list[str] | None = Query(None, max_length=4 * len(TABLES),
                                    description=f"Only these tables (divergence repair): {', '.join(TABLES)}."),
    checksums: bool = Query(True, description="Per-table checksums on the last page (a device verifying its copy); "
                                              "false leaves them out. The last page always carries `scope`."),
):
    """Changes visible to the caller after the cursor, oldest first; on the last page the digest of the caller's
    scope and, unless `checksums=false`, checksums per table. Every pull names and proves its device (signed request
    headers); a revoked device is refused."""
    tables = pull_tables(table)

    def work(conn) -> FastJSONResponse:
        device = prove_device(conn, str(principal.user_id), request_proof(request), _server_key(request))
        page = sync_service.pull(conn, cursor, limit, tables, principal, device_id=device, with_checksums=checksums)
        # The page is JSON-ready already (strings, numbers, lists and maps from Postgres' JSON): fastapi's
        # jsonable_encoder would walk every value of thousands of rows again, for nothing.
        body = envelope(None, message=f"{len(page['changes'])} changes")
        body["data"] = page
        return FastJSONResponse(body)

    return await in_transaction(request, principal, "sync:pull", work)
