"""The SBOM and provenance of a bundled board built on the test tree (slow): CycloneDX
valid by the schema, one component per show-info entry, every source of
``skiffbuild sources --json`` with the same sha256, the provenance naming every published
file; and the size report of the same build."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, serve_sources
from sbomschema import assert_valid_cyclonedx

pytestmark = pytest.mark.slow

WS = "qemu-x86_64"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> DoitProject:
    root = tmp_path_factory.mktemp("sbom")
    server = serve_sources(root / "site")
    project = make_doit_project(root / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    try:
        result = project.skiffbuild("build", WS)
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        server.stop()
    return project


def _image(project: DoitProject) -> Path:
    return project.root / "workspaces" / WS / "image"


def _show_info(project: DoitProject) -> dict[str, dict[str, object]]:
    out = subprocess.run(["make", "-s", "-C", str(project.root / "workspaces" / WS / "output"),
                          "show-info"], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_sbom_is_valid_cyclonedx_with_every_package(built: DoitProject) -> None:
    text = (_image(built) / "sbom.cdx.json").read_text()
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    info = _show_info(built)
    packages = {c["bom-ref"]: c for c in bom["components"]
                if any(p["name"] == "buildroot:type" for p in c.get("properties", []))}
    assert set(packages) == set(info)
    for key, entry in info.items():
        component = packages[key]
        assert component["name"] == entry.get("name", key)  # a filesystem has no name
        if not entry.get("virtual") and "version" in entry:
            assert component.get("version") == (entry["version"] or None)
        if entry.get("cpe-id"):
            assert component["cpe"] == entry["cpe-id"]
    busybox = packages["busybox"]
    assert busybox["scope"] == "required" and busybox["purl"].startswith(
        f"pkg:generic/busybox@{info['busybox']['version']}?")
    assert all(packages[k]["scope"] == "excluded" for k in info
               if info[k]["type"] == "host")
    # The image: its disk's sha256, the pin, the layers; the timestamp is SOURCE_DATE_EPOCH.
    sums = dict(reversed(line.split("  ")) for line in
                (_image(built) / "SHA256SUMS").read_text().splitlines())
    meta = bom["metadata"]
    assert meta["component"]["hashes"] == [{"alg": "SHA-256", "content": sums[f"{WS}.img"]}]
    info_json = json.loads((_image(built) / "build-info.json").read_text())
    epoch = info_json["source_date_epoch"]
    from datetime import datetime, timezone

    assert meta["timestamp"].startswith(
        datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    refs = {c["bom-ref"] for c in bom["components"]}
    assert {f"layer:{la['name']}" for la in info_json["layers"]} <= refs
    assert "pin:buildroot" in refs
    buildroot = next(c for c in bom["components"] if c["bom-ref"] == "pin:buildroot")
    assert buildroot["pedigree"]["commits"] == [{"uid": info_json["buildroot"]["commit"]}]
    # No path of this machine leaks into the document.
    assert str(built.root) not in text


def test_sbom_validates_against_the_cyclonedx_schema(built: DoitProject) -> None:
    assert_valid_cyclonedx((_image(built) / "sbom.cdx.json").read_text())


def test_every_verified_source_is_in_the_sbom_with_its_sha256(built: DoitProject) -> None:
    listed = built.skiffbuild("sources", WS, "--json", "--offline")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows
    bom = json.loads((_image(built) / "sbom.cdx.json").read_text())
    found: dict[str, set[str]] = {}
    for component in bom["components"]:
        for ref in component.get("externalReferences", []):
            if ref["type"] == "source-distribution":
                found.setdefault(ref["comment"], set()).update(
                    h["content"] for h in ref.get("hashes", []))
    for row in rows:
        sha = next(h["hash"] for h in row["hashes"] if h["type"] == "sha256")
        assert found[f"{row['dl_dir']}/{row['file']}"] == {sha}, row["file"]


def test_provenance_names_every_published_file(built: DoitProject) -> None:
    image = _image(built)
    statement = json.loads((image / "provenance.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    sums = dict(reversed(line.split("  ")) for line in
                (image / "SHA256SUMS").read_text().splitlines())
    sbom_sha = hashlib.sha256((image / "sbom.cdx.json").read_bytes()).hexdigest()
    assert subjects == {**sums, "sbom.cdx.json": sbom_sha}
    deps = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert deps[0]["name"] == "buildroot" and len(deps[0]["digest"]["gitCommit"]) == 40


def test_sbom_command_prints_the_same_bytes(built: DoitProject) -> None:
    printed = built.skiffbuild("sbom", WS)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == (_image(built) / "sbom.cdx.json").read_text()
    prov = built.skiffbuild("sbom", WS, "--provenance")
    assert prov.stdout == (_image(built) / "provenance.intoto.json").read_text()


def test_size_report_sums_match_the_root_filesystem(built: DoitProject) -> None:
    result = built.skiffbuild("size", WS, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    target = built.root / "workspaces" / WS / "output" / "target"
    inodes = {}
    for path in target.rglob("*"):
        if path.is_file() and not path.is_symlink():
            inodes[path.lstat().st_ino] = path.lstat().st_size
    packages = report["rootfs"]["packages"]
    assert sum(p["bytes"] for p in packages) == sum(inodes.values()) == report["rootfs"]["bytes"]
    names = {p["name"] for p in packages}
    assert {"busybox", "linux"} <= names
    # Nearly everything is a package's: what is not is a layer's overlay or a script's.
    unknown = next((p["bytes"] for p in packages if p["name"] == "unknown"), 0)
    assert unknown < report["rootfs"]["bytes"] // 20
    assert all(p["compressed"] is not None for p in packages)
    chart = Path(report["chart"])
    assert chart.read_text().startswith("<?xml") and "busybox" in chart.read_text()
    first = chart.read_bytes()
    text = built.skiffbuild("size", WS)
    assert text.returncode == 0
    assert chart.read_bytes() == first  # no date, no random ids
    # The report is kept in the workspace too, as printed (less the chart's line).
    kept = (_image(built) / "size-report.txt").read_text()
    assert text.stdout == kept + "chart: workspaces/qemu-x86_64/image/size.svg\n"
    assert kept.startswith(f"{WS}: disk ") and "  busybox " in kept
    again = built.skiffbuild("size", WS, "--against", WS)
    assert again.returncode == 2
    assert "error: --against qemu-x86_64: that is the workspace measured" in again.stderr
    other = built.skiffbuild("size", WS, "--fast", "--against", "no-such-board")
    assert other.returncode == 2
    assert "error: --against no-such-board: no workspace, size.json or directory holding " \
           "one by that name" in other.stderr
    copy = built.root / "before.json"
    record = json.loads((_image(built) / "size.json").read_text())
    record["rootfs"]["packages"] = [
        {**p, "bytes": p["bytes"] - 4096} if p["name"] == "busybox" else p
        for p in record["rootfs"]["packages"]]
    copy.write_text(json.dumps(record))
    grew = built.skiffbuild("size", WS, "--against", str(copy), "--fast")
    assert grew.returncode == 0, grew.stderr
    assert f"against {copy}:" in grew.stdout
    assert "  package busybox: " in grew.stdout and "(+4.00 KiB)" in grew.stdout


def test_legal_info_is_buildroots_published_beside_the_image(built: DoitProject) -> None:
    result = built.skiffbuild("legal-info", WS, "--offline")
    assert result.returncode == 0, result.stderr
    legal = _image(built) / "legal-info"
    rows = list(csv.DictReader(io.StringIO((legal / "manifest.csv").read_text())))
    names = {row["PACKAGE"] for row in rows}
    assert {"busybox", "linux", "dropbear"} <= names
    assert result.stdout.splitlines()[0].startswith(
        f"{WS}: {len(rows)} target packages ({len(rows)} with their sources), ")
    busybox = next(row for row in rows if row["PACKAGE"] == "busybox")
    assert (busybox["LICENSE"], busybox["LICENSE FILES"]) == (
        "GPL-2.0, bzip2-1.0.4", "LICENSE archival/libarchive/bz/LICENSE")
    version = busybox["VERSION"]
    assert (legal / "licenses" / f"busybox-{version}" / "LICENSE").is_file()
    archive = legal / "sources" / f"busybox-{version}" / busybox["SOURCE ARCHIVE"]
    # The saved source is the very file the SBOM lists with its verified sha256.
    bom = json.loads((_image(built) / "sbom.cdx.json").read_text())
    component = next(c for c in bom["components"] if c["bom-ref"] == "busybox")
    ref = next(r for r in component["externalReferences"] if r["url"].endswith(archive.name))
    assert ref["hashes"][0]["content"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    # Buildroot's own checksums of what it saved hold.
    check = subprocess.run(["sha256sum", "--quiet", "-c", "legal-info.sha256"], cwd=legal,
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    # Nothing else of the image changed.
    sums = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=_image(built),
                          capture_output=True, check=False)
    assert sums.returncode == 0


def test_size_mistakes_are_user_errors(built: DoitProject, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"disk": {}}')
    for args, error in [
            (("--against", str(bad)), f"error: {bad}: not a size record"),
            (("--chart", str(tmp_path / "size.pdf")), "the chart is .svg or .png"),
            (("--chart", str(tmp_path / "no" / "size.svg")), "cannot write the chart")]:
        result = built.skiffbuild("size", WS, "--fast", *args)
        assert result.returncode == 2, result.stderr
        assert error in result.stderr
        assert "Traceback" not in result.stderr
    # The target directory changed since image:: the record stays, and it says why.
    target = built.root / "workspaces" / WS / "output" / "target"
    extra = target / "etc" / "after-the-image"
    extra.write_text("x")
    try:
        result = built.skiffbuild("size", WS, "--json")
    finally:
        extra.unlink()
    assert result.returncode == 0
    assert "compressed sizes left out: Buildroot's target directory changed since " \
           f"image:{WS}" in result.stderr
    assert "compressed" not in json.loads(result.stdout)["rootfs"]
