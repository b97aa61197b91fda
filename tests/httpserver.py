"""A real HTTP server on 127.0.0.1 with injectable faults, for download tests.

Serves ``files`` (URL path -> bytes) with Range support. Faults per path:
``missing`` (404), ``truncate`` (first N responses stop half-way),
``corrupt`` (other bytes of the same length), ``slow`` (seconds per chunk),
``status`` (answer this status code N times first), ``drip`` (one byte every
N seconds), ``huge`` (a body of that many bytes, whatever the file), ``gzip``
(the body gzip-compressed, with ``Content-Encoding: gzip``), ``label_gzip``
(``Content-Encoding: gzip`` on the unchanged bytes). Every request is counted,
and its headers kept. ``writable``: PUT stores a body (201) and DELETE removes one, as
nginx's WebDAV module does; otherwise they are refused (403). ``refused_url()``: a URL
on which nothing listens.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Fault", "FaultyServer", "refused_url"]


def refused_url() -> str:
    """An http URL on 127.0.0.1 where the connection is refused (nothing listens)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass
class Fault:
    missing: bool = False
    truncate: int = 0  # how many responses are cut half-way
    corrupt: bool = False
    slow: float = 0.0  # delay per 16 KiB chunk
    status: int = 0  # answer this code ...
    status_times: int = 0  # ... this many times first
    drip: float = 0.0  # seconds between single bytes
    drip_headers: float = 0.0  # seconds between single bytes of the status line and headers
    huge: int = 0  # serve this many bytes instead of the file
    gzip: bool = False  # compress the body, Content-Encoding: gzip
    label_gzip: bool = False  # Content-Encoding: gzip, body unchanged


@dataclass
class FaultyServer:
    files: dict[str, bytes] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: Counter = field(default_factory=Counter)
    ranges: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    latency: float = 0.0  # seconds before every response (a far-away server)
    proxied: list[str] = field(default_factory=list)  # absolute-form requests (as a proxy)
    writable: bool = False  # PUT and DELETE allowed
    methods: Counter = field(default_factory=Counter)  # (method, path) -> count

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._serve(self)

            def do_HEAD(self) -> None:
                server._head(self)

            def do_PUT(self) -> None:
                server._write(self)

            def do_DELETE(self) -> None:
                server._write(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        # A short poll: stop() waits for it (the default half second, per server, adds up).
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _empty(self, req: BaseHTTPRequestHandler, status: int) -> None:
        req.send_response(status)
        req.send_header("Content-Length", "0")
        req.end_headers()

    def _head(self, req: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.methods["HEAD", req.path] += 1
            data = self.files.get(req.path)
            fault = self.faults.get(req.path, Fault())
        if data is None or fault.missing:
            self._empty(req, 404)
            return
        req.send_response(200)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()

    def _write(self, req: BaseHTTPRequestHandler) -> None:
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if req.command == "PUT" else b""
        with self._lock:
            self.methods[req.command, req.path] += 1
            if not self.writable:
                status = 403
            elif req.command == "PUT":
                status = 204 if req.path in self.files else 201
                self.files[req.path] = body
            else:
                status = 204 if self.files.pop(req.path, None) is not None else 404
        self._empty(req, status)

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.methods["GET", req.path] += 1
        if self.latency:
            time.sleep(self.latency)
        path = req.path
        if "://" in path:
            # A request in absolute form (GET http://host/path): this server is being used
            # as an HTTP proxy; it answers for every origin from its own files and faults.
            path = "/" + path.split("://", 1)[1].partition("/")[2]
            with self._lock:
                self.proxied.append(req.path)
        with self._lock:
            self.requests[path] += 1
            self.headers.append(dict(req.headers.items()))
            fault = self.faults.get(path, Fault())
            if req.headers.get("Range"):
                self.ranges.append(f"{path} {req.headers['Range']}")
            cut = fault.truncate > 0
            if cut:
                fault.truncate -= 1
            failing = fault.status_times > 0
            if failing:
                fault.status_times -= 1
        if fault.drip_headers:
            self._drip_headers(req, fault.drip_headers)
            return
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
        if fault.huge:
            self._serve_huge(req, fault.huge)
            return
        if fault.gzip:
            data = gzip.compress(data, mtime=0)
        if fault.drip:
            self._serve_drip(req, data, fault.drip)
            return
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
        if fault.gzip or fault.label_gzip:
            req.send_header("Content-Encoding", "gzip")
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

    def _serve_huge(self, req: BaseHTTPRequestHandler, size: int) -> None:
        """``size`` bytes, without a Content-Length (chunked would be the same): the
        client must stop reading by itself."""
        req.send_response(200)
        req.send_header("Connection", "close")
        req.end_headers()
        block = b"\0" * 65536
        sent = 0
        try:
            while sent < size:
                req.wfile.write(block[: size - sent])
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
        req.close_connection = True

    def _drip_headers(self, req: BaseHTTPRequestHandler, every: float) -> None:
        self._drip(req, b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 10_000 + b"\r\n\r\n",
                   every)

    def _serve_drip(self, req: BaseHTTPRequestHandler, data: bytes, every: float) -> None:
        req.send_response(200)
        req.send_header("Content-Length", str(len(data)))
        req.end_headers()
        self._drip(req, data, every)

    @staticmethod
    def _drip(req: BaseHTTPRequestHandler, data: bytes, every: float) -> None:
        """``data`` one byte every ``every`` seconds, then the connection is closed."""
        try:
            for i in range(len(data)):
                req.wfile.write(data[i:i + 1])
                req.wfile.flush()
                time.sleep(every)
        except (BrokenPipeError, ConnectionResetError):
            pass
        req.close_connection = True
