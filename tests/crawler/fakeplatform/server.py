"""The fake platform's site: `notes.html` and `/api/notes` on a loopback port, in a thread."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAGE = Path(__file__).with_name("notes.html").read_bytes()


def notes_site(notes: list[dict[str, Any]]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/notes":
                body, kind = PAGE, "text/html; charset=utf-8"
            elif self.path == "/api/notes":
                body, kind = json.dumps({"notes": notes}).encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def serving(notes: list[dict[str, Any]]) -> Iterator[str]:
    """Serve the site; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), notes_site(notes))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
