"""The SBOM document from given inputs (no build): what each show-info entry becomes,
what never leaks into it, and that identical inputs give identical bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sbomschema import assert_valid_cyclonedx

from skiffbuild.release.sbom import SbomInputs, sbom_json

SHA = "ab" * 32


def inputs(tmp_path: Path, **changes: Any) -> SbomInputs:
    tree = tmp_path / "tree"
    (tree / "package" / "foo").mkdir(parents=True, exist_ok=True)
    (tree / "package" / "foo" / "0001-fix.patch").write_text(
        "From: a\nSubject: [PATCH] fix an overflow\n\nCVE: CVE-2026-1234\n"
        "CVE: CVE-2025-0007\n---\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n")
    show_info = {
        "foo": {"type": "target", "name": "foo", "virtual": False, "version": "1.2",
                "licenses": "GPL-2.0+ (programs), LGPL-2.1+ (libraries), Custom-1",
                "dl_dir": "foo", "cpe-id": "cpe:2.3:a:foo:foo:1.2:*:*:*:*:*:*:*",
                "downloads": [{"source": "foo-1.2.tar.gz",
                               "uris": ["https+https://example.org/foo",
                                        "http|urlencode+http://mirror.example/foo"]}],
                "patches": ["package/foo/0001-fix.patch"], "dependencies": ["host-bar"]},
        "host-bar": {"type": "host", "name": "bar", "virtual": False, "version": "3",
                     "licenses": "MIT", "dl_dir": "bar",
                     "downloads": [{"source": "bar-3.tar.xz",
                                    "uris": ["file+/home/someone/mirror/bar"]}],
                     "patches": [], "dependencies": []},
        "mine": {"type": "target", "name": "mine", "virtual": False, "version": "custom",
                 "licenses": "", "dl_dir": "mine",
                 "downloads": [{"source": "mine-custom.tar.gz",
                                "uris": ["local+/home/someone/src/mine"]}],
                 "patches": [], "dependencies": []},
        "buildroot": {"type": "target", "name": "buildroot", "virtual": True,
                      "dependencies": []},
    }
    values: dict[str, Any] = dict(
        workspace="board", show_info=show_info,
        sources=[{"file": "foo-1.2.tar.gz", "dl_dir": "foo", "uris": [],
                  "hashes": [{"type": "sha256", "hash": SHA, "from": "foo.hash"}]}],
        source_date_epoch=1781643700,
        buildroot={"url": "https://gitlab.com/buildroot.org/buildroot.git",
                   "commit": "c0ffee" * 6 + "c0ff", "tag": "2026.02.3",
                   "patch_digest": "cd" * 32, "patches": []},
        layers=[{"name": "skiff/base", "digest": "ef" * 32}], config_sha256="12" * 32,
        tree=tree, roots=(("", tmp_path),), toolchain={"BR2_TOOLCHAIN_BUILDROOT": "y"},
        overrides={"mine": "34" * 32}, lock_sha256="56" * 32,
        image={"board.img": "78" * 32})
    values.update(changes)
    return SbomInputs(**values)


def components(text: str) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in json.loads(text)["components"]}


def test_a_package_and_its_sources_patches_and_licences(tmp_path: Path) -> None:
    found = components(sbom_json(inputs(tmp_path)))
    foo = found["foo"]
    assert foo["purl"] == ("pkg:generic/foo@1.2?checksum=sha256:" + SHA +
                           "&download_url=https://example.org/foo/foo-1.2.tar.gz")
    assert foo["externalReferences"] == [{
        "comment": "foo/foo-1.2.tar.gz", "type": "source-distribution",
        "url": "https://example.org/foo/foo-1.2.tar.gz",
        "hashes": [{"alg": "SHA-256", "content": SHA}]}]
    # Commas inside parentheses stay with their licence; each licence by its name.
    assert sorted(str(lic["license"]) for lic in foo["licenses"]) == [
        "{'name': 'Custom-1'}", "{'name': 'GPL-2.0+ (programs)'}",
        "{'name': 'LGPL-2.1+ (libraries)'}"]
    mit = found["host-bar"]["licenses"]
    assert mit == [{"license": {"name": "MIT"}}]
    (patch,) = foo["pedigree"]["patches"]
    assert patch["diff"]["url"] == "package/foo/0001-fix.patch"
    assert "+b" in patch["diff"]["text"]["content"]
    assert sorted(r["id"] for r in patch["resolves"]) == ["CVE-2025-0007", "CVE-2026-1234"]
    assert foo["cpe"] == "cpe:2.3:a:foo:foo:1.2:*:*:*:*:*:*:*"
    assert found["host-bar"]["scope"] == "excluded" and foo["scope"] == "required"


def test_the_document_validates_against_the_cyclonedx_schema(tmp_path: Path) -> None:
    assert_valid_cyclonedx(sbom_json(inputs(tmp_path, image=None, lock_sha256=None)))
    assert_valid_cyclonedx(sbom_json(inputs(tmp_path)))


def test_nothing_of_this_machine_leaks(tmp_path: Path) -> None:
    text = sbom_json(inputs(tmp_path))
    found = components(text)
    assert "/home/someone" not in text and str(tmp_path) not in text
    # A file:// site is a path here: the reference names the file only.
    assert found["host-bar"]["externalReferences"][0]["url"] == "bar-3.tar.xz"
    # A package built from a local tree downloads nothing; its tree's digest is named.
    assert "externalReferences" not in found["mine"]
    assert {"name": "skiffbuild:override", "value": "34" * 32} in found["mine"]["properties"]


def test_a_package_named_buildroot_does_not_collide_with_the_pin(tmp_path: Path) -> None:
    first = sbom_json(inputs(tmp_path))
    assert sbom_json(inputs(tmp_path)) == first  # identical inputs, identical bytes
    found = components(first)
    assert found["buildroot"]["properties"][1] == {"name": "buildroot:virtual", "value": "true"}
    assert found["pin:buildroot"]["pedigree"]["commits"] == [{"uid": "c0ffee" * 6 + "c0ff"}]


def test_the_serial_number_follows_the_content(tmp_path: Path) -> None:
    one = json.loads(sbom_json(inputs(tmp_path)))
    other = json.loads(sbom_json(inputs(tmp_path, image={"board.img": "99" * 32})))
    assert one["serialNumber"] != other["serialNumber"]
    assert one["metadata"]["timestamp"] == "2026-06-16T21:01:40+00:00"
    assert one["metadata"]["component"]["externalReferences"] == [{
        "comment": "the image's build record, in the same directory", "type": "build-meta",
        "url": "build-info.json"}]


def test_the_provenance_names_remote_sites_only(tmp_path: Path) -> None:
    from skiffbuild.release.provenance import statement

    rows = [{"file": "foo-1.2.tar.gz", "dl_dir": "foo",
             "uris": ["file+/home/someone/mirror/foo", "https+https://example.org/foo"],
             "hashes": [{"type": "sha256", "hash": SHA, "from": "foo.hash"}]},
            {"file": "bar-3.tar.xz", "dl_dir": "bar", "uris": ["local+/home/someone/bar"],
             "hashes": []}]
    text = statement(inputs(tmp_path, sources=rows), {"board.img": "78" * 32})
    deps = json.loads(text)["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert deps[1:3] == [
        {"name": "foo/foo-1.2.tar.gz", "uri": "https://example.org/foo/foo-1.2.tar.gz",
         "digest": {"sha256": SHA}},
        {"name": "bar/bar-3.tar.xz"}]
    assert "/home/someone" not in text
