"""A scripted OpenAI-compatible chat-completions server for tests and demos.

POST /v1/chat/completions answers with the next scripted reply whose `match` text occurs in the request's
messages (a reply without `match` fits any request); a reply is used once unless it has "repeat": true.
Every request body is recorded: tests read them from ScriptedModel.requests, or over HTTP from
GET /requests. Usage numbers are realistic (about four characters per token) unless a reply sets `usage`.

Script file (JSON): a list of replies, each a string or {"content": str, "match": str, "repeat": bool,
"usage": {"prompt_tokens": int, "completion_tokens": int}, "status": int, "delay": seconds, "retryAfter":
seconds, "fault": str}. A delay makes the reply slow, like a local model (longer than the client's timeout:
a hanging endpoint); `max_in_flight` is the most requests the server was answering at once. A status other
than 200 answers with an error (429 and 5xx with a Retry-After header when retryAfter is set). A fault
answers like a broken server: "malformed" (200, a body that is not JSON), "empty-choices" (a completion
without choices), "truncated" (the completion cut off halfway) or "close" (the connection closed without an
answer).

Command line: python tests/scripted_model.py --port 8000 --script script.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Reply = dict[str, Any]


class ScriptedModel:
    """The server; start() runs it in a daemon thread on 127.0.0.1."""

    def __init__(
        self, replies: list[Reply | str] | None = None, port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        self._lock = threading.Lock()
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.add(*(replies or []))
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def add(self, *replies: Reply | str) -> None:
        """Queue more replies."""
        with self._lock:
            self.replies.extend({"content": r} if isinstance(r, str) else dict(r) for r in replies)

    def prompts(self) -> list[str]:
        """The text of every recorded request, messages joined."""
        with self._lock:
            return [_prompt_text(body) for body in self.requests]

    def start(self) -> ScriptedModel:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ScriptedModel:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_reply(self, body: dict[str, Any]) -> Reply | None:
        text = _prompt_text(body)
        with self._lock:
            self.requests.append(body)
            for i, reply in enumerate(self.replies):
                if reply.get("match", "") in text:
                    if not reply.get("repeat"):
                        del self.replies[i]
                    return reply
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                self._send_bytes(status, json.dumps(payload).encode(), headers)

            def _send_bytes(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                # A client that gave up (its timeout) has closed the connection: nothing to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.end_headers()
                    self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/requests":
                    with model._lock:
                        self._send(200, model.requests)
                elif self.path.rstrip("/").endswith("/models"):
                    self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                with model._lock:
                    model.in_flight += 1
                    model.max_in_flight = max(model.max_in_flight, model.in_flight)
                try:
                    self._answer(body)
                finally:
                    with model._lock:
                        model.in_flight -= 1

            def _answer(self, body: dict[str, Any]) -> None:
                reply = model.next_reply(body)
                if reply is None:
                    self._send(500, {"error": {"message": "scripted model: no scripted reply matches"}})
                    return
                time.sleep(float(reply.get("delay", 0)))
                if reply.get("status", 200) != 200:
                    headers = {"Retry-After": str(reply["retryAfter"])} if "retryAfter" in reply else {}
                    error = {"error": {"message": reply.get("content", "error")}}
                    self._send(reply["status"], error, headers)
                    return
                fault = reply.get("fault")
                completion = _completion(body, reply)
                if fault == "close":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "malformed":
                    self._send_bytes(200, b"<html>502 Bad Gateway</html> {not json")
                elif fault == "empty-choices":
                    self._send(200, {**completion, "choices": []})
                elif fault == "truncated":
                    data = json.dumps(completion).encode()
                    self._send_bytes(200, data[: len(data) // 2])
                else:
                    self._send(200, completion)

        return Handler


def _prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(str(m.get("content", "")) for m in body.get("messages", []))


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    content = str(reply.get("content", ""))
    usage = reply.get("usage") or {
        "prompt_tokens": max(1, len(_prompt_text(body)) // 4),
        "completion_tokens": max(1, len(content) // 4),
    }
    usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": usage,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Scripted OpenAI-compatible model server.")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--script", type=Path, required=True, help="JSON list of replies")
    args = parser.parse_args()
    server = ScriptedModel(json.loads(args.script.read_text()), port=args.port, host=args.host)
    print(f"scripted model on {server.base_url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server._server.serve_forever()


if __name__ == "__main__":
    main()
