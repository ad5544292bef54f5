"""Network faults for sync tests: a loopback TCP proxy that cuts connections after the server answered."""
from __future__ import annotations

import socket
import threading


class CuttingProxy:
    """A loopback TCP proxy that forwards to the server but drops the connection instead of delivering the
    responses whose numbers are in `cut` (so the server has committed and the client never hears of it)."""

    def __init__(self, upstream: str, cut: set[int]):
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.cut, self.responses, self.cuts_done = cut, 0, 0
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, src, dst, responses):
        try:
            while data := src.recv(65536):
                if responses and data.startswith(b"HTTP/1.1"):
                    with self.lock:
                        self.responses += 1
                        drop = self.responses in self.cut
                    if drop:
                        self.cuts_done += 1
                        break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.sock.close()
