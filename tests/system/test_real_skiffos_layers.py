"""Every layer of the real SkiffOS tree configures on real Buildroot 2026.08-rc1: each one
becomes a board with ``import-skiffos`` (its SkiffOS chain, pre and post around it) and
``config:`` runs for all of them in one doit run. Findings are expected (SkiffOS builds on
its own Buildroot fork); an error or a crash is not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from skiffos_oracle import skiffbuild_on_skiffos, skiffos_root

from skiffbuild.app.commands_skiffos import skiffos_manifest
from skiffbuild.core.project import Project
from skiffbuild.model.layers import scan_layers

_ = skiffos_root

pytestmark = [pytest.mark.real_buildroot, pytest.mark.slow]


def test_every_skiffos_layer_configures(tmp_path: Path, skiffos_root: Path) -> None:
    side = skiffbuild_on_skiffos(tmp_path / "project", skiffos_root)
    root = side.root
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
    proc = side.doit("-n", "2", "--continue", "config", check=False)
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
