"""Source lists from show-info, and the sources:<ws> task against the test tree."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import (
    SHARED,
    DoitProject,
    PinnedTree,
    add_external_package,
    make_doit_project,
    ran,
    require_shared,
)
from httpserver import FaultyServer

from skiffbuild.buildroot.showinfo import Uri, parse_show_info
from skiffbuild.core.project import Project


@pytest.mark.parametrize(("text", "url", "back"), [
    ("https+https://www.busybox.net/downloads", "https://www.busybox.net/downloads/a b.tgz",
     "https+https://www.busybox.net/downloads"),
    ("https|urlencode+https://sources.buildroot.net/busybox",
     "https://sources.buildroot.net/busybox/a%20b.tgz",
     "https|urlencode+https://sources.buildroot.net/busybox"),
    ("https://ftpmirror.gnu.org/gettext", "https://ftpmirror.gnu.org/gettext/a b.tgz",
     "https://ftpmirror.gnu.org/gettext"),
    ("file|urlencode+file:///srv/dl/", "file:///srv/dl/a%20b.tgz",
     "file|urlencode+file:///srv/dl/"),
])
def test_uri_forms(text: str, url: str, back: str) -> None:
    uri = Uri.parse(text)
    assert uri.url_for("a b.tgz") == url
    assert str(uri) == back


def test_reference_show_info_parses(tmp_path: Path) -> None:
    """Real Buildroot 2026.02.3 output (reference/data), with stand-in hash files."""
    data = SHARED / "reference" / "data" / "show-info-qemu_x86_64.json"
    require_shared(data)  # a failure, not a skip, under CI=true
    info = json.loads(data.read_text())
    for entry in info.values():
        for name in entry.get("hashes", ()):
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            lines = [f"sha256  {'0' * 64}  {d['source']}" for d in entry["downloads"]]
            path.write_text("\n".join(lines) + "\n")
    sources = parse_show_info(info, tmp_path, Project(tmp_path))
    assert len(sources) == 51  # = `make external-deps` for qemu_x86_64 (reference §3.1)
    glibc = next(s for s in sources if s.file.startswith("glibc-2.42"))
    assert glibc.uris[0].backend == "git"
    headers = [s for s in sources if s.dl_dir == "linux"]
    assert [s.packages for s in headers] == [("linux", "linux-headers")]


def sources_project(dest: Path, tree: PinnedTree, server: FaultyServer) -> DoitProject:
    project = make_doit_project(dest, tree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    return project


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_sources_fetch_verify_offline_and_export(tmp_path: Path, testtree: PinnedTree,
                                                upstream: FaultyServer) -> None:
    project = sources_project(tmp_path / "p", testtree, upstream)
    first = project.doit("sources:qemu-x86_64")
    assert ran(first.stdout)["sources:qemu-x86_64"] is True
    listing = json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)
    assert len(listing) == 22
    assert all(row["verified"] for row in listing)
    busybox = next(row for row in listing if row["package"] == "busybox")
    assert busybox["dl_dir"] == "busybox"
    assert busybox["path"] == str(project.root / "cache/dl/busybox" / busybox["file"])
    assert busybox["hashes"][0]["from"] == "package/busybox/busybox.hash:2"
    requests = sum(upstream.requests.values())
    assert requests == 22

    # Nothing changed: up to date, no request.
    assert ran(project.doit("sources:qemu-x86_64").stdout)["sources:qemu-x86_64"] is False
    assert sum(upstream.requests.values()) == requests

    # A damaged cache file is caught and fetched again.
    damaged = Path(busybox["path"])
    damaged.write_bytes(b"garbage")
    again = project.doit("sources:qemu-x86_64")
    assert ran(again.stdout)["sources:qemu-x86_64"] is True
    assert "cached copy failed verification" in again.stderr
    assert json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)[0][
        "verified"]

    # Export while everything is there, signed, then go offline.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "key.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    archive = tmp_path / "qemu.tar"
    assert project.skiffbuild("export", "qemu-x86_64", str(archive), "--sign",
                              str(tmp_path / "key.pem")).returncode == 0
    upstream.stop()
    assert project.doit("sources:qemu-x86_64", "--offline").returncode == 0
    damaged.unlink()
    offline = project.doit("sources:qemu-x86_64", "--offline", check=False)
    assert offline.returncode == 2  # the user's to fix (import a bundle, go online): exit 2
    assert "1 source file(s) missing (offline mode):" in offline.stderr
    assert f"  busybox/{damaged.name} (busybox): not in the cache" in offline.stderr

    # An air-gapped machine: a fresh project with no mirror map and no network.
    fresh = make_doit_project(tmp_path / "airgap", testtree)
    del fresh.env["SKIFFBUILD_MIRRORS"]
    imported = fresh.skiffbuild("import", str(archive), "--trust", str(tmp_path / "key.pub"))
    assert imported.returncode == 0, imported.stderr
    run = fresh.doit("sources:qemu-x86_64", "--offline")
    assert ran(run.stdout) == {"fetch:buildroot": True, "config:qemu-x86_64": True,
                               "sources:qemu-x86_64": True}


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_unhashed_source_is_refused_before_any_download_unless_allowed(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = sources_project(tmp_path / "p", testtree, upstream)
    extra = project.root / "overrides" / "workspaces" / "qemu-x86_64" / "buildroot"
    extra.mkdir(parents=True)
    (extra / "bootchart").write_text("BR2_PACKAGE_SYSTEMD_BOOTCHART=y\n")
    refused = project.doit("sources:qemu-x86_64", check=False)
    assert refused.returncode == 2  # a user error, from inside the task
    assert "TaskFailed" not in refused.stdout + refused.stderr
    info = json.loads((project.root / "workspaces/qemu-x86_64/config/show-info.json").read_text())
    name = info["info"]["systemd-bootchart"]["downloads"][0]["source"]
    assert (f"error: 1 source file(s) of qemu-x86_64 have no hash; skiffbuild refuses unhashed "
            f"downloads (Buildroot only warns):\n  systemd-bootchart/{name} (systemd-bootchart): "
            "no hash (looked in: no .hash file exists for it)\n") in refused.stderr
    # The audit comes first: not one file was fetched.
    assert sum(upstream.requests.values()) == 0
    # `check` says so too, offline, and fails: it never says ok for such a board.
    check = project.skiffbuild("check", "qemu-x86_64")
    assert check.returncode == 1
    assert check.stdout.splitlines() == [
        "qemu-x86_64: 1 of 23 source files without a hash (hash audit: 22 of 23 source files "
        "hashed)"]
    assert check.stderr.splitlines()[-3:] == [
        f"error: qemu-x86_64: systemd-bootchart/{name} (systemd-bootchart): no hash (looked in: "
        "no .hash file exists for it)",
        "error: 1 source file(s) have no hash: sources: would refuse them",
        "hint: review and approve it once: skiffbuild lock --approve-unhashed qemu-x86_64 "
        "(records its sha256 in skiffbuild.lock), or add its hash to a layer's "
        "buildroot_patches/<package>/<package>.hash (Buildroot reads .hash files from "
        "BR2_GLOBAL_PATCH_DIR); sources.allow_unhashed in the board manifest accepts any bytes"]
    assert sum(upstream.requests.values()) == 0
    board = project.root / "manifests" / "boards" / "qemu-x86_64.yaml"
    board.write_text(board.read_text() + f"sources:\n  allow_unhashed: [{name}]\n")
    assert project.doit("sources:qemu-x86_64").returncode == 0
    assert (project.root / "cache/dl/systemd-bootchart" / name).is_file()
    assert project.skiffbuild("check", "qemu-x86_64").returncode == 0


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_hash_audit_points_at_a_hash_listed_elsewhere_and_a_layer_hash_fixes_it(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    # As linux-headers 6.12.91 in Buildroot 2026.02.3: the hash is in the tree, in a
    # directory of another version, so Buildroot's lookup does not find it.
    project = sources_project(tmp_path / "p", testtree, upstream)
    data = b"hello source\n"
    line = f"sha256  {hashlib.sha256(data).hexdigest()}  hello-1.1.tar.gz\n"
    pkg = add_external_package(project, "hello", "1.1", {"1.0/hello.hash": "# old\n" + line})
    upstream.files["/hello/hello-1.1.tar.gz"] = data
    check = project.skiffbuild("check", "qemu-x86_64")
    assert check.returncode == 1
    ext = project.root / "layers/skiff/core/buildroot_ext"
    assert (f"error: qemu-x86_64: hello/hello-1.1.tar.gz (hello): no hash (looked in: no .hash "
            f"file exists for it)\n      listed in {ext}/package/hello/1.0/hello.hash:2: sha256 "
            f"{hashlib.sha256(data).hexdigest()}") in check.stderr
    assert sum(upstream.requests.values()) == 0
    # The fix the hint names: the line in a layer's global patch directory.
    fix = project.root / "layers/skiff/core/buildroot_patches/hello"
    fix.mkdir(parents=True)
    (fix / "hello.hash").write_text(line)
    assert project.skiffbuild("check", "qemu-x86_64").returncode == 0
    project.doit("sources:qemu-x86_64")
    assert (project.root / "cache/dl/hello/hello-1.1.tar.gz").read_bytes() == data
    assert pkg.is_dir()


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_external_tree_packages_are_listed(tmp_path: Path, testtree: PinnedTree,
                                           upstream: FaultyServer) -> None:
    project = sources_project(tmp_path / "p", testtree, upstream)
    data = b"hello source\n"
    upstream.files["/hello/hello-1.0.tar.gz"] = data
    add_external_package(project, "hello", "1.0", {"hello.hash": (
        f"sha256  {hashlib.sha256(data).hexdigest()}  hello-1.0.tar.gz\n")})
    project.doit("sources:qemu-x86_64")
    listing = json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)
    hello = next(row for row in listing if row["package"] == "hello")
    assert hello["hashes"][0]["from"] == \
        "layers/skiff/core/buildroot_ext/package/hello/hello.hash:1"
    assert hello["verified"]
    assert (project.root / "cache/dl/hello/hello-1.0.tar.gz").read_bytes() == data


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_lock_check_and_refusal_through_the_cli(tmp_path: Path, testtree: PinnedTree,
                                                upstream: FaultyServer) -> None:
    project = sources_project(tmp_path / "p", testtree, upstream)
    unverified = project.skiffbuild("lock", "qemu-x86_64")
    assert unverified.returncode == 2
    assert "hint: run: doit sources:qemu-x86_64" in unverified.stderr
    project.doit("sources:qemu-x86_64")
    written = project.skiffbuild("lock", "qemu-x86_64")
    assert written.returncode == 0, written.stderr
    assert written.stdout.strip() == "skiffbuild.lock: updated (qemu-x86_64)"
    clean = project.skiffbuild("lock", "--check", "qemu-x86_64")
    assert (clean.returncode, clean.stdout.strip()) == (0, "skiffbuild.lock: qemu-x86_64 match")

    lock = project.root / "skiffbuild.lock"
    text = lock.read_text()
    listing = json.loads(project.skiffbuild("sources", "qemu-x86_64", "--json").stdout)
    busybox = next(row for row in listing if row["package"] == "busybox")
    real = next(h["hash"] for h in busybox["hashes"] if h["type"] == "sha256")
    lock.write_text(text.replace(real, "f" * 64))
    drift = project.skiffbuild("lock", "--check", "qemu-x86_64")
    assert drift.returncode == 1
    assert f"busybox/{busybox['file']}: sha256 changed" in drift.stderr
    # The build refuses the locked-out hash (the lock file is an input of sources:<ws>).
    refused = project.doit("sources:qemu-x86_64", check=False)
    assert refused.returncode == 2
    assert busybox["file"] in refused.stderr and "f" * 64 in refused.stderr
