"""The HR system's lifecycle events (EventBridge detail-types) and how their fields map onto Cognito."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from cognito_workers.catalog import PLANNER
from cognito_workers.contracts import Token
from cognito_workers.errors import CommandRejected, describe_validation_error
from cognito_workers.params import AttributeNameType, AttributeValueType, GroupNameType, UsernameType

DEFAULT_DELETE_AFTER_DAYS = 30
# Where the joiner stores the person's employeeId on the user: reconciliation matches users by it.
EMPLOYEE_ID_ATTRIBUTE = "custom:employeeId"

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

    employee_id: Token = Field(
        alias="employeeId",
        description="The HR system's id of the employee: who the person is. The joiner stores it on the "
        "user (`custom:employeeId`); an event without `username` takes its username from it.",
    )
    username: UsernameType | None = Field(
        default=None,
        description="The Cognito username. Default: the employeeId, lower-cased, as the joiner derived it "
        "(the event is rejected if that is no valid username).",
    )
    event_id: Token | None = Field(
        default=None,
        alias="eventId",
        description="The producer's own id of the event, in place of EventBridge's: the id of its plan, so "
        "that an event published again with the same id is planned once (the reconciler derives it from "
        "the snapshot and the person). Default: the EventBridge event id.",
    )
    sequence: int | None = Field(
        default=None,
        ge=0,
        description="Should increase with every event the HR system publishes for the employee: a person's "
        "events are ordered by it. Events without one come before every event with one, in the order of "
        "their time; ties go joiner, mover, leaver, rehire, then by event id. An event older than one "
        "already started for the person is skipped as stale.",
    )
    dry_run: bool = Field(
        default=False,
        alias="dryRun",
        description="`true`: publish the plan (`PlanComputed`) and apply nothing.",
    )

    @property
    def cognito_username(self) -> str:
        return self.username or derived_username(self.employee_id)


def derived_username(employee_id: str) -> str:
    """The documented rule for an event without `username`: the employeeId, lower-cased."""
    return employee_id.lower()


_KIND_DESCRIPTION = "If given, must be the event's detail-type."
_ATTRIBUTE_NAMES = "Cognito's standard attribute names as they are, any other name as `custom:<name>`"


class EmployeeOnboarded(HrEvent):
    """A joiner: AdminCreateUser, then AdminAddUserToGroup for each group."""

    kind: Literal["EmployeeOnboarded"] = Field(default="EmployeeOnboarded", description=_KIND_DESCRIPTION)
    email: Email = Field(description="The `email` attribute, set as verified (`email_verified`).")
    phone_number: PhoneNumber | None = Field(
        default=None, alias="phoneNumber", description="The `phone_number` attribute, in E.164 form."
    )
    given_name: Name | None = Field(
        default=None, alias="givenName", description="The `given_name` attribute."
    )
    family_name: Name | None = Field(
        default=None, alias="familyName", description="The `family_name` attribute."
    )
    groups: list[GroupNameType] = Field(
        default_factory=list, description="Groups the user is added to once created. Default: none."
    )
    attributes: dict[AttributeKey, AttributeValueType] = Field(
        default_factory=dict,
        description=f"More attributes to create the user with, by name: {_ATTRIBUTE_NAMES}. Default: none.",
    )
    send_invitation: bool = Field(
        alias="sendInvitation",
        description="`true`: Cognito e-mails the invitation with a temporary password; `false`: the user is "
        "created and no message is sent (`MessageAction: SUPPRESS`).",
    )

    @property
    def user_attributes(self) -> dict[str, str]:
        """The user's attributes as Cognito names them, those the event gives: what the joiner creates the
        user with, and what reconciliation compares a user with."""
        attributes = {
            "email": self.email,
            "email_verified": "true",
            "phone_number": self.phone_number,
            "given_name": self.given_name,
            "family_name": self.family_name,
            **{cognito_attribute(name): value for name, value in self.attributes.items()},
            EMPLOYEE_ID_ATTRIBUTE: self.employee_id,  # how reconciliation finds the person's user
        }
        return {name: value for name, value in attributes.items() if value is not None}


class EmployeeUpdated(HrEvent):
    """A mover: the attributes it gives are set or deleted, then the user's groups become the set it gives."""

    kind: Literal["EmployeeUpdated"] = Field(default="EmployeeUpdated", description=_KIND_DESCRIPTION)
    groups: list[GroupNameType] | None = Field(
        default=None,
        description="Every group the user is to be in: the others are left, the missing ones joined. "
        "Omitted: the groups are unchanged.",
    )
    attributes: dict[AttributeKey, AttributeValueType | None] | None = Field(
        default=None,
        description=f"Attributes to set, by name: {_ATTRIBUTE_NAMES}; a `null` value deletes the attribute. "
        "Omitted: the attributes are unchanged.",
    )


class EmployeeOffboarded(HrEvent):
    """A leaver: the user is disabled, signed out, its devices forgotten and its groups left, then deleted."""

    kind: Literal["EmployeeOffboarded"] = Field(default="EmployeeOffboarded", description=_KIND_DESCRIPTION)
    delete_after_days: int = Field(
        default=DEFAULT_DELETE_AFTER_DAYS,
        ge=0,
        le=3650,
        alias="deleteAfterDays",
        description="Days after the event's time at which the user is deleted (an EventBridge Scheduler "
        "schedule, cancelled by a rehire); `0`: deleted at once, as the plan's last step.",
    )


class EmployeeRehired(EmployeeUpdated):
    """A returning employee: the scheduled deletion is cancelled and the user enabled again, then the
    attributes and groups the event gives are applied as for EmployeeUpdated."""

    kind: Literal["EmployeeRehired"] = Field(default="EmployeeRehired", description=_KIND_DESCRIPTION)  # type: ignore[assignment]


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
    if event.username is None:
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


_RELEASE_NOTE = (
    f"`{PLANNER.release_detail_type}` is no contract: the planner reads no field of its detail (the operator "
    "CLI's `release` puts `releasedBy` and `reason` in it, for the audit trail)."
)


def hr_event_reference() -> str:
    """The field reference of every HR event, one markdown table per detail-type, from the models' JSON Schema
    (the README holds it between its `hr-event-fields` markers)."""
    sections = []
    for detail_type, model in EVENT_TYPES.items():
        schema = model.model_json_schema(by_alias=True)
        rows = [
            "| " + " | ".join(_cell(text) for text in _row(name, field, name in schema["required"])) + " |"
            for name, field in schema["properties"].items()
        ]
        table = ["| field | type | required | description |", "|---|---|---|---|", *rows]
        sections.append(
            "\n\n".join([f"#### `{detail_type}`", _cell(schema["description"]), "\n".join(table)])
        )
    return "\n\n".join([*sections, _RELEASE_NOTE]) + "\n"


def _row(name: str, field: dict[str, Any], required: bool) -> tuple[str, str, str, str]:
    default = field.get("default")
    requirement = "yes" if required else "no" if default is None else f"no (default `{json.dumps(default)}`)"
    return f"`{name}`", _type_of(field), requirement, field["description"]


def _type_of(schema: dict[str, Any], nested: bool = False) -> str:
    if "anyOf" in schema:
        either = " or ".join(_type_of(option, nested=True) for option in schema["anyOf"])
        return f"({either})" if nested else either
    if "const" in schema:
        return f"`{json.dumps(schema['const'])}`"
    if schema["type"] == "array":
        return f"array of {_type_of(schema['items'], nested=True)}"
    if schema["type"] == "object":
        names = _bounds(schema.get("propertyNames", {}))
        return f"object of names ({names}) to {_type_of(schema['additionalProperties'], nested=True)}"
    bounds = _bounds(schema)
    return f"{schema['type']} ({bounds})" if bounds else schema["type"]


def _bounds(schema: dict[str, Any]) -> str:
    """A string's length and pattern, or a number's range, as a README reader needs them."""
    bounds = []
    if "maxLength" in schema:
        minimum = schema.get("minLength", 0)
        bounds.append(
            f"{minimum}-{schema['maxLength']} characters"
            if minimum
            else f"≤ {schema['maxLength']} characters"
        )
    if "minimum" in schema:
        bounds.append(
            f"{schema['minimum']}-{schema['maximum']}" if "maximum" in schema else f"≥ {schema['minimum']}"
        )
    if "pattern" in schema:
        bounds.append(f"matching `{schema['pattern']}`")
    return ", ".join(bounds)


def _cell(text: str) -> str:
    """Text fit for a markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
