"""Layers' contributions to the update bundle (release.updatehooks): install hooks that
RAUC runs on the device, bundle hooks run on the staging directory; and what update:
records in the image's build-info.json."""

from __future__ import annotations

import configparser
import json
import subprocess
import time
from pathlib import Path

import pytest
from test_update import SPEC, WS, rauc_info, workspace  # noqa: F401 (pytestmark below)

from skiffbuild.core.errors import SkiffError
from skiffbuild.model.model import Layer
from skiffbuild.release import update

pytestmark = pytest.importorskip("test_update").pytestmark


def script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + text)
    path.chmod(0o755)
    return path


def layer(root: Path, name: str, **hooks: tuple[Path, ...]) -> Layer:
    return Layer(name=name, path=root, origin=root.parent, style="yaml", **hooks)


def unpack(bundle: Path, dest: Path) -> Path:
    subprocess.run(["unsquashfs", "-d", str(dest), str(bundle)], check=True,
                   capture_output=True)
    return dest


def test_install_hooks_go_into_the_bundle_behind_one_dispatcher(tmp_path: Path) -> None:
    a = tmp_path / "layers" / "a"
    b = tmp_path / "layers" / "b"
    chain = (layer(a, "app/a", update_install=(script(a / "u/check.sh", "exit 0\n"),)),
             layer(b, "app/b", update_install=(script(b / "u/check.sh", "exit 10\n"),)))
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    bundle = update.build_update(ws, project, lambda _: None)
    shown = rauc_info(bundle, project.cache / "update-keys" / "dev" / "cert.pem")
    assert shown.returncode == 0, shown.stderr
    out = unpack(bundle, tmp_path / "x")
    # As rauc bundle rewrote it (checksums and sizes added, lists ';'-terminated).
    manifest = configparser.ConfigParser(interpolation=None)
    manifest.read(out / "manifest.raucm")
    assert dict(manifest["hooks"]) == {"filename": "hook", "hooks": "install-check;"}
    for slot in ("rootfs", "kernel"):
        assert manifest[f"image.{slot}"]["hooks"] == "pre-install;post-install;"
    assert sorted(p.name for p in (out / "hooks.d").iterdir()) == \
        ["01-app-a-check.sh", "02-app-b-check.sh"]
    assert (out / "hook").stat().st_mode & 0o777 == 0o755
    # The dispatcher runs them in chain order and stops at the first failure, with its
    # status (10: RAUC refuses the bundle in install-check).
    run = subprocess.run([str(out / "hook"), "install-check"], capture_output=True)
    assert run.returncode == 10
    record = json.loads((ws.paths.update_dir / update.INFO_FILE).read_text())
    assert record["hooks"]["install"] == ["app/a: check.sh", "app/b: check.sh"]


def test_a_dispatcher_passes_rauc_arguments_and_environment(tmp_path: Path) -> None:
    a = tmp_path / "layers" / "a"
    log = tmp_path / "calls"
    chain = (layer(a, "app/a", update_install=(script(
        a / "hook.sh", f'echo "$1 $RAUC_SLOT_CLASS" >> {log}\n'),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    out = unpack(update.build_update(ws, project, lambda _: None), tmp_path / "x")
    for kind in ("slot-pre-install", "slot-post-install"):
        subprocess.run([str(out / "hook"), kind], check=True,
                       env={"PATH": "/usr/bin:/bin", "RAUC_SLOT_CLASS": "rootfs"})
    assert log.read_text() == "slot-pre-install rootfs\nslot-post-install rootfs\n"


def test_a_bundle_hook_adds_files_reproducibly(tmp_path: Path) -> None:
    a = tmp_path / "layers" / "a"
    chain = (layer(a, "app/a", update_bundle=(script(
        a / "bundle.sh", 'mkdir -p "$1/extra" && echo "$SKIFFBUILD_BUNDLE_VERSION" '
        '> "$1/extra/version"\n'),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    first = update.build_update(ws, project, lambda _: None)
    out = unpack(first, tmp_path / "x")
    assert (out / "extra" / "version").read_text() == "1.0-20231114-cccccccccccc\n"
    record = json.loads((ws.paths.update_dir / update.INFO_FILE).read_text())
    assert record["hooks"]["bundle_files_added"] == ["extra", "extra/version"]
    copy = tmp_path / "first.raucb"
    copy.write_bytes(first.read_bytes())
    second = update.build_update(ws, project, lambda _: None)
    regions = update.bundle_regions(second)
    end = regions.payload[1]
    assert copy.read_bytes()[:end] == second.read_bytes()[:end]


def test_a_bundle_hook_may_not_change_what_skiffbuild_staged(tmp_path: Path) -> None:
    a = tmp_path / "layers" / "a"
    chain = (layer(a, "app/evil", update_bundle=(script(
        a / "bundle.sh", 'echo "[image.other]" >> "$1/manifest.raucm"\n'),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    with pytest.raises(SkiffError) as caught:
        update.build_update(ws, project, lambda _: None)
    assert caught.value.message == ("update_bundle hook app/evil: bundle.sh changed or "
                                    "removed manifest.raucm in the bundle; bundle hooks may "
                                    "only add files")
    assert not list(ws.paths.update_dir.glob("*.raucb"))


def test_a_bundle_hook_cannot_write_outside_the_staging_directory(tmp_path: Path) -> None:
    a = tmp_path / "layers" / "a"
    victim = tmp_path / "victim"
    victim.write_text("intact\n")
    chain = (layer(a, "app/evil", update_bundle=(script(
        a / "bundle.sh", f'echo owned > {victim}\n'),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    with pytest.raises(SkiffError) as caught:
        update.build_update(ws, project, lambda _: None)
    assert "update_bundle hook app/evil: bundle.sh failed" in caught.value.message
    assert victim.read_text() == "intact\n"


def test_build_info_records_the_bundle_and_installs_without_outdating_it(
        tmp_path: Path) -> None:
    ws, project = workspace(tmp_path / "p", SPEC)
    info_file = ws.paths.image_dir / "build-info.json"
    facts = update.image_facts(info_file)
    bundle = update.build_update(ws, project, lambda _: None)
    info = json.loads(info_file.read_text())
    record = json.loads((ws.paths.update_dir / update.INFO_FILE).read_text())
    assert info["update"] == {"bundle": bundle.name, "sha256": record["sha256"],
                              "size": bundle.stat().st_size,
                              "payload_size": record["payload_size"],
                              "compatible": "skiffbuild-demo",
                              "version": "1.0-20231114-cccccccccccc", "installs": []}
    assert record["image_facts_sha256"] == facts == update.image_facts(info_file)
    check = update.BundleIntact(ws.paths.update_dir, info_file)
    saved = check.saved()
    for n in range(25):
        update.record_install(ws, {"device": f"root@d{n}", "install_seconds": 1.5})
    assert check(None, saved)  # installs recorded: the bundle is still up to date
    installs = json.loads(info_file.read_text())["update"]["installs"]
    assert [i["device"] for i in installs] == [f"root@d{n}" for n in range(5, 25)]
    info = json.loads(info_file.read_text())
    info["source_date_epoch"] += 1
    info_file.write_text(json.dumps(info))
    assert not check(None, saved)  # the image's own facts changed: make it again
    assert update.published_bundle(ws)[0] == bundle


@pytest.mark.slow  # waits out the process it left behind
def test_what_a_bundle_hook_leaves_running_dies_with_it(tmp_path: Path) -> None:
    """In a PID namespace of its own: a process it left behind cannot change the
    bundle after the check."""
    a = tmp_path / "layers" / "a"
    chain = (layer(a, "app/sneaky", update_bundle=(script(
        a / "bundle.sh", '(sleep 2; echo tampered > "$1/manifest.raucm") '
        '</dev/null >/dev/null 2>&1 &\n'),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    bundle = update.build_update(ws, project, lambda _: None)
    time.sleep(3)
    out = unpack(bundle, tmp_path / "x")
    assert (out / "manifest.raucm").read_text().startswith("[update]\n")
    assert rauc_info(bundle, project.cache / "update-keys" / "dev" / "cert.pem").returncode == 0


@pytest.mark.parametrize("command,message", [
    ('chmod 755 "$1/manifest.raucm"\n',
     "bundle.sh changed or removed manifest.raucm in the bundle"),
    ('mkfifo "$1/pipe"\n',
     "bundle.sh added files that are neither regular files nor directories: pipe"),
    ('ln -s /etc/shadow "$1/shadow"\n',
     "bundle.sh added files that are neither regular files nor directories: shadow"),
    ('echo x > "$1/.hidden"\n', "bundle.sh added hidden files to the bundle: .hidden"),
])
def test_a_bundle_hook_may_only_add_plain_files(tmp_path: Path, command: str,
                                                message: str) -> None:
    a = tmp_path / "layers" / "a"
    chain = (layer(a, "app/a", update_bundle=(script(a / "bundle.sh", command),)),)
    ws, project = workspace(tmp_path / "p", SPEC, chain)
    with pytest.raises(SkiffError) as caught:
        update.build_update(ws, project, lambda _: None)
    assert caught.value.message.startswith(f"update_bundle hook app/a: {message}")


def test_an_install_that_cannot_be_recorded_is_said_not_raised(tmp_path: Path) -> None:
    ws, _project = workspace(tmp_path / "p", SPEC)
    info_file = ws.paths.image_dir / "build-info.json"
    for text in ("garbage", "[]", '{"update": null}', '{"update": {"installs": null}}'):
        info_file.write_text(text)
        problem = update.record_install(ws, {"device": "d", "date": "now"})
        if text.startswith("{"):
            assert problem is None
            assert json.loads(info_file.read_text())["update"]["installs"] == \
                [{"device": "d", "date": "now"}]
        else:
            assert problem is not None and problem.startswith(f"cannot record it in {info_file}")
    info_file.unlink()
    assert "No such file" in str(update.record_install(ws, {"device": "d"}))


def test_a_rewritten_build_info_without_the_update_section_remakes_it(tmp_path: Path) -> None:
    ws, project = workspace(tmp_path / "p", SPEC)
    info_file = ws.paths.image_dir / "build-info.json"
    update.build_update(ws, project, lambda _: None)
    check = update.BundleIntact(ws.paths.update_dir, info_file)
    saved = check.saved()
    assert check(None, saved)
    info = json.loads(info_file.read_text())
    del info["update"]  # image: wrote it anew, the same image
    info_file.write_text(json.dumps(info))
    assert not check(None, saved)
