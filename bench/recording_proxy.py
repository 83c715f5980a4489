"""A pass-through OpenAI-compatible endpoint that records every chat completion it forwards: the request's
messages and the real model's answer, finish reason and token counts, one JSON object a line. The agent
benchmark puts it between the operator and the local model, so the answers replayed by
tests/unit/test_recorded_answers.py are real answers to the operator's real prompts."""

from __future__ import annotations

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class RecordingProxy:
    """Forwards /v1/* to upstream (a base URL ending in /v1) and appends one record per chat completion."""

    def __init__(self, upstream: str, record_path: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.record_path = record_path
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _record(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        choice = (response.get("choices") or [{}])[0]
        record = {
            "messages": request.get("messages", []),
            "answer": (choice.get("message") or {}).get("content") or "",
            "finish_reason": choice.get("finish_reason"),
            "usage": response.get("usage") or {},
            "model": response.get("model"),
        }
        with self._lock, self.record_path.open("a") as out:
            out.write(json.dumps(record) + "\n")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self, body: bytes | None) -> None:
                upstream = proxy.upstream + self.path.removeprefix("/v1")
                headers = {"Content-Type": "application/json"}
                request = urllib.request.Request(  # noqa: S310 (an http URL given by the bench)
                    upstream, data=body, headers=headers, method=self.command
                )
                try:
                    with urllib.request.urlopen(request, timeout=900) as reply:  # noqa: S310
                        status, payload = reply.status, reply.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                if body and status == 200 and self.path.endswith("/chat/completions"):
                    proxy._record(json.loads(body), json.loads(payload))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                self._forward(None)

            def do_POST(self) -> None:
                self._forward(self.rfile.read(int(self.headers.get("Content-Length", 0))))

            def log_message(self, *args: object) -> None:
                pass

        return Handler
