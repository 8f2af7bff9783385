"""The HR system's lifecycle events (EventBridge detail-types) and how their fields map onto Cognito."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from cognito_workers.contracts import Token
from cognito_workers.errors import CommandRejected, describe_validation_error
from cognito_workers.params import AttributeNameType, AttributeValueType, GroupNameType, UsernameType

DEFAULT_DELETE_AFTER_DAYS = 30

# Cognito's standard attributes; any other name an HR event gives is a custom attribute.
STANDARD_ATTRIBUTES = frozenset(
    {
        "address", "birthdate", "email", "email_verified", "family_name", "gender", "given_name", "locale",
        "middle_name", "name", "nickname", "phone_number", "phone_number_verified", "picture",
        "preferred_username", "profile", "updated_at", "website", "zoneinfo",
    }
)  # fmt: skip

Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
PhoneNumber = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{1,14}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=256)]
AttributeKey = Annotated[str, StringConstraints(min_length=1, max_length=25)]


class HrEvent(BaseModel):
    # Built on first use: the planner's first record needs one event type's validator, not all four.
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, populate_by_name=True, defer_build=True
    )

    employee_id: Token = Field(alias="employeeId")
    sequence: int | None = Field(
        default=None,
        ge=0,
        description="Increases with every event the HR system publishes for this employee; when given, it "
        "orders the employee's events instead of the event time.",
    )
    dry_run: bool = Field(default=False, alias="dryRun", description="Compute and publish the plan only.")


class EmployeeOnboarded(HrEvent):
    kind: Literal["EmployeeOnboarded"] = "EmployeeOnboarded"
    username: UsernameType | None = Field(default=None, description="Default: the employeeId, lower-cased.")
    email: Email
    phone_number: PhoneNumber | None = Field(default=None, alias="phoneNumber")
    given_name: Name | None = Field(default=None, alias="givenName")
    family_name: Name | None = Field(default=None, alias="familyName")
    groups: list[GroupNameType] = Field(default_factory=list)
    attributes: dict[AttributeKey, AttributeValueType] = Field(default_factory=dict)
    send_invitation: bool = Field(alias="sendInvitation")

    @property
    def cognito_username(self) -> str:
        return self.username or self.employee_id.lower()


class EmployeeUpdated(HrEvent):
    kind: Literal["EmployeeUpdated"] = "EmployeeUpdated"
    username: UsernameType
    groups: list[GroupNameType] | None = Field(
        default=None, description="The desired set; omitted: unchanged."
    )
    attributes: dict[AttributeKey, AttributeValueType | None] | None = Field(
        default=None, description="Values to set; null deletes the attribute."
    )

    @property
    def cognito_username(self) -> str:
        return self.username


class EmployeeOffboarded(HrEvent):
    kind: Literal["EmployeeOffboarded"] = "EmployeeOffboarded"
    username: UsernameType
    delete_after_days: int = Field(default=DEFAULT_DELETE_AFTER_DAYS, ge=0, le=3650, alias="deleteAfterDays")

    @property
    def cognito_username(self) -> str:
        return self.username


class EmployeeRehired(EmployeeUpdated):
    """Enables the user again and restores the groups and attributes the event gives."""

    kind: Literal["EmployeeRehired"] = "EmployeeRehired"  # type: ignore[assignment]


LifecycleEvent = EmployeeOnboarded | EmployeeUpdated | EmployeeOffboarded | EmployeeRehired
EVENT_TYPES: dict[str, type[HrEvent]] = {
    model.model_fields["kind"].default: model
    for model in (EmployeeOnboarded, EmployeeUpdated, EmployeeOffboarded, EmployeeRehired)
}


def parse_lifecycle_event(detail_type: str, detail: object) -> LifecycleEvent:
    """The validated event, or a rejection naming the field and the reason."""
    model = EVENT_TYPES.get(detail_type)
    if model is None:
        raise CommandRejected("UnknownEventType", f"detail-type: {detail_type!r} is not a lifecycle event")
    try:
        event = model.model_validate(detail)
    except ValidationError as error:
        raise CommandRejected("InvalidEvent", describe_validation_error(error, "detail")) from None
    assert isinstance(event, EmployeeOnboarded | EmployeeUpdated | EmployeeOffboarded | EmployeeRehired)
    if isinstance(event, EmployeeOnboarded) and event.username is None:
        _check_derived_username(event.cognito_username)
    for name in getattr(event, "attributes", None) or {}:
        _check_attribute_name(cognito_attribute(name))
    return event


_USERNAME = TypeAdapter(UsernameType)
_ATTRIBUTE_NAME = TypeAdapter(AttributeNameType)


def _check_derived_username(username: str) -> None:
    try:
        _USERNAME.validate_python(username)
    except ValidationError as error:
        raise CommandRejected(
            "InvalidEvent", "detail.employeeId: cannot serve as a username; give detail.username"
        ) from error


def _check_attribute_name(name: str) -> None:
    try:
        _ATTRIBUTE_NAME.validate_python(name)
    except ValidationError:
        raise CommandRejected(
            "InvalidEvent", f"detail.attributes: {name!r} is not a valid attribute name"
        ) from None


def cognito_attribute(name: str) -> str:
    """HR attribute names map to Cognito's: standard ones as they are, the rest as custom attributes."""
    return name if name in STANDARD_ATTRIBUTES or name.startswith("custom:") else f"custom:{name}"
