"""deploy-check's stand-in for `cdk bootstrap` + cdk-assets: the manifest read, the assets packaged."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from deploy_check.assets import AssetProblem, FileAsset, asset_bytes, file_assets


def _manifest(tmp_path: Path, files: dict[str, object], docker: dict[str, object] | None = None) -> Path:
    manifest = tmp_path / "Stack.assets.json"
    manifest.write_text(json.dumps({"version": "55.0.0", "files": files, "dockerImages": docker or {}}))
    return manifest


DESTINATION = {
    "bucketName": "cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}",
    "objectKey": "abc.zip",
    "assumeRoleArn": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/publishing",
}


def test_each_destination_is_resolved_for_the_account_and_region(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path,
        {"abc": {"source": {"path": "asset.abc", "packaging": "zip"}, "destinations": {"d": DESTINATION}}},
    )

    assets = file_assets(manifest, account="000000000000", region="eu-west-1")

    assert assets == [
        FileAsset(tmp_path / "asset.abc", "zip", "cdk-hnb659fds-assets-000000000000-eu-west-1", "abc.zip")
    ]


def test_a_zip_asset_is_its_directory_zipped_with_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "asset.abc" / "pkg").mkdir(parents=True)
    (tmp_path / "asset.abc" / "pkg" / "handler.py").write_text("def handler(): ...\n")

    content = asset_bytes(FileAsset(tmp_path / "asset.abc", "zip", "bucket", "abc.zip"))

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["pkg/handler.py"]
        assert archive.read("pkg/handler.py") == b"def handler(): ...\n"


def test_container_images_and_missing_manifests_are_refused_with_the_reason(tmp_path: Path) -> None:
    with pytest.raises(AssetProblem, match=r"no such file \(run `make synth` first\)"):
        file_assets(tmp_path / "Stack.assets.json", account="0", region="r")
    with pytest.raises(AssetProblem, match="dockerImages: container image assets need Docker"):
        file_assets(_manifest(tmp_path, {}, {"img": {}}), account="0", region="r")
    with pytest.raises(AssetProblem, match=r"missing \(run `make synth` again\)"):
        asset_bytes(FileAsset(tmp_path / "asset.gone", "zip", "bucket", "gone.zip"))
