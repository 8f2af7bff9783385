"""AdminForgetDevice's params."""

from cognito_workers.params import DeviceParams


class AdminForgetDeviceParams(DeviceParams):
    pass
