"""CI pipelines from the project's boards: a GitHub Actions workflow and a GitLab CI file.

The same model as a farm: one job per board (``skiffbuild build <board>``), the shared
stage cache configured on every job (the store from the CI service's variables, the
builders' public key from the repository), only builds of the default branch publish
(the signing key from a secret), the records of every image kept (SHA256SUMS,
build-info.json, the SBOM, the provenance statement, size.json), and on the nightly
schedule a ``skiffbuild repro <board>`` per board with its report kept.

What is generated is plain data (dicts), rendered as YAML; nothing here runs a CI
service.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from skiffbuild.image.published import PROVENANCE_FILE, SBOM_FILE

__all__ = ["PUBLISHED", "github_workflow", "gitlab_pipeline", "render"]

# What image:<ws> leaves in workspaces/<ws>/image/ that a release keeps (not the disk:
# CI services keep artifacts for days; the SHA256SUMS says what was built).
PUBLISHED = ("SHA256SUMS", "build-info.json", SBOM_FILE, PROVENANCE_FILE, "size.json")
_CRON = "17 2 * * *"
_SIGN_KEY = "SKIFFBUILD_CACHE_SIGN_KEY"  # the secret holding the builders' private key


def _paths(board: str) -> list[str]:
    return [f"workspaces/{board}/image/{name}" for name in PUBLISHED]


def github_workflow(boards: Sequence[str], trust: str) -> dict[str, Any]:
    """``.github/workflows/skiffbuild.yml``: ``trust`` is the builders' public key, a
    path in the repository."""
    board = "${{ matrix.board }}"
    setup = [{"uses": "actions/checkout@v4"}, {"run": "bash scripts/setup"}]
    matrix = {"fail-fast": False, "matrix": {"board": list(boards)}}
    return {
        "name": "skiffbuild",
        "on": {"push": None, "workflow_dispatch": None, "schedule": [{"cron": _CRON}]},
        "env": {"SKIFFBUILD_CACHE_URL": "${{ vars.SKIFFBUILD_CACHE_URL }}",
                "SKIFFBUILD_CACHE_TRUST": "${{ github.workspace }}/" + trust},
        "jobs": {
            "image": {
                "runs-on": "ubuntu-latest", "strategy": matrix,
                "steps": [
                    *setup,
                    {"name": "the signing key (default branch only: it publishes)",
                     "if": "github.ref_name == github.event.repository.default_branch",
                     "env": {"KEY": "${{ secrets." + _SIGN_KEY + " }}"},
                     "run": 'if [ -n "$KEY" ]; then printf \'%s\\n\' "$KEY" > '
                            '"$RUNNER_TEMP/builder.pem"; echo "SKIFFBUILD_CACHE_SIGN='
                            '$RUNNER_TEMP/builder.pem" >> "$GITHUB_ENV"; fi'},
                    {"run": f"skiffbuild build {board}"},
                    {"uses": "actions/upload-artifact@v4",
                     "with": {"name": f"image-{board}", "path": "\n".join(_paths(board))}},
                ]},
            "repro": {
                "if": "github.event_name == 'schedule'", "runs-on": "ubuntu-latest",
                "strategy": matrix,
                "steps": [
                    *setup,
                    {"run": f"skiffbuild repro {board}"},
                    {"if": "always()", "uses": "actions/upload-artifact@v4",
                     "with": {"name": f"repro-{board}",
                              "path": f"workspaces/{board}/repro/report.json"}},
                ]},
        },
    }


def gitlab_pipeline(boards: Sequence[str], trust: str) -> dict[str, Any]:
    """``.gitlab-ci.yml``: the store's URL and the signing key are CI/CD variables
    (``SKIFFBUILD_CACHE_URL``, ``SKIFFBUILD_CACHE_SIGN_KEY``, protected)."""
    matrix = {"matrix": [{"BOARD": list(boards)}]}
    return {
        "stages": ["build", "repro"],
        "variables": {"SKIFFBUILD_CACHE_TRUST": "$CI_PROJECT_DIR/" + trust},
        "build": {
            "stage": "build", "parallel": matrix,
            "rules": [{"if": '$CI_PIPELINE_SOURCE != "schedule"'}],
            "script": [
                "bash scripts/setup",
                # The default branch publishes (a protected variable also reaches other
                # protected branches and tags: the branch is checked here).
                f'if [ -n "${{{_SIGN_KEY}:-}}" ] && [ "${{CI_COMMIT_BRANCH:-}}" = '
                f'"$CI_DEFAULT_BRANCH" ]; then printf \'%s\\n\' "${_SIGN_KEY}" > '
                '"$CI_PROJECT_DIR/.builder.pem"; export SKIFFBUILD_CACHE_SIGN='
                '"$CI_PROJECT_DIR/.builder.pem"; fi',
                'skiffbuild build "$BOARD"',
            ],
            "artifacts": {"paths": _paths("$BOARD")},
        },
        "repro": {
            "stage": "repro", "parallel": matrix,
            "rules": [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}],
            "script": ["bash scripts/setup", 'skiffbuild repro "$BOARD"'],
            "artifacts": {"when": "always", "paths": ["workspaces/$BOARD/repro/report.json"]},
        },
    }


def render(document: dict[str, Any], regenerate: str) -> str:
    """YAML with a header saying how it was made; the same document, the same bytes."""
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False, width=100)
    return (f"# Generated by `{regenerate}` from the board manifests: edit those and run it "
            "again.\n" + text)
