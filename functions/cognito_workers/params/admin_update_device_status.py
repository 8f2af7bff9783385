"""AdminUpdateDeviceStatus's params."""

from typing import Literal

from cognito_workers.params import DeviceParams


class AdminUpdateDeviceStatusParams(DeviceParams):
    DeviceRememberedStatus: Literal["remembered", "not_remembered"] | None = None
