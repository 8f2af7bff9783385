"""moto's server in a process of its own on a free loopback port, with the Cognito operations moto lacks
filled in and a few routes of local tooling beside the AWS APIs.

A process of its own, so the emulator has a core to itself (the workers and the emulator no longer share
one interpreter lock) and a worker process can be killed without taking the emulator with it. The server
lives as long as the process that started it: it stops when its stdin closes, which a killed parent's
does too. Our HTTP/1.1 front (http_server.py) serves it: not moto's own werkzeug development server, which
closes every connection after one request, nor waitress, whose event loop visits every kept-alive
connection on each turn (docs/benchmarks.md).

Local tooling routes (JSON over HTTP, under /_local/; `LocalAws` wraps them):
- POST /_local/devices {"userPoolId", "username", "deviceName"}: a confirmed, remembered device for the
  user; answers {"deviceKey"}, or 404 with {"error", "message"} for an unknown pool or user.
- POST /_local/users {"userPoolId", "users": [{"username", "attributes", "groups", "enabled"}]}: users put
  straight into moto's store (a benchmark's set-up only); answers {"seeded"}.
- GET /_local/delivery-counts: invitations and password-reset codes sent per user (see
  cognito_extensions); DELETE zeroes them.
- PUT /_local/quotas {"enforced": bool}: switch Cognito's rate quotas on or off (see quotas); GET answers
  {"enforced", "allowed", "throttled", "allowed_per_second"}, the calls let through and throttled per quota
  category, and those let through per category and wall-clock second.
- GET /_local/requests: {"counts"}, the AWS requests answered per operation (see request_counts, throttled
  ones included); DELETE zeroes them.
- GET /_local/calls: {"calls": [{"principal", "action", "resource", "condition_key", "condition_value",
  "count"}]}, each request seen
  as IAM sees it (see access_log); DELETE forgets them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    create_backend_app,
)

from local_aws import cognito_extensions, dynamodb_atomicity, moto_speedups, sqs_extensions
from local_aws.access_log import AccessLog, Call
from local_aws.cognito_extensions import DeliveryCounts
from local_aws.errors import LocalAwsError
from local_aws.http_server import ThreadedWsgiServer
from local_aws.quotas import QuotaEnforcer, QuotaScale, WsgiApp
from local_aws.request_counts import RequestCounter

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
# moto accepts any credentials; boto3 still needs some to sign requests.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
TOOLING_PREFIX = "/_local/"
STARTUP_TIMEOUT_SECONDS = 60


class LocalToolingError(Exception):
    """A local tooling route refused the request; `code` is the Cognito-style error name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class QuotaReport:
    """Cognito calls let through and throttled since quotas were last switched, per quota category, and
    the share of Cognito's rates enforced; `allowed_per_second`: per category, the calls let through in each
    wall-clock second (epoch)."""

    enforced: bool
    scale: float
    allowed: Counter[str]
    throttled: Counter[str]
    allowed_per_second: dict[str, Counter[int]]

    def busiest_second(self, category: str) -> int:
        """The most calls of the category let through in one wall-clock second."""
        return max(self.allowed_per_second.get(category, Counter({0: 0})).values())


@dataclass
class LocalAws:
    """A running local AWS; use as a context manager or call stop()."""

    endpoint_url: str
    region: str
    _process: subprocess.Popen[str] = field(repr=False)

    def client_environment(self) -> dict[str, str]:
        """The environment variables that point boto3 (and the AWS CLI) at this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            **FAKE_CREDENTIALS,
        }

    def export_environment(self) -> None:
        os.environ.update(self.client_environment())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server process has used so far, read from /proc (Linux)."""
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        user_ticks, system_ticks = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
        return (user_ticks + system_ticks) / os.sysconf("SC_CLK_TCK")

    def register_device(self, user_pool_id: str, username: str, device_name: str) -> str:
        """Give a user a confirmed, remembered device, as if it had signed in from it; its DeviceKey."""
        answer = self._tooling(
            "POST", "devices", {"userPoolId": user_pool_id, "username": username, "deviceName": device_name}
        )
        return str(answer["deviceKey"])

    def seed_users(self, user_pool_id: str, users: list[dict[str, Any]]) -> int:
        """Users put straight into the local pool, for a benchmark's set-up (see cognito_extensions)."""
        return int(self._tooling("POST", "users", {"userPoolId": user_pool_id, "users": users})["seeded"])

    def delivery_counts(self) -> dict[tuple[str, str], DeliveryCounts]:
        """Invitations and password-reset codes sent so far, per (user pool id, username)."""
        return {
            (row["userPoolId"], row["username"]): DeliveryCounts(
                row["invitations"], row["passwordResetCodes"]
            )
            for row in self._tooling("GET", "delivery-counts")["counts"]
        }

    def reset_delivery_counts(self) -> None:
        self._tooling("DELETE", "delivery-counts")

    def enforce_quotas(self, enforced: bool = True, scale: float | QuotaScale = 1.0) -> None:
        """Throttle Cognito calls over their quota category's rate (times its `scale`), account-wide, as
        Cognito does."""
        scales = scale.as_json() if isinstance(scale, QuotaScale) else {"scale": scale}
        self._tooling("PUT", "quotas", {"enforced": enforced, **scales})

    def quota_report(self) -> QuotaReport:
        answer = self._tooling("GET", "quotas")
        return QuotaReport(
            answer["enforced"],
            answer["scale"],
            Counter(answer["allowed"]),
            Counter(answer["throttled"]),
            {
                category: Counter({int(second): count for second, count in seconds.items()})
                for category, seconds in answer["allowed_per_second"].items()
            },
        )

    def request_counts(self) -> Counter[str]:
        """The AWS requests answered so far (or since the last reset), per operation."""
        return Counter(self._tooling("GET", "requests")["counts"])

    def reset_request_counts(self) -> None:
        self._tooling("DELETE", "requests")

    def calls(self) -> list[Call]:
        """Every (principal, IAM action, resource) the server answered so far, or since the last reset."""
        return [
            Call(
                row["principal"], row["action"], row["resource"], row["condition_key"], row["condition_value"]
            )
            for row in self._tooling("GET", "calls")["calls"]
        ]

    def reset_calls(self) -> None:
        self._tooling("DELETE", "calls")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _tooling(self, method: str, route: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.endpoint_url}{TOOLING_PREFIX}{route}",
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as error:
            refusal = json.load(error)
            raise LocalToolingError(refusal["error"], refusal["message"]) from None
        return answer


def start_local_aws(port: int = 0, region: str = REGION) -> LocalAws:
    """Start the server in a child process (port 0 picks a free one) and return its endpoint."""
    process = subprocess.Popen(
        [sys.executable, "-m", "local_aws.server", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # Out of the starter's process group: a terminal's Ctrl-C reaches the starter alone, which stops its
        # clients before the server (closing stdin, or stop()).
        start_new_session=True,
    )
    assert process.stdout is not None
    ready = threading.Timer(STARTUP_TIMEOUT_SECONDS, process.kill)
    ready.start()
    endpoint_url = process.stdout.readline().strip()
    ready.cancel()
    if not endpoint_url.startswith("http://"):
        process.kill()
        reason = endpoint_url.removeprefix("error: ") or f"it exited with code {process.wait()}"
        raise LocalAwsError(f"the local AWS server did not start: {reason}")
    return LocalAws(endpoint_url=endpoint_url, region=region, _process=process)


def _with_tooling(quotas: QuotaEnforcer) -> WsgiApp:
    """moto's WSGI app behind the quota enforcer, the request counter and the access log, with the /_local/
    routes answered before them."""
    requests = RequestCounter(quotas)
    access = AccessLog(requests)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(TOOLING_PREFIX):
            return access(environ, start_response)
        route = path.removeprefix(TOOLING_PREFIX)
        status, answer = _tooling_answer(environ, route, quotas, requests, access)
        payload = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    return app


def _tooling_answer(
    environ: dict[str, Any], route: str, quotas: QuotaEnforcer, requests: RequestCounter, access: AccessLog
) -> tuple[str, dict[str, Any]]:
    method = environ["REQUEST_METHOD"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length)) if length else {}
    if (method, route) == ("POST", "devices"):
        try:
            key = cognito_extensions.register_device(body["userPoolId"], body["username"], body["deviceName"])
        except JsonRESTError as error:
            return "404 Not Found", {"error": error.error_type, "message": error.message}
        return "200 OK", {"deviceKey": key}
    if (method, route) == ("POST", "users"):
        try:
            seeded = cognito_extensions.seed_users(body["userPoolId"], body["users"])
        except JsonRESTError as error:
            return "404 Not Found", {"error": error.error_type, "message": error.message}
        return "200 OK", {"seeded": seeded}
    if (method, route) == ("GET", "delivery-counts"):
        counts = [
            {
                "userPoolId": pool_id,
                "username": username,
                "invitations": sent.invitations,
                "passwordResetCodes": sent.password_reset_codes,
            }
            for (pool_id, username), sent in cognito_extensions.delivery_counts().items()
        ]
        return "200 OK", {"counts": counts}
    if (method, route) == ("DELETE", "delivery-counts"):
        cognito_extensions.reset_delivery_counts()
        return "200 OK", {}
    if (method, route) == ("PUT", "quotas"):
        try:
            scale = QuotaScale(float(body.get("scale", 1.0)), dict(body.get("categories") or {}))
            quotas.enforce(bool(body["enforced"]), scale)
        except ValueError as error:
            return "400 Bad Request", {"error": "InvalidScale", "message": str(error)}
        return "200 OK", {}
    if (method, route) == ("GET", "quotas"):
        return "200 OK", quotas.report()
    if (method, route) == ("GET", "requests"):
        return "200 OK", {"counts": requests.counts()}
    if (method, route) == ("DELETE", "requests"):
        requests.reset()
        return "200 OK", {}
    if (method, route) == ("GET", "calls"):
        return "200 OK", {"calls": access.calls()}
    if (method, route) == ("DELETE", "calls"):
        access.reset()
        return "200 OK", {}
    return "404 Not Found", {"error": "UnknownRoute", "message": f"{method} {TOOLING_PREFIX}{route}"}


def _stop_when_stdin_closes() -> None:
    sys.stdin.read()
    os._exit(0)  # the serving thread never returns by itself


def serve(port: int) -> None:
    cognito_extensions.install()
    sqs_extensions.install()
    dynamodb_atomicity.install()
    moto_speedups.install()
    try:
        server = ThreadedWsgiServer(
            _with_tooling(QuotaEnforcer(DomainDispatcherApplication(create_backend_app))),
            host=LOOPBACK,
            port=port,
        )
    except OSError as error:  # the starter reads this line instead of the endpoint
        print(f"error: {LOOPBACK}:{port}: {error.strerror}", flush=True)
        sys.exit(1)
    threading.Thread(target=_stop_when_stdin_closes, name="parent-watch", daemon=True).start()
    print(f"http://{LOOPBACK}:{server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="moto's server with the local tooling (see module doc)")
    parser.add_argument("--port", type=int, default=0)
    serve(parser.parse_args().port)
