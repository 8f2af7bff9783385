"""What a reconciliation may touch and when it holds: cdk.json's `reconciliation` knob, one model for the
stack, the reconciler function (its environment) and the operator CLI."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cognito_workers.params import GroupNameType

Share = Annotated[float, Field(ge=0, le=1)]


class ReconciliationPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    managed_groups: list[GroupNameType] = Field(
        alias="managedGroups",
        description="The groups the lifecycle manages: a user's membership of these is compared with the "
        "snapshot's `groups`; other groups are not read.",
    )
    unmanaged_groups: list[GroupNameType] = Field(
        alias="unmanagedGroups",
        description="Members of these groups (administrators, service accounts) are never touched.",
    )
    unmanaged_username_patterns: list[str] = Field(
        alias="unmanagedUsernamePatterns",
        description="Users whose username matches one of these regular expressions are never touched.",
    )
    fallback_match: list[Literal["username", "email"]] = Field(
        alias="fallbackMatch",
        description="How a user without custom:employeeId (one that predates the stack) matches a row, in "
        "order: `username` (the row's, or the one derived from its employeeId), `email` (verified).",
    )
    max_deprovision_share: Share = Field(
        alias="maxDeprovisionShare",
        description="A run that would deprovision more than this share of the managed users is held.",
    )
    min_row_share: Share = Field(
        alias="minRowShare",
        description="A snapshot with fewer rows than this share of the previous snapshot's is held.",
    )
    max_bad_row_share: Share = Field(
        alias="maxBadRowShare", description="A snapshot with more than this share of bad rows is held."
    )

    @field_validator("unmanaged_username_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is no regular expression ({error})") from None
        return patterns

    def unmanaged_username(self, username: str) -> bool:
        return any(re.search(pattern, username) for pattern in self.unmanaged_username_patterns)
