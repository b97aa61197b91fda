"""A provenance statement for a workspace's image: an in-toto Statement v1 with a SLSA
Provenance v1 predicate.

The subjects are the published files (SHA256SUMS' entries and the SBOM) with their
sha256; the build definition names the board, its inputs (the Buildroot commit and its
patch series, every verified source, every layer, the configuration) as resolved
dependencies with their digests. Nothing in it depends on when or where the build ran
(no start and finish times, no host name, no paths outside the project): identical
inputs give identical bytes, which repro: checks like the image itself. It is not
signed here; a release signs it (or the SBOM) with the key it signs bundles with.
"""

from __future__ import annotations

import json
from typing import Any

from skiffbuild import __version__
from skiffbuild.release.sbom import SbomInputs, remote_url, sha256_of

__all__ = ["BUILD_TYPE", "statement"]

BUILD_TYPE = "https://skiffbuild.invalid/provenance/image/v1"
BUILDER_ID = "https://skiffbuild.invalid/builder/doit"


def statement(inputs: SbomInputs, subjects: dict[str, str]) -> str:
    """``subjects``: published file name -> sha256."""
    deps: list[dict[str, Any]] = [{
        "uri": f"git+{inputs.buildroot['url']}",
        "digest": {"gitCommit": inputs.buildroot["commit"]},
        "name": "buildroot",
        "annotations": {"tag": inputs.buildroot.get("tag"),
                        "patch_digest": inputs.buildroot["patch_digest"]}}]
    for row in inputs.sources:
        dep: dict[str, Any] = {"name": f"{row['dl_dir']}/{row['file']}"}
        if url := remote_url(row.get("uris", []), row["file"]):
            dep["uri"] = url
        if sha := sha256_of(row):
            dep["digest"] = {"sha256": sha}
        deps.append(dep)
    deps += [{"name": f"layer:{la['name']}", "digest": {"sha256": la["digest"]}}
             for la in inputs.layers]
    document = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": sha}}
                    for name, sha in sorted(subjects.items())],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {"workspace": inputs.workspace,
                                       "target": f"image:{inputs.workspace}"},
                "internalParameters": {
                    "source_date_epoch": inputs.source_date_epoch,
                    "config_sha256": inputs.config_sha256,
                    "lock_sha256": inputs.lock_sha256,
                    "toolchain": inputs.toolchain,
                },
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": BUILDER_ID, "version": {"skiffbuild": __version__}},
                "metadata": {},
            },
        },
    }
    return json.dumps(document, indent=1, sort_keys=True) + "\n"
