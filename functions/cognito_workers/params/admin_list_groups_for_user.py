"""AdminListGroupsForUser's params."""

from typing import Annotated

from pydantic import StringConstraints

from cognito_workers.params import QueryLimitType, UserParams

NextTokenType = Annotated[str, StringConstraints(min_length=1, max_length=131072, pattern=r"^\S+$")]


class AdminListGroupsForUserParams(UserParams):
    Limit: QueryLimitType | None = None
    NextToken: NextTokenType | None = None
