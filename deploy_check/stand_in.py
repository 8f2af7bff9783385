"""A stand-in for the one Cognito read a leaver's plan needs and MiniStack lacks: AdminListDevices.

MiniStack 1.5.33's Cognito serves no device API at all (no ConfirmDevice either), so no user of it can have
a device: for an existing user the true answer is an empty list. The stand-in asks MiniStack whether the user
exists (AdminGetUser) and answers `{"Devices": []}`, or MiniStack's own error (UserNotFoundException, ...).
Only the AdminListDevices function is pointed at it (a named edit of the template copy); every other call
of every function goes to MiniStack.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.exceptions import ClientError

from deploy_check.ministack import HOST

SERVED_ACTION = "AdminListDevices"
_TARGET = f"AWSCognitoIdentityProviderService.{SERVED_ACTION}"


def list_devices_answer(cognito: Any, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body Cognito would give on a pool where no device exists."""
    try:
        cognito.admin_get_user(UserPoolId=request.get("UserPoolId"), Username=request.get("Username"))
    except ClientError as error:
        status = int(error.response["ResponseMetadata"]["HTTPStatusCode"])
        return status, {
            "__type": error.response["Error"]["Code"],
            "message": error.response["Error"]["Message"],
        }
    return 200, {"Devices": []}


@contextmanager
def serving_list_devices(cognito: Any) -> Iterator[str]:
    """The stand-in on a free loopback port while the block runs; its endpoint URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("X-Amz-Target") == _TARGET:
                status, answer = list_devices_answer(cognito, json.loads(body or b"{}"))
            else:
                status, answer = (
                    400,
                    {"__type": "InvalidAction", "message": f"the stand-in serves {_TARGET} only"},
                )
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the check's table says what happened."""

    server = ThreadingHTTPServer((HOST, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="list-devices-stand-in", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
