"""The local server's HTTP/1.1 front: kept-alive connections, the WSGI environ it builds, and refusals."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from local_aws.http_server import ThreadedWsgiServer

Seen = list[dict[str, Any]]


def _echo_app(seen: Seen) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        seen.append({**environ, "body": body})
        start_response("201 Created", [("Content-Type", "text/plain"), ("Content-Length", "999")])
        return [b"echo:", body]

    return app


@pytest.fixture
def served() -> tuple[int, Seen]:
    seen: Seen = []
    server = ThreadedWsgiServer(_echo_app(seen), "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    return server.effective_port, seen


def test_one_connection_carries_many_requests_and_the_environ_is_wsgi(served: tuple[int, Seen]) -> None:
    port, seen = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    answers = []
    for number in range(3):
        connection.request(
            "POST",
            f"/a%20path?n={number}",
            body=f"body {number}".encode(),
            headers={"X-Amz-Target": "Service.Op", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        answers.append((response.status, response.read(), response.getheader("Content-Length")))

    assert answers == [(201, f"echo:body {n}".encode(), str(len(f"echo:body {n}"))) for n in range(3)]
    assert len(seen) == 3
    assert {environ["REMOTE_ADDR"] for environ in seen} == {"127.0.0.1"}
    first = seen[0]
    assert (first["REQUEST_METHOD"], first["PATH_INFO"], first["QUERY_STRING"]) == ("POST", "/a path", "n=0")
    assert first["HTTP_X_AMZ_TARGET"] == "Service.Op"
    assert (first["CONTENT_TYPE"], first["CONTENT_LENGTH"]) == ("application/json", "6")
    assert first["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert first["wsgi.url_scheme"] == "http"


def test_connection_close_is_honoured(served: tuple[int, Seen]) -> None:
    port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = _read_until_closed(client)

    assert answer.startswith(b"HTTP/1.1 201 Created\r\n")
    assert b"Connection: close\r\n" in answer
    assert answer.endswith(b"\r\n\r\necho:")


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", b"411"),
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n", b"400"),
    ],
)
def test_a_request_it_cannot_read_is_refused_and_the_connection_closed(
    served: tuple[int, Seen], request_bytes: bytes, status: bytes
) -> None:
    port, seen = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(request_bytes)
        answer = _read_until_closed(client)

    assert answer.startswith(b"HTTP/1.1 " + status)
    assert seen == []  # the app never saw it


def test_an_app_that_raises_is_answered_500_and_the_server_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def failing_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        raise RuntimeError("a defect")

    server = ThreadedWsgiServer(failing_app, "127.0.0.1", 0)
    threading.Thread(target=server.run, daemon=True).start()
    answers = []
    for _ in range(2):
        with socket.create_connection(("127.0.0.1", server.effective_port), timeout=5) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            answers.append(_read_until_closed(client))

    assert all(answer.startswith(b"HTTP/1.1 500 Internal Server Error\r\n") for answer in answers)
    assert b"RuntimeError" in answers[0]
    assert "RuntimeError: a defect" in capsys.readouterr().err


def test_a_client_expecting_100_continue_gets_it_before_it_sends_the_body(
    served: tuple[int, Seen],
) -> None:
    port, seen = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"PUT /object HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        interim = client.recv(65536)
        client.sendall(b"data")
        final = client.recv(65536)

    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert final.startswith(b"HTTP/1.1 201 Created\r\n")
    assert final.endswith(b"echo:data")
    assert seen[0]["body"] == b"data"


def test_head_answers_the_headers_without_the_body(served: tuple[int, Seen]) -> None:
    port, _ = served
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("HEAD", "/")
    response = connection.getresponse()

    assert (response.status, response.getheader("Content-Length"), response.read()) == (201, "5", b"")


def _read_until_closed(client: socket.socket) -> bytes:
    chunks = []
    while chunk := client.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
