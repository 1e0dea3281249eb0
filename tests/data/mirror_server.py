"""A tiny HTTP mirror on 127.0.0.1 for download tests.

Serves the files of a folder (plus in-memory ``overrides``), honours ``Range: bytes=N-``
(unless ``ignore_range``), can answer some paths with an error status for the first few
requests (``fail``) or cut a response short (``cut``), and logs every request.
"""
from __future__ import annotations

import http.server
import threading
import urllib.parse
from pathlib import Path


class _Handler(http.server.BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server API)
        mirror = self.server.mirror
        path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path).lstrip("/")
        range_header = self.headers.get("Range")
        entry = {"path": path, "range": range_header, "status": None}
        mirror.log.append(entry)
        failures = mirror.fail.get(path)
        if failures and failures[1] > 0:
            failures[1] -= 1
            entry["status"] = failures[0]
            self.send_error(failures[0])
            return
        if path in mirror.overrides:
            data = mirror.overrides[path]
        else:
            file = mirror.root / path if mirror.root else None
            if file is None or not file.is_file():
                entry["status"] = 404
                self.send_error(404)
                return
            data = file.read_bytes()
        start = 0
        if range_header and not mirror.ignore_range:
            start = int(range_header.split("=")[1].split("-")[0])
            if start >= len(data):
                entry["status"] = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            entry["status"] = 206
        else:
            self.send_response(200)
            entry["status"] = 200
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        cut = mirror.cut.pop(path, None)
        if cut is not None:  # send only the first `cut` bytes, then drop the connection
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    mirror: "MirrorServer"


class MirrorServer:
    """``with MirrorServer(root) as m: m.url`` -> ``http://127.0.0.1:PORT/``."""

    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else None
        self.reset()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.mirror = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def reset(self) -> None:
        """Forget overrides, failures, cuts and the request log."""
        self.overrides: dict[str, bytes] = {}
        self.fail: dict[str, list[int]] = {}    # path -> [status, remaining count]
        self.cut: dict[str, int] = {}           # path -> bytes to send before dropping
        self.ignore_range = False
        self.log: list[dict] = []

    def requests_for(self, path: str) -> list[dict]:
        return [e for e in self.log if e["path"] == path]

    def __enter__(self) -> "MirrorServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
