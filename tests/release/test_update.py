"""update:<ws> (issue 15, host side): a RAUC bundle that `rauc info --keyring` verifies,
refused against another key, with a payload identical between two builds and the
differences confined to what the README says; the development key marked; the manifest
section checked with file:line. Unit level through skiffbuild.release.update, with a
small reproducible ext4 and a stand-in build-info.json (no Buildroot build)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import unless_installed
from keys import make_key
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.core.errors import BuildError, ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.model import UpdateSigning, UpdateSpec
from skiffbuild.model.plan import load_plan
from skiffbuild.release import update

pytestmark = unless_installed([] if shutil.which("rauc") else ["rauc"])

EPOCH = 1700000000
WS = "demo"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_ext4(root: Path, out: Path) -> None:
    """A small ext4 made as image:<ws> makes them: fixed UUID, hash seed, owner, time."""
    root.mkdir(parents=True)
    rng = random.Random(15)
    (root / "blob").write_bytes(rng.randbytes(64 << 10))  # incompressible: a real payload
    (root / "etc").mkdir()
    (root / "etc" / "os-release").write_text("NAME=demo\n")
    env = {"PATH": os.environ["PATH"], "E2FSPROGS_FAKE_TIME": str(EPOCH), "LC_ALL": "C"}
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-m", "0",
                    "-U", "6f4c2b1e-59a7-4c1e-9d55-000000000001",
                    "-E", "hash_seed=6f4c2b1e-59a7-4c1e-9d55-000000000002,root_owner=0:0,"
                          "lazy_itable_init=0,lazy_journal_init=0",
                    "-d", str(root), str(out), "4M"], check=True, env=env,
                   capture_output=True)


def workspace(root: Path, spec: UpdateSpec, chain: tuple[Any, ...] = ()) -> Any:
    """What build_update reads of a Workspace, around a finished image build."""
    project = Project(root)
    paths = project.workspace(WS)
    images = paths.images
    images.mkdir(parents=True)
    make_ext4(root / "rootfs-src", images / "rootfs.ext4")
    (images / "bzImage").write_bytes(random.Random(1).randbytes(20000))
    paths.image_dir.mkdir(parents=True)
    info = {
        "workspace": WS,
        "buildroot": {"url": "https://example.invalid/br.git", "commit": "ab" * 20,
                      "tag": None, "patch_digest": "0" * 64},
        "source_date_epoch": EPOCH,
        "layers": [{"name": "virt/qemu", "digest": "1" * 64}],
        "buildroot_images": {p.name: sha256(p) for p in sorted(images.iterdir())},
        "sha256": {f"{WS}.img": "c" * 64, "partitions/boot.vfat": "d" * 64},
    }
    (paths.image_dir / "build-info.json").write_text(json.dumps(info))
    manifest = root / "manifests" / "boards" / f"{WS}.yaml"
    board = SimpleNamespace(update=spec, manifest=manifest, description="demo board")
    return SimpleNamespace(name=WS, board=board, paths=paths, chain=chain), project


SPEC = UpdateSpec(compatible="skiffbuild-demo", version="1.0-{date}-{image}",
                  slots=(("rootfs", "rootfs.ext4"), ("kernel", "bzImage")))


@pytest.fixture
def built(tmp_path: Path) -> tuple[Any, Project, Path, list[str]]:
    ws, project = workspace(tmp_path / "p", SPEC)
    said: list[str] = []
    bundle = update.build_update(ws, project, said.append)
    return ws, project, bundle, said


def rauc_info(bundle: Path, keyring: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["rauc", "info", f"--keyring={keyring}", "--output-format=json",
                           str(bundle)], capture_output=True, text=True, check=False)


def test_rauc_verifies_the_bundle_and_shows_what_is_inside(built: Any) -> None:
    ws, project, bundle, said = built
    assert bundle == ws.paths.update_dir / f"{WS}-1.0-20231114-cccccccccccc.raucb"
    cert = project.cache / "update-keys" / "dev" / "cert.pem"
    shown = rauc_info(bundle, cert)
    assert shown.returncode == 0, shown.stderr
    assert "Verified inline signature" in shown.stderr
    info = json.loads(shown.stdout)
    assert (info["compatible"], info["version"]) == ("skiffbuild-demo", "1.0-20231114-cccccccccccc")
    images = {k: v for entry in info["images"] for k, v in entry.items()}
    sums = ws.paths.images
    assert images["rootfs"]["checksum"] == sha256(sums / "rootfs.ext4")
    assert images["kernel"]["checksum"] == sha256(sums / "bzImage")
    assert info["build"] == "c" * 64  # the disk image's sha256 from build-info.json
    assert info["description"].startswith(update.DEV_MARK)
    # The sums file and update-info.json: sizes printed and recorded.
    assert (ws.paths.update_dir / f"{bundle.name}.sha256").read_text() == \
        f"{sha256(bundle)}  {bundle.name}\n"
    record = json.loads((ws.paths.update_dir / update.INFO_FILE).read_text())
    assert record["size"] == bundle.stat().st_size
    assert record["payload_size"] % 4096 == 0 and 0 < record["payload_size"] < record["size"]
    assert record["key"]["development"] is True
    assert any(f"({record['size']} bytes, payload {record['payload_size']} bytes)" in line
               for line in said)
    assert not list(ws.paths.update_dir.glob(".tmp*"))
    # The payload holds the image digests of build-info.json (whatever RAUC's version).
    out = Path(str(bundle) + ".x")
    subprocess.run(["unsquashfs", "-d", str(out), str(bundle)], check=True,
                   capture_output=True)
    meta = json.loads((out / "skiffbuild-info.json").read_text())
    assert meta["image_sha256"] == {f"{WS}.img": "c" * 64, "partitions/boot.vfat": "d" * 64}
    assert meta["buildroot"]["commit"] == "ab" * 20
    assert meta["warning"] == update.DEV_MARK
    assert sorted(p.name for p in out.iterdir()) == ["bzImage", "manifest.raucm",
                                                      "rootfs.ext4", "skiffbuild-info.json"]


def test_the_development_key_is_marked_and_warned_about(built: Any) -> None:
    _ws, project, _bundle, said = built
    dev = project.cache / "update-keys" / "dev"
    subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "utf8",
                              "-in", str(dev / "cert.pem")], capture_output=True, text=True,
                             check=True).stdout
    assert update.DEV_MARK in subject
    assert (dev / "key.pem").stat().st_mode & 0o077 == 0
    assert update.DEV_MARK in (dev / "README").read_text()
    assert any(line.startswith("warning:") and update.DEV_MARK in line for line in said)


def test_a_bundle_is_refused_against_another_key(built: Any, tmp_path: Path) -> None:
    _ws, _project, bundle, _said = built
    _key, other = make_key(tmp_path / "other", "someone else")
    assert rauc_info(bundle, other).returncode != 0
    with pytest.raises(BuildError, match="rauc info"):
        update.verify_bundle(bundle, str(other))


def masked(text: str) -> str:
    return re.sub(r"^(verity-hash|verity-salt)=[0-9a-f]{64}$", r"\1=*", text, flags=re.M)


def test_two_builds_differ_only_where_the_readme_says(built: Any) -> None:
    ws, project, first, _said = built
    kept = first.with_name("first.raucb")
    shutil.copyfile(first, kept)
    time.sleep(1.1)  # another second: the signingTime differs too
    second = update.build_update(ws, project, lambda _text: None)
    assert second == first
    a, b = update.bundle_regions(kept), update.bundle_regions(second)
    # The payload (the squashfs: the images, manifest.raucm, skiffbuild-info.json) is
    # identical, and so is every size: RSA signatures have one length.
    assert a == b
    start, end = a.payload
    assert kept.read_bytes()[start:end] == second.read_bytes()[start:end]
    # Every differing byte lies in the verity hash tree (a random salt) or, in the CMS
    # signature, in the signed manifest, the signingTime, the messageDigest of the signed
    # manifest or the signature value.
    regions = update.differing_regions(kept, second)
    assert set(regions) == {"verity", "signed_manifest", "signing_time", "message_digest",
                            "signature_value"}, regions
    # ... and in the signed manifest only in the verity-hash and verity-salt values.
    assert a.signed_manifest is not None
    first_text = kept.read_bytes()[slice(*a.signed_manifest)].decode()
    second_text = second.read_bytes()[slice(*b.signed_manifest)].decode()
    assert first_text != second_text and masked(first_text) == masked(second_text)
    assert regions["signed_manifest"] <= 128  # 2 x 64 hex digits at most
    assert a.verity[1] - a.verity[0] == json.loads(
        (ws.paths.update_dir / update.INFO_FILE).read_text())["verity_size"]


def test_a_release_key_is_used_in_place(tmp_path: Path) -> None:
    key, cert = make_key(tmp_path / "keys", "release")
    spec = UpdateSpec(compatible="c", version="2", slots=(("rootfs", "rootfs.ext4"),),
                      signing=UpdateSigning(key=str(key), cert=str(cert)))
    ws, project = workspace(tmp_path / "p", spec)
    said: list[str] = []
    bundle = update.build_update(ws, project, said.append)
    assert rauc_info(bundle, cert).returncode == 0
    assert not any("warning" in line for line in said)
    assert not (project.cache / "update-keys").exists()
    assert not [p for p in project.root.rglob("*.pem")]  # nothing copied into the project


def test_a_missing_release_key_is_named(tmp_path: Path) -> None:
    spec = UpdateSpec(compatible="c", version="2", slots=(("rootfs", "rootfs.ext4"),),
                      signing=UpdateSigning(key=str(tmp_path / "nokey.pem"),
                                            cert=str(tmp_path / "nocert.pem")), line=12)
    ws, project = workspace(tmp_path / "p", spec)
    with pytest.raises(Exception, match=r"demo.yaml:12: update.signing.key: no file"):
        update.build_update(ws, project, lambda _text: None)


SOFTHSM = Path("/usr/lib/softhsm/libsofthsm2.so")


@unless_installed([] if SOFTHSM.is_file() and shutil.which("softhsm2-util") else
                  ["softhsm2"])
def test_a_pkcs11_key_is_passed_to_rauc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key, cert = make_key(tmp_path / "keys", "token")
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
    monkeypatch.setenv("SOFTHSM2_CONF", str(conf))
    monkeypatch.setenv("RAUC_PKCS11_PIN", "1234")
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "skiff", "--pin",
                    "1234", "--so-pin", "5678"], check=True, capture_output=True)
    pkcs8 = tmp_path / "keys" / "key8.pem"
    subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", str(key), "-out",
                    str(pkcs8)], check=True)
    subprocess.run(["softhsm2-util", "--import", str(pkcs8), "--token", "skiff", "--label",
                    "signer", "--id", "01", "--pin", "1234"], check=True, capture_output=True)
    spec = UpdateSpec(compatible="c", version="3", slots=(("rootfs", "rootfs.ext4"),),
                      signing=UpdateSigning(key="pkcs11:token=skiff;object=signer",
                                            cert=str(cert), pkcs11_module=str(SOFTHSM)))
    ws, project = workspace(tmp_path / "p", spec)
    bundle = update.build_update(ws, project, lambda _text: None)
    assert rauc_info(bundle, cert).returncode == 0


def test_a_changed_slot_image_is_refused(tmp_path: Path) -> None:
    ws, project = workspace(tmp_path / "p", SPEC)
    (ws.paths.images / "bzImage").write_bytes(b"rebuilt" * 1000)
    with pytest.raises(Exception, match="not the file image:demo recorded"):
        update.build_update(ws, project, lambda _text: None)
    assert not ws.paths.update_dir.joinpath(update.INFO_FILE).exists()


GOOD_LAYERS = {"layers/base/core/layer.yaml": layer_yaml("Base")}


def board_with(update_yaml: str) -> str:
    return board_yaml(["base/core"]) + update_yaml


def problems_of(root: Path, text: str) -> list[str]:
    write_project(root, {**GOOD_LAYERS, "manifests/boards/b.yaml": text})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(root))
    return [str(p) for p in info.value.problems]


def test_the_update_section_loads_with_its_defaults(tmp_path: Path) -> None:
    write_project(tmp_path, {**GOOD_LAYERS, "manifests/boards/b.yaml": board_with(
        "update:\n  slots:\n    rootfs: rootfs.ext4\n    kernel: bzImage\n")})
    spec = load_plan(Project(tmp_path)).workspaces["b"].board.update
    assert spec == UpdateSpec(compatible="skiffbuild-b", version="{date}-{image}",
                              slots=(("rootfs", "rootfs.ext4"), ("kernel", "bzImage")))


def test_update_problems_are_located(tmp_path: Path) -> None:
    text = board_with("update:\n  slots:\n    rootfs: ../../etc/passwd\n"
                      "    bad.class: x\n  version: 'v 1'\n  format: crypt\n"
                      "  signing:\n    key: pkcs11:object=k\n    cert: pkcs11:object=c\n")
    lines = text.splitlines()
    at = {key: lines.index(next(x for x in lines if x.startswith(f"  {key}"))) + 1
          for key in ("version:", "format:")}
    found = problems_of(tmp_path, text)
    schema_found = [p for p in found if "slots" in p or "version" in p or "format" in p]
    assert any(p.startswith(f"manifests/boards/b.yaml:{at['version:']}: update.version: ")
               for p in schema_found), found
    assert any(p.startswith(f"manifests/boards/b.yaml:{at['format:']}: update.format: ")
               for p in schema_found), found
    assert any("slot class" in p for p in found), found
    # The schema passes, the paths are checked: fix the schema problems and look again.
    text = board_with("update:\n  slots:\n    rootfs: ../../etc/passwd\n"
                      "  signing:\n    key: pkcs11:object=k\n    cert: pkcs11:object=c\n")
    lines = text.splitlines()
    rootfs = lines.index("    rootfs: ../../etc/passwd") + 1
    signing = lines.index("  signing:") + 1
    assert problems_of(tmp_path, text) == [
        f"manifests/boards/b.yaml:{rootfs}: update.slots.rootfs: path '../../etc/passwd' "
        "leads outside the images directory",
        f"manifests/boards/b.yaml:{signing}: update.signing: a pkcs11: cert needs a keyring "
        "file (the CA the bundle is verified against)",
    ]


@pytest.mark.slow
def test_doit_update_on_the_test_tree(tmp_path: Path, testtree: Any, upstream: Any) -> None:
    from conftest import ROOT, make_doit_project, ran

    board = (ROOT / "manifests/boards/qemu-x86_64.yaml").read_text() + (
        "update:\n  slots:\n    rootfs: rootfs.cpio.gz\n    kernel: bzImage\n")
    project = make_doit_project(tmp_path / "p", testtree, {"qemu-x86_64": board})
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    first = project.doit("update:qemu-x86_64")
    assert ran(first.stdout)["update:qemu-x86_64"] is True
    out = project.root / "workspaces/qemu-x86_64/update"
    record = json.loads((out / update.INFO_FILE).read_text())
    bundle = out / record["bundle"]
    cert = project.root / "cache/update-keys/dev/cert.pem"
    assert rauc_info(bundle, cert).returncode == 0
    assert ran(project.doit("update:qemu-x86_64").stdout)["update:qemu-x86_64"] is False
    bundle.write_bytes(bundle.read_bytes()[:-1])  # truncated: made again
    assert ran(project.doit("update:qemu-x86_64").stdout)["update:qemu-x86_64"] is True


def test_a_slot_takes_an_assembled_partition(tmp_path: Path) -> None:
    """``partition:<name>``: the image of a partition image:<ws> assembled (of an A/B
    entry, its first slot's), checked against build-info.json's digest of it."""
    from skiffbuild.model.model import ImageLayout, Partition

    spec = UpdateSpec(compatible="skiffbuild-demo", version="1",
                      slots=(("system", "partition:system"),))
    ws, project = workspace(tmp_path / "p", spec)
    ws.board.image = ImageLayout("mbr", tuple(
        Partition(f"system_{s}", "ext4", 4 << 20, group="system", slot=s) for s in "ab"))
    parts = ws.paths.image_dir / "partitions"
    parts.mkdir()
    shutil.copyfile(ws.paths.images / "rootfs.ext4", parts / "system_a.ext4")
    info_file = ws.paths.image_dir / "build-info.json"
    info = json.loads(info_file.read_text())
    info["sha256"]["partitions/system_a.ext4"] = sha256(parts / "system_a.ext4")
    info_file.write_text(json.dumps(info))
    bundle = update.build_update(ws, project, lambda _text: None)
    shown = json.loads(rauc_info(bundle, project.cache / "update-keys/dev/cert.pem").stdout)
    assert [list(image) for image in shown["images"]] == [["system"]]
    record = json.loads((bundle.parent / update.INFO_FILE).read_text())
    assert record["slots"]["system"] == {"file": "system_a.ext4",
                                         "image": "partitions/system_a.ext4",
                                         "sha256": sha256(parts / "system_a.ext4")}
    (parts / "system_a.ext4").write_bytes(b"changed since")
    with pytest.raises(Exception, match=r"partition:system \(partitions/system_a.ext4\) is "
                                        "not the file image:demo"):
        update.build_update(ws, project, lambda _text: None)
