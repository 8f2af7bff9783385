"""The user pool the workers manage: imported by id, or created as a sandbox when no id is given.

The workers call Cognito in their own Region, so an imported pool must live in the Region the stack is
deployed to (a pool id starts with its Region); a template rule stops a deployment elsewhere before any
resource is created.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from cognito_workers.lifecycle.events import EMPLOYEE_ID_ATTRIBUTE
from infra.nag import acknowledge

# The joiner stores the person's employeeId on the user; reconciliation matches users by it.
EMPLOYEE_ID_CUSTOM_ATTRIBUTE = EMPLOYEE_ID_ATTRIBUTE.removeprefix("custom:")


class ManagedUserPool(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool_id: str,
        pool_name: str,
        sandbox_groups: Sequence[str],
        sandbox_custom_attributes: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.sandbox = not user_pool_id
        self.app_client: cognito.UserPoolClient | None = None
        if user_pool_id:
            self.pool: cognito.IUserPool = cognito.UserPool.from_user_pool_id(self, "Imported", user_pool_id)
            region = user_pool_id.split("_", 1)[0]
            cdk.CfnRule(
                self,
                "PoolInStackRegion",
                assertions=[
                    cdk.CfnRuleAssertion(
                        assert_=cdk.Fn.condition_equals(cdk.Aws.REGION, region),
                        assert_description=f"User pool {user_pool_id} is in {region}: deploy there.",
                    )
                ],
            )
        else:
            self.pool = self._sandbox(pool_name, sandbox_groups, sandbox_custom_attributes)

    @property
    def user_pool_id(self) -> str:
        return self.pool.user_pool_id

    @property
    def user_pool_arn(self) -> str:
        return self.pool.user_pool_arn

    def _sandbox(
        self, pool_name: str, groups: Sequence[str], custom_attributes: Sequence[str]
    ) -> cognito.UserPool:
        """A pool for trying the workers out: what the demo and the local runtime provision."""
        pool = cognito.UserPool(
            self,
            "Sandbox",
            user_pool_name=pool_name,
            self_sign_up_enabled=False,
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            device_tracking=cognito.DeviceTracking(
                challenge_required_on_new_device=False, device_only_remembered_on_user_prompt=False
            ),
            custom_attributes={
                name: cognito.StringAttribute(min_len=0, max_len=256, mutable=True)
                for name in (EMPLOYEE_ID_CUSTOM_ATTRIBUTE, *custom_attributes)
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=False,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        for group in groups:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{''.join(part.capitalize() for part in group.replace('_', '-').split('-'))}",
                user_pool_id=pool.user_pool_id,
                group_name=group,
            )
        # AdminInitiateAuth and AdminRespondToAuthChallenge need an app client with the admin flow.
        self.app_client = pool.add_client(
            "AdminClient",
            user_pool_client_name=f"{pool_name}-admin",
            auth_flows=cognito.AuthFlow(admin_user_password=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
        )
        acknowledge(
            pool,
            "AwsSolutions-COG2",
            "Sandbox pool for trying the workers: its users are created by the demo flows, and MFA would stop"
            " the AdminInitiateAuth demo at a challenge. A real deployment imports its own pool (userPoolId),"
            " whose MFA settings stay its owner's.",
        )
        acknowledge(
            pool,
            "AwsSolutions-COG8",
            "Sandbox pool on the Essentials feature plan: Plus (threat protection) is billed per monthly"
            " active user and adds nothing to trying the workers out. An imported production pool keeps its"
            " own plan.",
        )
        return pool
