"""The maximum-concurrency formula (infra/concurrency.py), checked against plain arithmetic."""

from __future__ import annotations

import math

import pytest

from cognito_workers.catalog import ACTIONS, QuotaCategory
from infra.concurrency import category_budgets
from tests.infra.conftest import REPO_ROOT, cdk_json_context


@pytest.fixture
def defaults() -> dict[QuotaCategory, int]:
    context = cdk_json_context()
    budgets = category_budgets(
        assumed_record_millis=context["assumedRecordMillis"], quota_overrides=context["quotaOverrides"]
    )
    return {category: budget.maximum_concurrency for category, budget in budgets.items()}


def test_every_category_of_the_catalog_has_a_budget(defaults: dict[QuotaCategory, int]) -> None:
    assert set(defaults) == {spec.quota for spec in ACTIONS}


def test_the_table_in_the_docs_is_what_the_formula_gives(defaults: dict[QuotaCategory, int]) -> None:
    # Given the per-category table in docs/deploy.md (category, R, actions, concurrency each, instances)
    names = {category.quota_name: category for category in QuotaCategory}
    rows = {}
    for line in (REPO_ROOT / "docs" / "deploy.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] in names:
            rows[cells[0]] = cells
    # Then it has a row per category of the catalog, with the numbers the formula gives
    assert set(rows) == {category.quota_name for category in defaults}
    for category, concurrency in defaults.items():
        name, rps, actions, each, instances, listed = rows[category.quota_name]
        members = sorted(spec.name for spec in ACTIONS if spec.quota is category)
        assert int(rps) == category.requests_per_second, name
        assert int(actions) == len(members), name
        assert int(each) == concurrency, name
        assert int(instances) == len(members) * concurrency, name
        assert sorted(item.strip() for item in listed.split(",")) == members, name


def test_a_raised_quota_raises_the_concurrency_of_its_actions_only() -> None:
    # Given an account whose UserCreation quota was raised to 100/s
    raised = category_budgets(assumed_record_millis=250, quota_overrides={"UserCreation": 100})
    default = category_budgets(assumed_record_millis=250, quota_overrides={})
    # Then each of its two actions may run ceil(100 / 4) = 25 instances, and no other category changes
    assert raised[QuotaCategory.USER_CREATION].maximum_concurrency == 25
    for category in default:
        if category is not QuotaCategory.USER_CREATION:
            assert raised[category].maximum_concurrency == default[category].maximum_concurrency


@pytest.mark.parametrize("millis", [1, 50, 100, 250, 400, 1000, 5000])
def test_any_one_action_can_reach_its_category_rate_within_lambdas_bounds(millis: int) -> None:
    rate = 1000 / millis
    for budget in category_budgets(assumed_record_millis=millis, quota_overrides={}).values():
        assert 2 <= budget.maximum_concurrency <= 1000
        if budget.maximum_concurrency < 1000:
            # one action's instances alone reach the category's rate, one instance fewer would not
            assert budget.maximum_concurrency * rate >= budget.requests_per_second
            assert budget.maximum_concurrency == 2 or (
                (budget.maximum_concurrency - 1) * rate < budget.requests_per_second
            )
        assert budget.maximum_concurrency == min(1000, max(2, math.ceil(budget.requests_per_second / rate)))


@pytest.mark.parametrize("millis", [1, 100, 250, 1000])
def test_the_lock_out_lane_keeps_up_with_lock_out_calls_at_the_whole_budget(millis: int) -> None:
    budget = category_budgets(assumed_record_millis=millis, quota_overrides={})[QuotaCategory.USER_UPDATE]
    # Each of a leaver's two lock-out calls comes back as an outcome, and its HR event came first: three
    # transitions of the lane for two calls
    transitions_per_second = 25 * 3 / 2
    assert budget.lock_out_lane_concurrency(2) == min(
        1000, max(2, math.ceil(transitions_per_second * millis / 1000))
    )
