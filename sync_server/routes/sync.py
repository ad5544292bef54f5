"""POST /v1/sync/push (changeset bytes in, receipts out) and GET /v1/sync/pull (pages of changes by cursor)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from protocol.envelope import current_request_id, envelope
from sync_server import sync_service
from sync_server.auth import Principal
from sync_server.deps import current_principal, db_session, rate_limit
from sync_server.device_auth import proven_device
from sync_server.reconcile import Caller
from sync_server.responses import ok
from sync_server.sync_keys import load_server_key

router = APIRouter(prefix="/v1/sync", tags=["sync"])
MAX_PULL = 5000


def _server_key(request: Request):
    settings = request.app.state.settings
    key_file = str(settings.data_dir / "sync_x25519.key") if settings.data_dir else None
    return load_server_key(key_file)


@router.get("/server-key")
def server_key(request: Request):
    """The server's X25519 public key (devices pin it at enrollment)."""
    return ok({"server_public_key": sync_service.server_public_key(_server_key(request))})


@router.post("/push", dependencies=[Depends(rate_limit("sync:push"))])
async def push(request: Request, principal: Principal = Depends(current_principal), conn=Depends(db_session)):
    """Merge a signed, encrypted changeset; one receipt per change (accepted / duplicate / rejected + reason)."""
    data = await request.body()
    caller = Caller(str(principal.user_id), principal.role, request_id=current_request_id())
    settings = request.app.state.settings
    result = sync_service.push(conn, data, caller, _server_key(request), doc_outbox=bool(settings.mongodb_uri),
                               max_skew_s=settings.max_skew_s)
    return ok(result, message=f"{len(result['receipts'])} receipts")


@router.get("/pull", dependencies=[Depends(rate_limit("sync:pull"))])
def pull(
    principal: Principal = Depends(current_principal),
    conn=Depends(db_session),
    device: str = Depends(proven_device),  # every pull names and proves its device; revoked ones are refused
    cursor: int = Query(0, ge=0, description="The change_seq of the last change already applied."),
    limit: int = Query(1000, ge=1, le=MAX_PULL),
    table: list[str] | None = Query(None, description="Only these tables (divergence repair)."),
):
    """Changes visible to the caller after the cursor, oldest first; checksums per table on the last page."""
    page = sync_service.pull(conn, cursor, limit, table, principal, device_id=device)
    # The page is JSON-ready already (strings, numbers, lists and maps from Postgres' JSON): fastapi's
    # jsonable_encoder would walk every value of thousands of rows again, for nothing.
    body = envelope(None, message=f"{len(page['changes'])} changes")
    body["data"] = page
    return JSONResponse(body)
