"""Every layer of the real SkiffOS tree configures on real Buildroot 2026.08-rc1: each one
becomes a board with ``import-skiffos`` (its SkiffOS chain, pre and post around it) and
``config:`` runs for all of them in one doit run. Findings are expected (SkiffOS builds on
its own Buildroot fork); an error or a crash is not."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REAL_BUILDROOT, UPSTREAM, DoitProject
from skiffos_oracle import BUILDROOT_TAG, skiffos_root

from skiffbuild.app.commands_skiffos import skiffos_manifest
from skiffbuild.core.project import Project
from skiffbuild.model.layers import scan_layers

_ = skiffos_root

pytestmark = [pytest.mark.real_buildroot, pytest.mark.slow]


def test_every_skiffos_layer_configures(tmp_path: Path, skiffos_root: Path) -> None:
    root = tmp_path / "project"
    (root / "manifests" / "boards").mkdir(parents=True)
    commit = subprocess.run(["git", f"--git-dir={REAL_BUILDROOT}", "rev-parse",
                             f"{BUILDROOT_TAG}^{{commit}}"], capture_output=True, text=True,
                            check=True).stdout.strip()
    (root / "manifests" / "buildroot.yaml").write_text(
        f"format: 1\nurl: {UPSTREAM}\ncommit: {commit}\ntag: {BUILDROOT_TAG}\n")
    project = Project(root, layer_path=(skiffos_root,))
    index, problems = scan_layers(project)
    assert problems == []
    names = sorted(name for name, layer in index.layers.items()
                   if layer.origin == skiffos_root / "configs")
    assert len(names) == 131
    for name in names:
        ws = name.replace("/", "-")
        (root / "manifests" / "boards" / f"{ws}.yaml").write_text(
            skiffos_manifest(project, ws, name, index=index, warn=lambda text: None))
    shutil.copy(Path(__file__).parents[2] / "dodo.py", root / "dodo.py")
    (root / "mirrors.yaml").write_text(f"{UPSTREAM}:\n  - {REAL_BUILDROOT}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}
    env.update(SKIFFBUILD_MIRRORS=str(root / "mirrors.yaml"), SKIFFBUILD_OFFLINE="1",
               SKIFFBUILD_LAYER_PATH=str(skiffos_root))
    proc = DoitProject(root, env).doit("-n", "2", "--continue", "config", check=False)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    assert proc.returncode == 0, proc.stderr[-4000:]
    unchecked = []
    for name in names:
        ws = root / "workspaces" / name.replace("/", "-")
        assert (ws / "output" / ".config").is_file(), name
        findings = json.loads((ws / "config" / "check.json").read_text())["findings"]
        found = {(f["kind"], f["symbol"]) for f in findings}
        if ("unchecked", "") in found:
            unchecked.append(name)  # kconfiglib refuses the tree; Buildroot configured it
        else:
            # SkiffOS's fork-only symbol is reported, never silently dropped.
            assert ("unknown", "BR2_SKIFFOS_BACKUP_SITE") in found, name
    # util/argon1's external brings a dependency loop Buildroot's kconfig only warns about.
    assert unchecked == ["util/argon1"]
