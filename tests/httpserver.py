"""A real HTTP server on 127.0.0.1 with injectable faults, for download tests.

Serves ``files`` (URL path -> bytes) with Range support. Faults per path:
``missing`` (404), ``truncate`` (first N responses stop half-way),
``corrupt`` (other bytes of the same length), ``slow`` (seconds per chunk),
``status`` (answer this status code N times first). Every request is counted.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Fault", "FaultyServer"]


@dataclass
class Fault:
    missing: bool = False
    truncate: int = 0  # how many responses are cut half-way
    corrupt: bool = False
    slow: float = 0.0  # delay per 16 KiB chunk
    status: int = 0  # answer this code ...
    status_times: int = 0  # ... this many times first


@dataclass
class FaultyServer:
    files: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    ranges: list[str] = field(default_factory=list)
    latency: float = 0.0  # seconds before every response (a far-away server)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        if self.latency:
            time.sleep(self.latency)
        path = req.path
        with self._lock:
            self.requests[path] += 1
            fault = self.faults.get(path, Fault())
            if req.headers.get("Range"):
                self.ranges.append(f"{path} {req.headers['Range']}")
            cut = fault.truncate > 0
            if cut:
                fault.truncate -= 1
            failing = fault.status_times > 0
            if failing:
                fault.status_times -= 1
        if failing:
            req.send_response(fault.status)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        data = self.files.get(path)
        if data is None or fault.missing:
            req.send_response(404)
            req.send_header("Content-Length", "0")
            req.end_headers()
            return
        if fault.corrupt:
            data = bytes(b ^ 0x5A for b in data)
        start = 0
        rng = req.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                req.send_response(416)
                req.send_header("Content-Length", "0")
                req.end_headers()
                return
            req.send_response(206)
            req.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            req.send_response(200)
        body = data[start:]
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if cut:
            body = body[: len(body) // 2]
        for offset in range(0, len(body), 16384):
            if fault.slow:
                time.sleep(fault.slow)
            try:
                req.wfile.write(body[offset:offset + 16384])
            except (BrokenPipeError, ConnectionResetError):
                return
        if cut:
            req.close_connection = True
