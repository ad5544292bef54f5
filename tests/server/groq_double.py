"""A stand-in for Groq's API on a loopback port, speaking its real chat-completions JSON, so the real `groq`
client runs unchanged against it (GROQ_BASE_URL points there)."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(content: str, model: str = "openai/gpt-oss-20b") -> dict:
    """A chat.completion body as Groq returns it."""
    return {"id": "chatcmpl-7d2e", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "logprobs": None,
                         "finish_reason": "stop"}],
            "usage": {"queue_time": 0.01, "prompt_tokens": 120, "prompt_time": 0.01, "completion_tokens": 40,
                      "completion_time": 0.04, "total_time": 0.05},
            "system_fingerprint": "fp_9a1b", "x_groq": {"id": "req_01"}}


class GroqDouble:
    """Records requests; `respond(body) -> (status, json body, delay_s)` decides each answer."""

    def __init__(self, respond: Callable[[dict], tuple[int, dict, float]]):
        self.respond = respond
        self.requests: list[dict] = []
        self.headers: list[dict] = []


@contextlib.contextmanager
def serve(double: GroqDouble) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            double.requests.append({"path": self.path, "body": body})
            double.headers.append(dict(self.headers))
            status, answer, delay = double.respond(body)
            time.sleep(delay)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (its timeout)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
