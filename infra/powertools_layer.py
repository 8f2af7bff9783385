"""Which Powertools release each public Powertools v3 layer version carries.

Lambda numbers a layer's versions 1, 2, 3, ... and the number says nothing of what is inside, so the
mapping is kept here, each entry with the public page it was read from. The template tests hold
requirements.txt's Powertools pin (what the tests run) and cdk.json's `powertoolsLayerVersion` (what runs
in Lambda) to one entry of it, and docs/deploy.md's table to all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

_PULL = "https://github.com/aws-powertools/powertools-lambda-python/pull"


@dataclass(frozen=True)
class LayerRelease:
    layer_version: int
    powertools_version: str
    source: str


# The same number for every Python runtime and both architectures of the v3 layer.
LAYER_RELEASES: tuple[LayerRelease, ...] = (
    LayerRelease(2, "3.1.0", f"{_PULL}/5344"),
    LayerRelease(3, "3.2.0", f"{_PULL}/5426"),
    LayerRelease(5, "3.4.0", f"{_PULL}/5785"),
    LayerRelease(6, "3.4.1", f"{_PULL}/5869"),
    LayerRelease(27, "3.23.0", f"{_PULL}/7757"),
)

POWERTOOLS_BY_LAYER: dict[int, str] = {
    entry.layer_version: entry.powertools_version for entry in LAYER_RELEASES
}
