"""The CLI's defaults: the stack's own names (cdk.json's context as the stack is deployed without overrides),
each replaced by an environment variable when set, and by the command's flag above both.

They are written here, not read from cdk.json: an installed CLI has no cdk.json beside it
(tests/cli/test_defaults.py checks that the two agree).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Default:
    """A default value and the environment variable that replaces it."""

    variable: str
    stack_value: str

    @property
    def value(self) -> str:
        return os.environ.get(self.variable) or self.stack_value

    def help(self, text: str) -> str:
        return f"{text} (default: ${self.variable}, else {self.stack_value})"


PREFIX = Default("COGNITO_LIFECYCLE_PREFIX", "cognito-lifecycle")
STACK_NAME = Default("COGNITO_LIFECYCLE_STACK_NAME", "CognitoLifecycleWorkers")
HR_SOURCE = Default("COGNITO_LIFECYCLE_HR_SOURCE", "hr.system")
OPERATOR_SOURCE = Default("COGNITO_LIFECYCLE_OPERATOR_SOURCE", "cognito.lifecycle.operator")
OUTCOME_SOURCE = Default("COGNITO_LIFECYCLE_OUTCOME_SOURCE", "cognito.workers")
RECONCILIATION = Default(
    "COGNITO_LIFECYCLE_RECONCILIATION",
    json.dumps(
        {
            "managedGroups": ["staff", "engineering", "managers", "contractors"],
            "unmanagedGroups": ["admins"],
            "unmanagedUsernamePatterns": ["^admin-", "^svc-"],
            "fallbackMatch": ["username", "email"],
            "maxDeprovisionShare": 0.05,
            "minRowShare": 0.9,
            "maxBadRowShare": 0.01,
        }
    ),
)
ALL = (PREFIX, STACK_NAME, HR_SOURCE, OPERATOR_SOURCE, OUTCOME_SOURCE, RECONCILIATION)
