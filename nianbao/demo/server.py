"""Serve a directory on 127.0.0.1 the way an old portal's web server does: HTML without a
charset in the header (the page's meta tag says gb2312), Office files with their types."""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class PortalHandler(SimpleHTTPRequestHandler):
    extensions_map = {
        ".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
        ".pdf": "application/pdf", ".doc": "application/msword",
        ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ".wps": "application/kswps", ".xls": "application/vnd.ms-excel",
        ".zip": "application/zip", ".json": "application/json", "": "application/octet-stream",
    }

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # the crawl log says what was fetched


def serve_portal(root: Path, host: str = "127.0.0.1", port: int = 0):
    """Start serving `root` in a thread; returns (server, base URL). `port` 0 picks one."""
    handler = functools.partial(PortalHandler, directory=str(root))
    server = ThreadingHTTPServer((host, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="demo-portal", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.server_address[1]}"
