"""`--json` on the listings of `check` and `lock --check`: stdout is the JSON alone, the
messages stay on stderr and the exit status is the one without --json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DoitProject, PinnedTree, add_external_package, make_doit_project
from httpserver import FaultyServer
from projectfiles import board_yaml, layer_yaml, write_files


def _project(dest: Path, tree: PinnedTree, boards: dict[str, str] | None = None) -> DoitProject:
    """Board `one`: virt/qemu and test/one, which overrides skiff/base's host name and asks
    for a symbol this Buildroot does not have."""
    project = make_doit_project(dest, tree, boards={
        "one": board_yaml(["virt/qemu", "test/one"]), **(boards or {})})
    write_files(project.root, {
        "layers/test/one/layer.yaml": layer_yaml("test layer", ["skiff/base"]),
        "layers/test/one/buildroot/10-one": 'BR2_TARGET_GENERIC_HOSTNAME="one"\n'
                                            "BR2_XYZZY_PLUGH=y\n",
    })
    return project


def _findings(entry: dict[str, Any]) -> list[tuple[str, str, str, bool, str]]:
    return [(f["kind"], f["symbol"], f["level"], f["fails"], f["origin"]["layer"])
            for f in entry["findings"]]


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_check_json_lists_findings_and_the_hash_audit(tmp_path: Path,
                                                      testtree: PinnedTree) -> None:
    project = _project(tmp_path / "p", testtree)
    plain = project.skiffbuild("check", "one")
    result = project.skiffbuild("check", "--json", "one")
    assert (plain.returncode, result.returncode) == (1, 1)
    [entry] = json.loads(result.stdout)
    assert entry["workspace"] == "one" and entry["checked"] is True
    assert entry["problems"] == []
    assert _findings(entry) == [
        ("overridden", "BR2_TARGET_GENERIC_HOSTNAME", "info", False, "skiff/base"),
        ("unknown", "BR2_XYZZY_PLUGH", "error", True, "test/one")]
    unknown = entry["findings"][1]
    assert unknown["text"] == ("layers/test/one/buildroot/10-one:2: BR2_XYZZY_PLUGH=y "
                               "[test/one]: unknown: unknown symbol in this Buildroot")
    assert unknown["origin"] == {"layer": "test/one", "file": "layers/test/one/buildroot/10-one",
                                 "line": 2}
    audit = entry["hash_audit"]
    assert audit["unhashed"] == [] and audit["hashed"] == audit["sources"] > 0
    # The human lines: the same, on stderr.
    verdict = (f"one: 2 finding(s) (hash audit: {audit['sources']} of {audit['sources']} "
               "source files hashed)")
    assert plain.stdout.splitlines() == [verdict]
    assert verdict in result.stderr.splitlines()
    assert "error: 1 finding(s) fail the check: unknown (1)" in result.stderr.splitlines()
    # --fail-on makes the override fail too, in the listing as in the exit status.
    strict = project.skiffbuild("check", "--json", "--fail-on", "overridden", "one")
    assert strict.returncode == 1
    assert [f[3] for f in _findings(json.loads(strict.stdout)[0])] == [True, True]


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_check_json_names_broken_workspaces(tmp_path: Path, testtree: PinnedTree) -> None:
    project = _project(tmp_path / "p", testtree, {"bad": board_yaml(["no/such"])})
    result = project.skiffbuild("check", "--json")
    assert result.returncode == 2
    listing = json.loads(result.stdout)
    assert [(e["workspace"], e["checked"]) for e in listing] == [
        ("one", True), ("pi4", True), ("qemu-x86_64", True), ("qemu-x86_64-ab", True),
        ("qemu-x86_64-lean", True), ("bad", False)]
    assert listing[-1] == {"workspace": "bad", "checked": False, "findings": [],
                          "hash_audit": None,
                          "problems": ["manifests/boards/bad.yaml:4: layers[0]: unknown layer "
                                       "'no/such'"]}
    assert [_findings(e) for e in listing[1:5]] == [[], [], [], []]
    assert "bad: not checked, its manifests have problems" in result.stderr.splitlines()


def test_check_json_lists_unhashed_sources(tmp_path: Path, testtree: PinnedTree) -> None:
    project = make_doit_project(tmp_path / "p", testtree)
    add_external_package(project, "hello", "1.0", {})  # no hello.hash
    result = project.skiffbuild("check", "--json", "qemu-x86_64")
    assert result.returncode == 1
    [entry] = json.loads(result.stdout)
    audit = entry["hash_audit"]
    assert audit["hashed"] == audit["sources"] - 1
    [gap] = audit["unhashed"]
    assert (gap["file"], gap["packages"]) == ("hello/hello-1.0.tar.gz", ["hello"])
    assert gap["text"].startswith("hello/hello-1.0.tar.gz (hello): no hash")
    assert f"error: qemu-x86_64: {gap['text'].splitlines()[0]}" in result.stderr.splitlines()


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_lock_check_json_lists_the_differences(tmp_path: Path, testtree: PinnedTree,
                                               upstream: FaultyServer) -> None:
    project = make_doit_project(tmp_path / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    project.doit("sources:qemu-x86_64")
    unlocked = project.skiffbuild("lock", "--check", "--json", "qemu-x86_64")
    assert unlocked.returncode == 1
    assert json.loads(unlocked.stdout) == [
        {"workspace": "qemu-x86_64", "difference": "not in skiffbuild.lock",
         "text": "qemu-x86_64: not in skiffbuild.lock"}]
    assert "qemu-x86_64: not in skiffbuild.lock" in unlocked.stderr.splitlines()

    assert project.skiffbuild("lock", "qemu-x86_64").returncode == 0
    clean = project.skiffbuild("lock", "--check", "--json", "qemu-x86_64")
    assert (clean.returncode, clean.stdout) == (0, "[]\n")
    assert "skiffbuild.lock: qemu-x86_64 match" in clean.stderr.splitlines()

    listing = json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)
    busybox = next(row for row in listing if row["package"] == "busybox")
    real = next(h["hash"] for h in busybox["hashes"] if h["type"] == "sha256")
    lock = project.root / "skiffbuild.lock"
    lock.write_text(lock.read_text().replace(real, "f" * 64))
    drift = project.skiffbuild("lock", "--check", "--json", "qemu-x86_64")
    assert drift.returncode == 1
    [row] = json.loads(drift.stdout)
    assert row["workspace"] == "qemu-x86_64"
    assert row["difference"].startswith(f"busybox/{busybox['file']}: sha256 changed")
    assert row["text"] == f"qemu-x86_64: {row['difference']}"
    assert row["text"] in drift.stderr.splitlines()

    alone = project.skiffbuild("lock", "--json")
    assert alone.returncode == 2
    assert alone.stderr.splitlines() == [
        "error: --json lists the differences of --check: give both",
        "hint: skiffbuild lock --check --json"]
