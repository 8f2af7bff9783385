"""A stand-in for the public Powertools layer: requirements.txt's pins, boto3 included (MiniStack runs the
functions on its own Python, which has botocore but no boto3), published under the ARN the stack references.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from deploy_check import DeployCheckProblem
from deploy_check.assets import zip_directory
from deploy_check.template import LayerVersion


class LayerProblem(DeployCheckProblem):
    """The layer could not be built or published; the message says which and why."""


def build_layer(python: Path, requirements: Path, cache_dir: Path) -> Path:
    """A layer zip (`python/` at its root, as Lambda expects) of `requirements`, installed by `python`, the
    interpreter that will run the functions, so that compiled packages (pydantic-core) fit it. Kept in
    `cache_dir` per content of the requirements file."""
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    layer_zip = cache_dir / f"powertools-stand-in-{digest}.zip"
    if layer_zip.is_file():
        return layer_zip
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deploy-check-layer-") as build:
        install = subprocess.run(
            [
                str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                "--target", str(Path(build) / "python"), "-r", str(requirements),
            ],
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if install.returncode != 0:
            last_line = (install.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise LayerProblem(f"{requirements}: pip could not install the layer's packages: {last_line}")
        partial = layer_zip.with_suffix(".partial")
        partial.write_bytes(zip_directory(Path(build)))
        partial.rename(layer_zip)
    return layer_zip


def publish_layer(lambda_client: Any, layer: LayerVersion, layer_zip: Path) -> None:
    """Publish `layer_zip` as `layer`'s version number, with empty placeholder versions before it (a layer's
    versions are numbered from 1), readable by every account as the public layer is."""
    placeholder = io.BytesIO()
    zipfile.ZipFile(placeholder, "w").close()
    for number in range(1, layer.version + 1):
        content = layer_zip.read_bytes() if number == layer.version else placeholder.getvalue()
        published = lambda_client.publish_layer_version(
            LayerName=layer.name,
            Description=(
                "deploy-check: stand-in built from requirements.txt"
                if number == layer.version
                else "deploy-check: placeholder, so that the pinned version number exists"
            ),
            Content={"ZipFile": content},
        )
        if published["Version"] != number:
            raise LayerProblem(
                f"{layer.arn}: the emulator numbered version {number} as {published['Version']} "
                "(the layer existed already)"
            )
    lambda_client.add_layer_version_permission(
        LayerName=layer.name,
        VersionNumber=layer.version,
        StatementId="public",
        Action="lambda:GetLayerVersion",
        Principal="*",
    )
