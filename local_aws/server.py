"""Start moto's server on a free loopback port, with the Cognito operations moto lacks filled in."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from types import TracebackType

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from local_aws import cognito_extensions, moto_speedups

LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
# moto accepts any credentials; boto3 still needs some to sign requests.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@dataclass
class LocalAws:
    """A running moto server; use as a context manager or call stop()."""

    endpoint_url: str
    region: str
    _server: ThreadedMotoServer = field(repr=False)

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

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LocalAws:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def start_local_aws(port: int = 0, region: str = REGION) -> LocalAws:
    """Start moto's server in this process (port 0 picks a free one) and return its endpoint."""
    cognito_extensions.install()
    moto_speedups.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the workers' logs
    server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    host, bound_port = server.get_host_and_port()
    return LocalAws(endpoint_url=f"http://{host}:{bound_port}", region=region, _server=server)
