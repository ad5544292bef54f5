"""What the server holds for a device's user, read through the real pull endpoint with the device's proof."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from edge.device_keys import device_keys, server_pin
from protocol import request_auth
from sync_server import testing


def pull_pages(http, store) -> Iterator[dict[str, Any]]:
    """Every pull page from cursor 0, signed by the store's device as a real pull is."""
    cursor, signing, user = 0, device_keys(store).signing, server_pin(store).user_id
    while True:
        query = f"cursor={cursor}&limit=5000".encode()
        proof = request_auth.sign_request(signing, store.device_id, "GET", "/v1/sync/pull", query)
        page = http.get("/v1/sync/pull?" + query.decode(), headers={**testing.auth(user), **proof}).json()["data"]
        yield page
        cursor = page["cursor"]
        if not page["has_more"]:
            return


def server_rows(http, store) -> dict[tuple[str, str], tuple[dict, bool]]:
    """{(table, pk): (doc, deleted)} of everything the server lets this device's user see."""
    return {(c["table"], c["pk"]): (c["doc"], c["deleted"]) for page in pull_pages(http, store)
            for c in page["changes"]}


def server_checksums(http, store) -> dict[str, str]:
    """The per-table checksums the server sends on the last pull page."""
    *_, last = pull_pages(http, store)
    return last["checksums"]
