"""AdminListDevices's params."""

from typing import Annotated

from pydantic import StringConstraints

from cognito_workers.params import QueryLimitType, UserParams

PaginationTokenType = Annotated[str, StringConstraints(min_length=1, pattern=r"^\S+$")]


class AdminListDevicesParams(UserParams):
    Limit: QueryLimitType | None = None
    PaginationToken: PaginationTokenType | None = None
