"""The stack's synthesized template, as the local AWS provisions it: synthesized offline from cdk.json's
context (with overrides), and cached until an input changes.

The cache key is a hash of everything the template is made from: app.py, cdk.json, the infra/ and
functions/ sources (the catalog drives the stack, and the functions are its asset), the CDK pins and the
context overrides. A synth runs in a child process (`python -m local_aws.synth`), so that the CDK's
JavaScript runtime and its ~550 MB leave with it; the template lands under .local-synth/ beside the code.

    template = stack_template({"resourcePrefix": "fuzz-tests"})
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from local_aws.context import CDK_JSON, cdk_context
from local_aws.errors import LocalAwsError

REPO_ROOT = CDK_JSON.parent
CACHE_DIR = REPO_ROOT / ".local-synth"
_INPUT_FILES = ("app.py", "cdk.json", "requirements-cdk.txt", "requirements.txt")
_INPUT_TREES = ("infra", "functions")
# Node 20 works for the CDK's runtime but prints an end-of-life banner on every start.
_SYNTH_ENVIRONMENT = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}


class SynthFailed(LocalAwsError):
    """The CDK app did not synthesize: the message carries the last line the synth printed."""


def _inputs() -> Iterator[Path]:
    for name in _INPUT_FILES:
        yield REPO_ROOT / name
    for tree in _INPUT_TREES:
        yield from sorted(
            path for path in (REPO_ROOT / tree).rglob("*.py") if "__pycache__" not in path.parts
        )


def fingerprint(context_overrides: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(dict(context_overrides), sort_keys=True).encode())
    for path in _inputs():
        digest.update(str(path.relative_to(REPO_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def stack_template(context_overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The template `cdk synth` would write with cdk.json's context and these overrides."""
    overrides = dict(context_overrides or {})
    if unknown := sorted(set(overrides) - set(cdk_context())):
        raise ValueError(f"context overrides: {', '.join(unknown)} not in cdk.json's context")
    path = CACHE_DIR / f"{fingerprint(overrides)}.template.json"
    if not path.exists():
        _synthesize(overrides, path)
    template: dict[str, Any] = json.loads(path.read_text())
    return template


def _synthesize(overrides: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "local_aws.synth",
            "--context",
            json.dumps(overrides),
            "--template",
            str(path),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, **_SYNTH_ENVIRONMENT},
        capture_output=True,
        text=True,
        check=False,
    )
    if finished.returncode != 0 or not path.exists():
        said = finished.stderr.strip().splitlines() or ["nothing on its standard error"]
        raise SynthFailed(f"cdk synth failed (exit code {finished.returncode}): {said[-1]}")


def _synthesize_here(overrides: dict[str, Any], path: Path) -> None:
    """The synth itself: the same app as app.py, in a scratch outdir; only the template is kept."""
    import tempfile

    import aws_cdk as cdk

    from infra.app import build_app

    with tempfile.TemporaryDirectory(prefix="local-synth-") as outdir:
        app = cdk.App(context={**cdk_context(), **overrides}, outdir=outdir)
        stack = build_app(app)
        app.synth()
        written = Path(outdir) / f"{stack.stack_name}.template.json"
        partial = path.with_suffix(".partial")
        partial.write_text(written.read_text())
        partial.replace(path)  # whole or not at all: a concurrent reader never sees half a template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--context", required=True, help="context overrides, as a JSON object")
    parser.add_argument("--template", required=True, type=Path, help="where to write the template")
    arguments = parser.parse_args()
    sys.path.insert(0, str(REPO_ROOT / "functions"))
    _synthesize_here(json.loads(arguments.context), arguments.template)


if __name__ == "__main__":
    main()
