"""``skiffbuild pin`` across real Buildroot releases (2026.02.2 → 2026.02.3 → 2026.05.1), with
a patch series that applies to the 2026.02 releases and not to 2026.05.1."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import REAL_BUILDROOT, DoitProject, make_real_project

pytestmark = pytest.mark.real_buildroot

V2026_02_2 = "71d1dddae12e7cbf322d96864d7757f459801f47"
V2026_02_3 = "679b9ead7620bbf193620d1ebf56f53c1764d37a"
V2026_05_1 = "cb857ba4c87a93e5265a9e4a3f32071abf39e14a"


def fakeroot_patch() -> str:
    """A one-line addition to package/fakeroot/fakeroot.mk, made against 2026.02.3 (the same
    file in 2026.02.2; 2026.05.1 bumped the version on the line it touches)."""
    mk = subprocess.run(["git", "--git-dir", str(REAL_BUILDROOT), "show",
                         f"{V2026_02_3}:package/fakeroot/fakeroot.mk"],
                        capture_output=True, text=True, check=True).stdout.splitlines()
    at = mk.index("FAKEROOT_VERSION = 1.37.1.2")
    before, after = mk[at - 2:at + 1], mk[at + 1:at + 4]
    hunk = [f"@@ -{at - 1},6 +{at - 1},7 @@", *(f" {line}" for line in before),
            "+# carried by this project", *(f" {line}" for line in after)]
    return "\n".join(["--- a/package/fakeroot/fakeroot.mk", "+++ b/package/fakeroot/fakeroot.mk",
                      *hunk]) + "\n"


def pin(project: DoitProject, ref: str) -> subprocess.CompletedProcess[str]:
    return project.skiffbuild("pin", ref)


def test_pin_across_real_releases_with_the_patch_check(tmp_path: Path) -> None:
    project = make_real_project(tmp_path / "p")
    manifest = project.root / "manifests" / "buildroot.yaml"
    comments = [line for line in manifest.read_text().splitlines() if line.startswith("#")]

    down = pin(project, "2026.02.2")
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines() == [
        "manifests/buildroot.yaml:",
        f"  commit     {V2026_02_3} → {V2026_02_2}",
        "  tag        2026.02.3 → 2026.02.2",
        "  Buildroot  2026.02.3 → 2026.02.2"]

    patches = project.root / "buildroot" / "patches"
    patches.mkdir(parents=True, exist_ok=True)
    (patches / "0001-fakeroot-note.patch").write_text(fakeroot_patch())
    up = pin(project, "2026.02.3")
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines() == [
        "manifests/buildroot.yaml:",
        f"  commit     {V2026_02_2} → {V2026_02_3}",
        "  tag        2026.02.2 → 2026.02.3",
        "  Buildroot  2026.02.2 → 2026.02.3",
        "  1 patch(es) apply cleanly"]

    before = manifest.read_bytes()
    refused = pin(project, "2026.05.1")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "error: Buildroot patch buildroot/patches/0001-fakeroot-note.patch does not apply to "
        f"package/fakeroot/fakeroot.mk at 2026.05.1 ({V2026_05_1[:12]}):",
        "  error: patch failed: package/fakeroot/fakeroot.mk:5",
        "  error: package/fakeroot/fakeroot.mk: patch does not apply",
        f"hint: refresh the patch against 2026.05.1 ({V2026_05_1[:12]}) or drop it from the "
        "series; manifests/buildroot.yaml was not changed"]
    assert manifest.read_bytes() == before

    (patches / "0001-fakeroot-note.patch").unlink()
    bumped = pin(project, "2026.05.1")
    assert bumped.returncode == 0, bumped.stderr
    assert bumped.stdout.splitlines()[1:4] == [
        f"  commit     {V2026_02_3} → {V2026_05_1}",
        "  tag        2026.02.3 → 2026.05.1",
        "  Buildroot  2026.02.3 → 2026.05.1"]
    text = manifest.read_text()
    assert f"commit: {V2026_05_1}\n" in text and "tag: 2026.05.1\n" in text
    assert [line for line in text.splitlines() if line.startswith("#")] == comments
    # The new pin checks out from the shallow mirror and configures.
    assert project.doit("config:qemu-x86_64").returncode == 0
