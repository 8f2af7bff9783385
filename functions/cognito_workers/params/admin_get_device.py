"""AdminGetDevice's params."""

from cognito_workers.params import DeviceParams


class AdminGetDeviceParams(DeviceParams):
    pass
