"""A small HTTP file server on 127.0.0.1 for download tests: Range support and misbehaviour."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``files`` on 127.0.0.1 with optional misbehaviour; records every request."""

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = dict(files)
        self.requests: list[dict] = []
        self.ignore_range = False
        self.range_ignores_left = 0  # this many requests with a Range are answered whole all the same
        self.cuts_left = 0  # this many responses stop after cut_after body bytes
        self.cut_after = 1 << 20 | 5000
        self.trickle = 0  # when set, the body goes out this many bytes at a time, 20 ms apart (a slow server)
        self.no_length = False  # when set, the body's length is not announced (it ends when the connection does)

    def url(self, path: str = "/model.pth") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server: FileServer

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append({"path": self.path, "range": self.headers.get("Range")})
        data = srv.files.get(self.path)
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        wanted = self.headers.get("Range")
        ignored = srv.ignore_range or (bool(wanted) and srv.range_ignores_left > 0)
        if wanted and srv.range_ignores_left:
            srv.range_ignores_left -= 1
        if wanted and not ignored:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        if not srv.no_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cuts_left:
            srv.cuts_left -= 1
            body = body[: srv.cut_after]
        if not srv.trickle:
            self.wfile.write(body)
            return
        for start in range(0, len(body), srv.trickle):
            try:
                self.wfile.write(body[start:start + srv.trickle])
                self.wfile.flush()
            except OSError:  # the client went away (a cancelled download)
                return
            time.sleep(0.02)


@contextmanager
def serve(files: dict[str, bytes]) -> Iterator[FileServer]:
    """Serve ``files`` (URL path → bytes) on an ephemeral loopback port for the ``with`` block."""
    srv = FileServer(files)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
