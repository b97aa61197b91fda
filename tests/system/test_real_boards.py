"""The bundled boards against the pinned real Buildroot (2026.02.3, from shared/).

A full build of these boards needs well over 100 upstream tarballs, which this machine cannot
download; what does not need them is proven here, on the real tree: the configuration with no
finding, the source list Buildroot itself gives (``make -s external-deps``), the hash audit of
``check``, and an offline ``sources:`` that lists only missing files, never a missing hash.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, DoitProject
from sbomschema import assert_valid_cyclonedx

pytestmark = pytest.mark.real_buildroot

BOARDS = sorted(p.stem for p in (ROOT / "manifests" / "boards").glob("*.yaml"))
# qemu-x86_64-lean's chain is virt/lean alone (musl, BusyBox): fewer sources, and its own
# hash of the kernel headers; every other board builds on skiff/base.
LEAN = "qemu-x86_64-lean"


def external_deps(project: DoitProject, board: str) -> list[str]:
    """Buildroot's own list of the files ``make source`` would download."""
    output = project.root / "workspaces" / board / "output"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
    proc = subprocess.run(["make", "-s", "-C", str(output),
                           f"BR2_DL_DIR={project.root / 'cache' / 'dl'}", "external-deps"],
                          env=env, capture_output=True, text=True, check=True)
    return sorted(proc.stdout.split())


@pytest.mark.parametrize("board", BOARDS)
def test_bundled_board_on_real_buildroot(real_project: DoitProject, board: str) -> None:
    check = real_project.skiffbuild("check", board)
    assert check.returncode == 0, check.stderr
    assert "warning:" not in check.stderr  # no requested setting lost
    sources = json.loads(real_project.skiffbuild("sources", board, "--json").stdout)
    n = len(sources)
    assert check.stdout.splitlines() == [f"{board}: ok (hash audit: {n} of {n} source files "
                                         "hashed)"]
    # What skiffbuild fetches is exactly what Buildroot would (no override here).
    assert sorted(row["file"] for row in sources) == external_deps(real_project, board)
    assert n > (25 if board == LEAN else 50)
    for row in sources:
        assert row["hashes"], row["file"]
    headers = [row for row in sources if row["package"] == "linux-headers"]
    base = "virt/lean" if board == LEAN else "skiff/base"
    assert [(row["file"], row["hashes"][0]["from"]) for row in headers] == [
        ("linux-6.12.91.tar.xz",
         f"layers/{base}/buildroot_patches/linux-headers/linux-headers.hash:7")]

    offline = real_project.doit(f"sources:{board}", "--offline", check=False)
    assert offline.returncode == 2
    lines = offline.stderr.split("error: ", 1)[1].splitlines()
    assert lines[0] == f"{n} source file(s) missing (offline mode):"
    listed = [line for line in lines[1:] if line.startswith("  ")]
    assert len(listed) == n
    assert all(": not in the cache; get it from " in line for line in listed)
    assert "no hash" not in offline.stderr


def test_real_check_json_has_no_findings(real_project: DoitProject) -> None:
    # check.json, written by config:<ws>, is what `skiffbuild check` reads.
    for board in BOARDS:
        real_project.doit(f"config:{board}")
        report = json.loads(Path(real_project.root, "workspaces", board, "config",
                                 "check.json").read_text())
        assert report == {"workspace": board, "findings": []}


def show_info(project: DoitProject, board: str) -> dict[str, dict[str, object]]:
    """Buildroot's own ``make show-info`` for the configured workspace."""
    output = project.root / "workspaces" / board / "output"
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}
    proc = subprocess.run(["make", "-s", "-C", str(output), "show-info"], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("board", BOARDS)
def test_sbom_lists_what_real_buildroot_shows(real_project: DoitProject, board: str) -> None:
    """Issue 16: the SBOM's packages are exactly show-info's, with its versions, licences
    and CPE identifiers, and the document validates against CycloneDX 1.6."""
    printed = real_project.skiffbuild("sbom", board)
    assert printed.returncode == 0, printed.stderr
    bom = json.loads(printed.stdout)
    info = show_info(real_project, board)
    packages = {c["bom-ref"]: c for c in bom["components"]
                if any(p["name"] == "buildroot:type" for p in c.get("properties", []))}
    assert set(packages) == set(info)
    assert len(info) > 40
    for key, entry in info.items():
        component = packages[key]
        assert component["name"] == entry.get("name", key)
        if entry.get("virtual") or "version" not in entry:
            continue
        assert component.get("version") == (entry["version"] or None), key
        assert component.get("cpe") == entry.get("cpe-id"), key
        licences = sorted(lic["license"].get("id") or lic["license"].get("name")
                          for lic in component.get("licenses", []))
        if "(" not in str(entry["licenses"]):  # commas inside parentheses stay together
            assert licences == sorted(part.strip() for part in
                                      str(entry["licenses"]).split(",") if part.strip()), key
    # Every patch Buildroot would apply is in the package's pedigree.
    for key, entry in info.items():
        patches = packages[key].get("pedigree", {}).get("patches", [])
        assert len(patches) == len(entry.get("patches", [])), key
    # Last: without the optional schema library this skips, after everything above held.
    assert_valid_cyclonedx(printed.stdout)
