"""What `cdk bootstrap` and `cdk deploy` do before CloudFormation runs: the bootstrap version parameter, the
asset bucket, and every file asset of the assets manifest zipped (or copied) to its bucket and key."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy_check import DeployCheckProblem

# The version `cdk bootstrap` of the pinned CLI writes (its bootstrap template's CdkBootstrapVersion); the
# template's CheckBootstrapVersion rule asks for 6 or later.
BOOTSTRAP_VERSION = "33"


class AssetProblem(DeployCheckProblem):
    """The assets manifest or an asset is unusable; the message names which and why."""


@dataclass(frozen=True)
class FileAsset:
    source: Path
    packaging: str  # "zip" (a directory, zipped) or "file" (uploaded as it is)
    bucket: str
    key: str


def file_assets(manifest: Path, *, account: str, region: str) -> list[FileAsset]:
    """The file assets of a CDK assets manifest, with their destinations resolved for the environment."""
    if not manifest.is_file():
        raise AssetProblem(f"{manifest}: no such file (run `make synth` first)")
    content: dict[str, Any] = json.loads(manifest.read_text())
    if content.get("dockerImages"):
        raise AssetProblem(f"{manifest}: dockerImages: container image assets need Docker, which is not here")
    assets = []
    for asset_id, asset in content.get("files", {}).items():
        packaging = asset["source"].get("packaging", "file")
        if packaging not in ("zip", "file"):
            raise AssetProblem(
                f"{manifest}: files.{asset_id}.source.packaging: {packaging!r} is not zip or file"
            )
        for destination in asset["destinations"].values():
            assets.append(
                FileAsset(
                    source=manifest.parent / asset["source"]["path"],
                    packaging=packaging,
                    bucket=_substitute(destination["bucketName"], account, region),
                    key=_substitute(destination["objectKey"], account, region),
                )
            )
    return assets


def _substitute(text: str, account: str, region: str) -> str:
    return (
        text.replace("${AWS::AccountId}", account)
        .replace("${AWS::Region}", region)
        .replace("${AWS::Partition}", "aws")
    )


def asset_bytes(asset: FileAsset) -> bytes:
    """The object to upload: a directory zipped with its files in a stable order, or the file itself."""
    if asset.packaging == "file":
        return asset.source.read_bytes()
    if not asset.source.is_dir():
        raise AssetProblem(f"{asset.source}: the asset directory is missing (run `make synth` again)")
    return zip_directory(asset.source)


def zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def bootstrap(s3: Any, ssm: Any, *, buckets: set[str], version_parameter: str | None) -> None:
    """The part of `cdk bootstrap` a deployment reads: the asset buckets and the version parameter."""
    for bucket in sorted(buckets):
        s3.create_bucket(Bucket=bucket)
    if version_parameter:
        ssm.put_parameter(Name=version_parameter, Value=BOOTSTRAP_VERSION, Type="String")


def publish_assets(s3: Any, assets: list[FileAsset]) -> None:
    """What cdk-assets does on `cdk deploy`: each asset to its bucket and key."""
    for asset in assets:
        s3.put_object(Bucket=asset.bucket, Key=asset.key, Body=asset_bytes(asset))
