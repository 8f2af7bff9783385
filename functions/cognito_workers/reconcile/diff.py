"""Matching the snapshot's people with the pool's users, and the drift between them as HR lifecycle events.

A row matches the user carrying its employeeId (custom:employeeId). A user without one (it predates the
stack) matches by the policy's fallback, in order: the row's username (or the one derived from its
employeeId), then its verified email; such a match is linked (the id set) by the repair, never created
again. Two users for one row, or one user for two rows, are ambiguous: reported and left alone. So are
unmanaged users (administrators, service accounts): never touched.

Per person: a current employee without a user is a joiner; with a disabled user, a rehire; with attribute or
group drift, a mover; a managed, enabled user no current employee matches (or a terminated one does) is a
leaver. Only what a row gives is compared: its attributes, and its groups among the managed ones.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from cognito_workers.lifecycle.events import EmployeeOnboarded
from cognito_workers.reconcile.policy import ReconciliationPolicy
from cognito_workers.reconcile.pool import Pool, PoolUser
from cognito_workers.reconcile.scratch import scratch_database
from cognito_workers.reconcile.snapshot import BadRow, Row

DriftKind = Literal["joiner", "mover", "leaver", "rehire", "ambiguous", "unmanaged", "badRow"]
# The kinds a repair publishes, and the HR event each one is.
EVENT_OF_KIND: dict[str, str] = {
    "joiner": "EmployeeOnboarded",
    "mover": "EmployeeUpdated",
    "leaver": "EmployeeOffboarded",
    "rehire": "EmployeeRehired",
}
_CUSTOM_PREFIX = "custom:"
# The rows matching a user by fallback, kept until every row is read: as many as users predate the stack.
_CLAIMS_SCHEMA = "CREATE TABLE claims (username TEXT, line INTEGER, joiner TEXT, terminated BOOLEAN);"


@dataclass(frozen=True)
class PersonDrift:
    """One person's line of the report: what differs, and the HR event that repairs it (if any)."""

    kind: DriftKind
    employee_id: str | None
    username: str | None
    line: int | None = None
    changes: tuple[str, ...] = ()
    detail: dict[str, Any] | None = None
    observed_sub: str = ""  # the user as read, so that a user created again is a new repair
    linked: bool = False

    @property
    def detail_type(self) -> str | None:
        return EVENT_OF_KIND.get(self.kind)

    def event_id(self, snapshot_digest: str) -> str:
        """Derived from the snapshot's content and the person as found: the same snapshot against the same
        pool gives the same id, which the planner plans once."""
        identity = [
            snapshot_digest,
            self.kind,
            self.employee_id,
            self.username,
            self.observed_sub,
            self.detail,
        ]
        digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
        return f"reconcile-{digest[:40]}"


class Differ:
    """Compares a snapshot's rows with a pool read before it; `counts` are complete once diff() is through.
    The users matched are marked in the pool (one Differ at a time)."""

    def __init__(self, pool: Pool, policy: ReconciliationPolicy) -> None:
        self._pool = pool
        self._policy = policy
        self._managed_groups = frozenset(policy.managed_groups)
        pool.forget_matches()
        # Users matched by fallback: linked once every row is read, unless two rows claim one.
        self._claims = scratch_database(self, _CLAIMS_SCHEMA)
        self.counts: Counter[str] = Counter()

    def diff(self, rows: Iterable[Row | BadRow]) -> Iterator[PersonDrift]:
        """Every person who drifted, is ambiguous, unmanaged or a bad row; the unchanged are only counted."""
        for row in rows:
            if isinstance(row, BadRow):
                yield self._counted(PersonDrift("badRow", row.employee_id, None, row.line, (row.reason,)))
            else:
                yield from self._row(row)
        for username, rows_claiming in self._claimed():
            user = self._pool.user(username)
            assert user is not None  # claimed as found in the pool
            if len(rows_claiming) > 1:
                self._pool.match([username])
                lines = ", ".join(str(row.line) for row in rows_claiming)
                for row in rows_claiming:
                    yield self._ambiguous(row, f"user {username} matches the rows on lines {lines}")
            else:
                yield from self._compare(rows_claiming[0], user, linked=True)
        for user in self._pool.unmatched():
            if not user.unmanaged and user.enabled:
                yield self._counted(self._leaver(user.employee_id or user.username, user, None))

    def _claim(self, username: str, row: Row) -> None:
        joiner = row.joiner.model_dump_json(by_alias=True, exclude_unset=True)
        self._claims.execute(
            "INSERT INTO claims VALUES (?, ?, ?, ?)", (username, row.line, joiner, row.terminated)
        )

    def _claimed(self) -> Iterator[tuple[str, list[Row]]]:
        """Each user claimed, in the order of its first claim, with the rows claiming it in their order."""
        claims = self._claims.execute(
            "SELECT username, line, joiner, terminated FROM claims "
            "ORDER BY min(rowid) OVER (PARTITION BY username), rowid"
        )
        for username, rows in itertools.groupby(claims, key=lambda claim: claim[0]):
            yield (
                username,
                [
                    Row(line, EmployeeOnboarded.model_validate_json(joiner), bool(terminated))
                    for _, line, joiner, terminated in rows
                ],
            )

    def _row(self, row: Row) -> Iterator[PersonDrift]:
        by_id = self._pool.with_employee_id(row.employee_id)
        if len(by_id) > 1:
            self._pool.match(user.username for user in by_id)
            names = ", ".join(sorted(user.username for user in by_id))
            yield self._ambiguous(row, f"users {names} all carry employeeId {row.employee_id}")
            return
        if by_id:
            yield from self._compare(row, by_id[0], linked=False)
            return
        candidates = self._fallback(row)
        if len(candidates) > 1:
            self._pool.match(user.username for user in candidates)
            names = ", ".join(sorted(user.username for user in candidates))
            yield self._ambiguous(row, f"users {names} all match by verified email")
        elif candidates:
            self._claim(candidates[0].username, row)
        elif row.terminated:
            self.counts["unchanged"] += 1  # gone, and no user left
        elif (taken := self._pool.user(row.username)) is not None:
            self._pool.match([taken.username])
            owner = taken.employee_id or "no employeeId"
            yield self._ambiguous(row, f"username {row.username} is taken by a user of {owner}")
        else:
            joiner = row.joiner.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            yield self._counted(PersonDrift("joiner", row.employee_id, row.username, row.line, detail=joiner))

    def _fallback(self, row: Row) -> list[PoolUser]:
        for rule in self._policy.fallback_match:
            if rule == "username":
                user = self._pool.user(row.username)
                found = [user] if user is not None and user.employee_id is None else []
            else:
                found = self._pool.with_verified_email(row.joiner.email.lower())
            if found:
                return found
        return []

    def _compare(self, row: Row, user: PoolUser, *, linked: bool) -> Iterator[PersonDrift]:
        self._pool.match([user.username])
        if user.unmanaged:
            yield self._counted(PersonDrift("unmanaged", row.employee_id, user.username, row.line))
            return
        if row.terminated:
            if user.enabled:
                yield self._counted(self._leaver(row.employee_id, user, row.line))
            else:
                self.counts["unchanged"] += 1
            return
        attributes = {
            _hr_name(name): value
            for name, value in row.joiner.user_attributes.items()
            if user.attributes.get(name) != value
        }
        changes = [f"attribute {name}" for name in sorted(attributes)]
        detail: dict[str, Any] = {"employeeId": row.employee_id, "username": user.username}
        if attributes:
            detail["attributes"] = attributes
        if "groups" in row.joiner.model_fields_set:
            desired = set(row.joiner.groups)
            joined, left = sorted(desired & self._managed_groups - user.groups), sorted(user.groups - desired)
            if joined or left or not user.enabled:
                detail["groups"] = list(row.joiner.groups)
            changes += [f"group +{group}" for group in joined] + [f"group -{group}" for group in left]
        if linked:
            changes.insert(0, "linked")
        if not user.enabled:
            kind: DriftKind = "rehire"
            changes.insert(0, "disabled")
        elif attributes or "groups" in detail:
            kind = "mover"
        else:
            self.counts["unchanged"] += 1
            return
        drift = PersonDrift(
            kind, row.employee_id, user.username, row.line, tuple(changes), detail, user.sub, linked
        )
        yield self._counted(drift)

    def _leaver(self, employee_id: str, user: PoolUser, line: int | None) -> PersonDrift:
        detail = {"employeeId": employee_id, "username": user.username}
        reason = "terminated" if line is not None else "in no row"
        return PersonDrift("leaver", employee_id, user.username, line, (reason,), detail, user.sub)

    def _ambiguous(self, row: Row, reason: str) -> PersonDrift:
        return self._counted(PersonDrift("ambiguous", row.employee_id, row.username, row.line, (reason,)))

    def _counted(self, drift: PersonDrift) -> PersonDrift:
        self.counts[drift.kind] += 1
        self.counts["linked"] += drift.linked
        return drift


def _hr_name(cognito_name: str) -> str:
    """The name an HR event gives an attribute: a custom attribute without its prefix (the planner adds it
    back), so that a 20-character custom name fits the event's attribute names."""
    return cognito_name.removeprefix(_CUSTOM_PREFIX)
