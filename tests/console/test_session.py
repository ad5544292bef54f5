"""The console's session helpers that other parts call: the WebSocket cookie token (for /v1/ws)."""
from __future__ import annotations

from starlette.websockets import WebSocket

from sync_server.console.session import ACCESS_COOKIE, websocket_token


def _ws(headers: dict[str, str]) -> WebSocket:
    scope = {"type": "websocket", "path": "/v1/ws", "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
             "query_string": b""}
    return WebSocket(scope, receive=None, send=None)


def test_same_origin_handshake_gets_the_cookie_token():
    ws = _ws({"host": "console.example:8000", "origin": "https://console.example:8000",
              "cookie": f"{ACCESS_COOKIE}=tok123"})
    assert websocket_token(ws) == "tok123"


def test_cross_site_or_originless_handshake_gets_nothing():
    for origin in ("https://evil.example", None):
        headers = {"host": "console.example:8000", "cookie": f"{ACCESS_COOKIE}=tok123"}
        if origin:
            headers["origin"] = origin
        assert websocket_token(_ws(headers)) is None
