"""(c) Scaling: load, resolve and list a synthetic tree of 100 boards and 200 layers.

Each synthetic layer depends on up to three earlier ones and carries a
Buildroot fragment, a kernel fragment and a small root overlay; each board
names two to four layers on top of virt/qemu's image layout. The baselines
are what any tool must do with the same tree: parse every YAML file with
libyaml and read every fragment (for loading and resolving), and doit's own
``doit list`` of an empty dodo.py (for listing). Loading is timed as a
repeated run sees it: the manifests already validated once.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import yaml
from common import ROOT, Row, doit_floor, median_time

__all__ = ["bench_scaling", "synthetic_tree"]

PIN = ("format: 1\nurl: https://gitlab.com/buildroot.org/buildroot.git\n"
       "commit: 0123456789abcdef0123456789abcdef01234567\ntag: 2026.02.3\n")


def synthetic_tree(root: Path, boards: int = 100, layers: int = 200, seed: int = 6) -> None:
    rng = random.Random(seed)
    (root / "manifests" / "boards").mkdir(parents=True)
    (root / "manifests" / "buildroot.yaml").write_text(PIN)
    (root / "dodo.py").write_text((ROOT / "dodo.py").read_text())
    for i in range(layers):
        layer = root / "layers" / "syn" / f"l{i:03d}"
        deps = sorted({f"syn/l{rng.randrange(i):03d}" for _ in range(rng.randint(0, 3))}) \
            if i else []
        (layer / "buildroot").mkdir(parents=True)
        (layer / "kernel").mkdir()
        (layer / "root_overlay" / "etc").mkdir(parents=True)
        (layer / "layer.yaml").write_text(yaml.safe_dump(
            {"format": 1, "description": f"synthetic layer {i}", "dependencies": deps}))
        (layer / "buildroot" / f"10-l{i:03d}").write_text(
            f"BR2_PACKAGE_BUSYBOX=y\nBR2_TARGET_GENERIC_HOSTNAME=\"syn{i}\"\n"
            f"# BR2_PACKAGE_DROPBEAR_CLIENT is not set\n")
        (layer / "kernel" / f"10-l{i:03d}").write_text(f"CONFIG_LOCALVERSION=\"-syn{i}\"\n")
        (layer / "root_overlay" / "etc" / f"syn-{i}").write_text(f"{i}\n")
    qemu = (ROOT / "manifests" / "boards" / "qemu-x86_64.yaml").read_text()
    (root / "layers" / "virt").mkdir()
    subprocess.run(["cp", "-a", str(ROOT / "layers" / "virt" / "qemu"),
                    str(root / "layers" / "virt" / "qemu")], check=True)
    subprocess.run(["cp", "-a", str(ROOT / "layers" / "skiff"), str(root / "layers" / "skiff")],
                   check=True)
    for b in range(boards):
        names = sorted({f"syn/l{rng.randrange(layers):03d}" for _ in range(rng.randint(2, 4))})
        text = qemu.replace("layers: [virt/qemu]", f"layers: [virt/qemu, {', '.join(names)}]")
        text = text.replace("description: QEMU", f"description: synthetic board {b}, QEMU")
        (root / "manifests" / "boards" / f"b{b:03d}.yaml").write_text(text)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the fastest parser there is


def _bare_read(root: Path) -> None:
    for path in sorted(root.rglob("*")):
        if path.suffix == ".yaml":
            yaml.load(path.read_text(), Loader=_LOADER)  # a safe loader
        elif path.is_file() and path.parent.name in ("buildroot", "kernel"):
            path.read_text().splitlines()


def _load(root: Path) -> None:
    from skiffbuild.core.project import Project
    from skiffbuild.model.plan import load_plan

    plan = load_plan(Project.discover(root, environ=os.environ))
    if len(plan.workspaces) < 100:
        raise SystemExit(f"the synthetic tree planned only {len(plan.workspaces)} workspaces")


def _doit_list(where: Path) -> None:
    subprocess.run([sys.executable, "-m", "doit", "list", "--all"], cwd=where, check=True,
                   capture_output=True)


def bench_scaling(tmp: Path, repeat: int, echo) -> list[Row]:
    echo("scaling: (c) generating 100 boards and 200 layers")
    root = tmp / "synthetic"
    synthetic_tree(root)
    load = median_time(lambda: _load(root), repeat)
    bare = median_time(lambda: _bare_read(root), repeat)
    listing = median_time(lambda: _doit_list(root), repeat)
    floor = doit_floor(tmp / "empty-list", "list", "--all", repeat=repeat)
    return [Row("(c) load + resolve, 100 boards / 200 layers", load, "parse the YAML", bare),
            Row("(c) doit list --all, same tree (500 tasks)", listing, "empty dodo", floor)]
