"""A small HTTP/1.1 server for a WSGI app: one thread per connection, kept alive between requests.

The local pipeline holds some 80 kept-alive connections to the emulator, many of them idle or in a
ReceiveMessage long poll. An event-loop server (waitress) visits every connection on each turn of its loop;
with this server instead, the 150-joiner demo costs the server a fifth less CPU (docs/benchmarks.md). Here
an idle connection is a thread blocked in recv, which costs nothing, and a request is read, answered and
written by its connection's own thread.

It speaks what AWS SDKs and the AWS CLI send: a request line, headers, and a body of Content-Length bytes
(after a 100 Continue when the client expects one).
A chunked request body is refused (411), as is a malformed request (400); an app that raises is answered
500, with its traceback on stderr. Each of these closes the connection.
"""

from __future__ import annotations

import io
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_MAX_LINE = 65536
_MAX_HEADERS = 100
_REASONS = {400: "Bad Request", 411: "Length Required", 500: "Internal Server Error"}


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ThreadedWsgiServer:
    """Serves `app` on host:port (0 picks a free port) until the process ends."""

    def __init__(self, app: WsgiApp, host: str, port: int) -> None:
        self.app = app
        self._socket = socket.create_server((host, port), backlog=1024)
        self.host, self.effective_port = self._socket.getsockname()[:2]

    def run(self) -> None:
        while True:
            connection, address = self._socket.accept()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(
                target=self._serve_connection, args=(connection, address[0]), name="http", daemon=True
            ).start()

    def _serve_connection(self, connection: socket.socket, client: str) -> None:
        reader = connection.makefile("rb")
        try:
            while self._serve_request(reader, connection, client):
                pass
        except _Refusal as refusal:
            reason = _REASONS[refusal.status]
            body = str(refusal).encode()
            connection.sendall(
                f"HTTP/1.1 {refusal.status} {reason}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode("latin-1")
                + body
            )
        except OSError:
            pass  # the client went away
        finally:
            reader.close()
            connection.close()

    def _serve_request(self, reader: io.BufferedReader, connection: socket.socket, client: str) -> bool:
        """Answer one request; whether the connection stays open for the next."""
        request_line = reader.readline(_MAX_LINE)
        if not request_line.strip():
            return False  # closed by the client between requests
        try:
            method, target, version = request_line.decode("latin-1").split()
        except ValueError:
            raise _Refusal(400, "malformed request line") from None
        environ = self._environ(method, target, version, _read_headers(reader), client)
        if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
            raise _Refusal(411, "send a Content-Length, not a chunked body")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise _Refusal(400, "Content-Length is not a number") from None
        if length and environ.get("HTTP_EXPECT", "").lower() == "100-continue":
            connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # botocore waits for it before an upload
        environ["wsgi.input"] = io.BytesIO(reader.read(length) if length else b"")
        keep_alive = version == "HTTP/1.1" and environ.get("HTTP_CONNECTION", "").lower() != "close"
        try:
            response = self._response(environ, keep_alive)
        except Exception as error:
            traceback.print_exc()
            raise _Refusal(500, f"{type(error).__name__} in the server; see its stderr") from None
        connection.sendall(response)
        return keep_alive

    def _environ(
        self, method: str, target: str, version: str, headers: dict[str, str], client: str
    ) -> dict[str, Any]:
        path, _, query = target.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.effective_port),
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": client,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
        return environ

    def _response(self, environ: dict[str, Any], keep_alive: bool) -> bytes:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            started[:] = [status, headers]

        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() not in _FRAMING_HEADERS]
        lines += [f"Content-Length: {len(body)}", "Connection: " + ("keep-alive" if keep_alive else "close")]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        return head if environ["REQUEST_METHOD"] == "HEAD" else head + body


# Set by this server from the body it sends, whatever the app said.
_FRAMING_HEADERS = {"content-length", "connection", "transfer-encoding"}


def _read_headers(reader: io.BufferedReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS):
        line = reader.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n", b""):
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon or not name.strip():
            raise _Refusal(400, f"malformed header line {line[:80]!r}")
        name, value = name.strip(), value.strip()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    raise _Refusal(400, f"more than {_MAX_HEADERS} headers")
