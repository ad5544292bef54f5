"""A JSON answer from a stdlib http.server handler: the small loopback stand-ins of the tests (a JWKS endpoint, a
server that records headers) share it."""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


class JSONHandler(BaseHTTPRequestHandler):
    """A handler that answers with `send_json` and logs nothing (the test output stays the test's)."""

    def send_json(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass
