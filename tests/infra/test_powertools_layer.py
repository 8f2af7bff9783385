"""The Powertools the tests run (requirements.txt) is the Powertools the functions run (cdk.json's layer)."""

from __future__ import annotations

import re

from infra.powertools_layer import LAYER_RELEASES, POWERTOOLS_BY_LAYER, LayerRelease
from tests.infra.conftest import REPO_ROOT, cdk_json_context

DEPLOY_DOC = REPO_ROOT / "docs" / "deploy.md"
TABLE_HEADER = "| layer version | Powertools release | read from |"


def requirements_powertools_pin() -> str:
    text = (REPO_ROOT / "requirements.txt").read_text()
    (version,) = re.findall(r"^aws-lambda-powertools(?:\[[^\]]*\])?==(\S+)$", text, flags=re.MULTILINE)
    return str(version)


def documented_layer_releases() -> list[LayerRelease]:
    """The rows of docs/deploy.md's layer table, in their order."""
    lines = DEPLOY_DOC.read_text().splitlines()
    start = lines.index(TABLE_HEADER) + 2  # past the header and its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        layer_version, powertools_version, source = (cell.strip(" `") for cell in line.strip("|").split("|"))
        rows.append(LayerRelease(int(layer_version), powertools_version, source))
    return rows


def test_the_pinned_layer_carries_the_powertools_release_the_tests_run() -> None:
    # Given the layer version cdk.json deploys and the Powertools version requirements.txt installs
    layer_version = cdk_json_context()["powertoolsLayerVersion"]
    tested = requirements_powertools_pin()
    # Then the layer is one whose release is known, and that release is the one tested
    assert layer_version in POWERTOOLS_BY_LAYER, f"layer {layer_version} is not in infra/powertools_layer.py"
    assert POWERTOOLS_BY_LAYER[layer_version] == tested


def test_the_deploy_guide_shows_the_layer_table_as_it_is_kept() -> None:
    assert documented_layer_releases() == list(LAYER_RELEASES)
