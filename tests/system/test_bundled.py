"""The bundled boards and layers are well formed, and every Buildroot setting they request
takes effect.

The configurations are resolved with kconfiglib against the Buildroot-compatible test
tree, the way skiffbuild hands them to Buildroot: the layers' ``buildroot/`` fragments in
chain order (dependencies first), then the settings skiffbuild itself adds. The same check
against real Buildroot 2026.02.3 is described in layers/README.md. Only ``testtree`` is used
from skiffbuild: the manifests are read directly.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kconfiglib
import pytest
import yaml

from skiffbuild.app.testtree import find_testtree

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ROOT / "layers"
BOARDS = ROOT / "manifests" / "boards"
TREE = find_testtree()

LAYER_KEYS = {"format", "description", "dependencies", "unlisted", "cflags", "hooks", "commands"}
BOARD_KEYS = {"format", "description", "architecture", "buildroot", "layers", "fragments", "image",
              "update", "budget"}
ARCHITECTURES = {"aarch64", "arm", "x86_64", "riscv64", "i686"}
FILESYSTEMS = {"vfat", "ext4", "squashfs", "raw"}
FRAGMENT_DIRS = {"buildroot": "BR2_", "kernel": "CONFIG_", "uboot": "CONFIG_", "busybox": "CONFIG_"}

# What skiffbuild adds to every merged configuration (dummy paths); layers must not set
# these. The fragment-file and patch symbols are only added when a layer has such files.
ORCHESTRATOR = {
    "BR2_ROOTFS_OVERLAY": '"/ws/layer1/root_overlay /ws/layer2/root_overlay"',
    "BR2_GLOBAL_PATCH_DIR": '"/ws/layer1/buildroot_patches"',
    "BR2_ROOTFS_POST_BUILD_SCRIPT": '"/ws/config/post-build.sh"',
    "BR2_ROOTFS_POST_IMAGE_SCRIPT": '"/ws/config/post-image.sh"',
    "BR2_DL_DIR": '"/cache/dl"',
    "BR2_REPRODUCIBLE": "y",
    "BR2_TARGET_OPTIMIZATION": '"-pipe"',
}
ORCHESTRATOR_BY_DIR = {
    "kernel": ("BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", '"/ws/config/kernel.fragment"'),
    "uboot": ("BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES", '"/ws/config/uboot.fragment"'),
    "busybox": ("BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES", '"/ws/config/busybox.fragment"'),
    "kernel_patches": ("BR2_LINUX_KERNEL_PATCH", '"/ws/layer/kernel_patches"'),
    "uboot_patches": ("BR2_TARGET_UBOOT_PATCH", '"/ws/layer/uboot_patches"'),
}
RESERVED = set(ORCHESTRATOR) | {sym for sym, _ in ORCHESTRATOR_BY_DIR.values()} | {
    "BR2_EXTERNAL", "BR2_DEFCONFIG"}

CONFIGURATIONS = [("pi4", ()), ("qemu-x86_64", ()), ("pi4", ("skiff/core",)),
                  ("qemu-x86_64", ("skiff/core",)), ("qemu-x86_64-lean", ())]

ASSIGN = re.compile(r"^([A-Za-z0-9_]+)=(.*)$")
UNSET = re.compile(r"^# ([A-Za-z0-9_]+) is not set$")


def all_layers() -> list[str]:
    return sorted(str(p.parent.relative_to(LAYERS)) for p in LAYERS.glob("*/*/layer.yaml"))


def layer_meta(name: str) -> dict:
    return yaml.safe_load((LAYERS / name / "layer.yaml").read_text())


def board(name: str) -> dict:
    return yaml.safe_load((BOARDS / f"{name}.yaml").read_text())


def chain(names: list[str]) -> list[str]:
    """Dependencies before dependents, first occurrence kept."""
    out: list[str] = []

    def visit(name: str, stack: tuple[str, ...]) -> None:
        assert name not in stack, f"dependency cycle: {' -> '.join((*stack, name))}"
        if name in out:
            return
        for dep in layer_meta(name).get("dependencies") or []:
            visit(dep, (*stack, name))
        out.append(name)

    for name in names:
        visit(name, ())
    return out


def fragment_files(layer: str, kind: str) -> list[Path]:
    folder = LAYERS / layer / kind
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")),
                  key=lambda p: os.fsencode(p.name))


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def orchestrator_lines(layers: list[str]) -> list[str]:
    extra = dict(ORCHESTRATOR)
    for layer in layers:
        for folder, (symbol, value) in ORCHESTRATOR_BY_DIR.items():
            if (LAYERS / layer / folder).is_dir():
                extra[symbol] = value
    return [f"{sym}={value}" for sym, value in extra.items()]


def merged_lines(layers: list[str]) -> list[tuple[str, str]]:
    """(line, where) of the merged configuration: fragments in order, then skiffbuild's."""
    out = []
    for layer in layers:
        for path in fragment_files(layer, "buildroot"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                out.append((line, f"{path.relative_to(ROOT)}:{number}"))
    return out + [(line, "skiffbuild") for line in orchestrator_lines(layers)]


def merged_requests(layers: list[str]) -> list[tuple[str, str, str]]:
    """(symbol, value, where) of every assignment, in merge order; "is not set" is n."""
    out = []
    for line, where in merged_lines(layers):
        if m := ASSIGN.match(line):
            out.append((m.group(1), m.group(2), where))
        elif m := UNSET.match(line):
            out.append((m.group(1), "n", where))
    return out


def host_gcc_version() -> str:
    gcc = shutil.which("gcc")
    if gcc is None:
        return "12"
    out = subprocess.run([gcc, "-dumpversion"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split(".")[0] or "12"


def resolve(layers: list[str], out: Path, monkeypatch: pytest.MonkeyPatch) -> kconfiglib.Kconfig:
    """kconfiglib on the test tree with Buildroot's environment (reference §5)."""
    externals = [str(LAYERS / la / "buildroot_ext") for la in layers
                 if (LAYERS / la / "buildroot_ext").is_dir()]
    subprocess.run([sys.executable, "support/scripts/br2-external", "-d", str(out), *externals],
                   cwd=TREE, check=True)
    env = {
        "srctree": str(TREE), "BR2_BASE_DIR": str(out), "BR2_VERSION_FULL": "2026.02.3",
        "HOSTARCH": platform.machine(), "HOST_GCC_VERSION": host_gcc_version(),
        "BR2_DEFCONFIG": "", "SKIP_LEGACY": "", "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "",
        "CONFIG_": "",
    }
    for name in ("BASE_DIR", "TOPDIR", "CONFIG_DIR", "ARCH", "HOME"):
        env[name] = f"$({name})"
    for line in (out / ".br2-external.mk").read_text().splitlines():
        if m := re.fullmatch(r"export (BR2_EXTERNAL_\w+_PATH) = (.*)", line):
            env[m.group(1)] = m.group(2)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    merged = out / "merged.defconfig"
    merged.write_text("".join(line + "\n" for line, _ in merged_lines(layers)))
    kconf = kconfiglib.Kconfig(str(TREE / "Config.in"), warn_to_stderr=False)
    kconf.warn_assign_undef = True
    kconf.load_config(str(merged), replace=True)
    return kconf


# --- manifests ------------------------------------------------------------------------


@pytest.mark.parametrize("name", all_layers())
def test_layer_manifest(name: str) -> None:
    meta = layer_meta(name)
    assert set(meta) <= LAYER_KEYS, f"unknown keys {set(meta) - LAYER_KEYS}"
    assert meta["format"] == 1
    assert isinstance(meta["description"], str) and meta["description"].strip()
    assert "\n" not in meta["description"].strip()
    for dep in meta.get("dependencies") or []:
        assert (LAYERS / dep / "layer.yaml").is_file(), f"unknown dependency {dep}"
    scripts = [s for stage in (meta.get("hooks") or {}).values() for s in stage]
    for command in (meta.get("commands") or {}).values():
        assert command["description"].strip()
        scripts += command["run"][:1]
    for script in scripts:
        path = LAYERS / name / script
        assert path.is_file() and os.access(path, os.X_OK), f"{path} is not an executable file"


@pytest.mark.parametrize("name", sorted(p.stem for p in BOARDS.glob("*.yaml")))
def test_board_manifest(name: str) -> None:
    data = board(name)
    assert set(data) <= BOARD_KEYS and data["format"] == 1
    assert data["architecture"] in ARCHITECTURES
    assert (ROOT / "manifests" / f"{data.get('buildroot', 'buildroot')}.yaml").is_file()
    assert chain(list(data["layers"]))  # every layer exists, no cycle
    image = data["image"]
    assert image["table"] in ("mbr", "gpt")
    names = [p["name"] for p in image["partitions"]]
    assert len(names) == len(set(names))
    for part in image["partitions"]:
        assert part["filesystem"] in FILESYSTEMS
        if part["filesystem"] == "raw":
            assert part.get("image"), f"{name}: raw partition {part['name']} needs an image"
        elif part["filesystem"] in ("vfat", "ext4"):
            assert re.fullmatch(r"[0-9]+[KMG]?", str(part["size"]))
    if "skiff/base" in chain(list(data["layers"])):
        assert any(p.get("label") == "persist" and p["filesystem"] == "ext4"
                   for p in image["partitions"]), "skiff/base mounts LABEL=persist"


def test_buildroot_pin() -> None:
    pin = yaml.safe_load((ROOT / "manifests" / "buildroot.yaml").read_text())
    assert pin["format"] == 1
    assert re.fullmatch(r"[0-9a-f]{40}", pin["commit"])
    assert pin["tag"] == "2026.02.3"
    assert (ROOT / pin["patches"]).is_dir()


# --- layer contents ---------------------------------------------------------------------


@pytest.mark.parametrize("name", all_layers())
def test_fragments(name: str) -> None:
    for kind, prefix in FRAGMENT_DIRS.items():
        for path in fragment_files(name, kind):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                where = f"{path.relative_to(ROOT)}:{number}"
                if not line.strip():
                    continue
                if line.startswith("#") and not UNSET.match(line):
                    # With Buildroot's empty symbol prefix kconfiglib reads a comment
                    # holding '=' as an assignment.
                    assert "=" not in line, f"{where}: '=' in a comment"
                    continue
                m = ASSIGN.match(line) or UNSET.match(line)
                assert m, f"{where}: not an assignment: {line!r}"
                assert m.group(1).startswith(prefix), f"{where}: {kind}/ takes {prefix}*"
                assert m.group(1) not in RESERVED, f"{where}: {m.group(1)} is set by skiffbuild"


def scripts() -> list[Path]:
    found = []
    for path in sorted(LAYERS.rglob("*")):
        if path.is_file() and os.access(path, os.X_OK):
            found.append(path)
    return found


@pytest.mark.parametrize("path", scripts(), ids=lambda p: str(p.relative_to(LAYERS)))
def test_scripts_are_posix_sh_and_deterministic(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("#!/bin/sh\n")
    assert re.search(r"^set -eu$", text, re.M)
    subprocess.run(["sh", "-n", str(path)], check=True)
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert not re.search(r"(^|[\s;|&(`$])date\b", code), "no build dates"
    if "/hooks/" in str(path):  # build-time hooks must not depend on the build machine
        assert not re.search(r"\bhostname\b|\$\(whoami\)|\$USER\b", code)


def test_hooks_provide_the_files_the_boards_expect() -> None:
    """Every non-glob file a board's image takes from images/ has a producer."""
    producers = {
        "Image": ("BR2_LINUX_KERNEL_IMAGE", "y"),
        "bzImage": ("BR2_LINUX_KERNEL_BZIMAGE", "y"),
        "rootfs.squashfs": ("BR2_TARGET_ROOTFS_SQUASHFS", "y"),
        "rootfs.cpio.gz": ("BR2_TARGET_ROOTFS_CPIO_GZIP", "y"),
        "rpi-firmware/": ("BR2_PACKAGE_RPI_FIRMWARE", "y"),
    }
    for name in sorted(p.stem for p in BOARDS.glob("*.yaml")):
        data = board(name)
        layers = chain(list(data["layers"]))
        requests = {sym: unquote(val) for sym, val, _ in merged_requests(layers)}
        wanted = [c["source"] for p in data["image"]["partitions"]
                  for c in p.get("contents", [])] + [
            p["image"] for p in data["image"]["partitions"] if p.get("image")]
        for source in wanted:
            if "*" in source:
                continue
            if source in producers:
                sym, val = producers[source]
                assert requests.get(sym) == val, f"{name}: {source} needs {sym}={val}"
            else:  # copied from the layer's resources/ or made by a post-image hook
                assert any(list((LAYERS / la / "resources").rglob(source))
                           for la in layers if (LAYERS / la / "resources").is_dir()) or \
                    any(f'"$images/{source}"' in (LAYERS / la / hook).read_text()
                        for la in layers
                        for hook in (layer_meta(la).get("hooks") or {}).get("post_image", [])), \
                    f"{name}: nothing provides {source}"


# --- resolution ---------------------------------------------------------------------------


@pytest.mark.parametrize(("board_name", "extra"), CONFIGURATIONS,
                         ids=[b + "".join("+" + e for e in x) for b, x in CONFIGURATIONS])
def test_every_request_takes_effect(board_name: str, extra: tuple[str, ...], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    layers = chain([*board(board_name)["layers"], *extra])
    lean = board_name == "qemu-x86_64-lean"  # its own chain, without skiff/base
    assert layers[0] == ("virt/lean" if lean else "skiff/base")
    kconf = resolve(layers, tmp_path, monkeypatch)
    final: dict[str, tuple[str, str]] = {}
    for sym, value, where in merged_requests(layers):
        final[sym] = (unquote(value), where)
    problems = []
    for sym, (value, where) in final.items():
        symbol = kconf.syms.get(sym)
        if symbol is None or not symbol.nodes:
            problems.append(f"{where}: unknown symbol {sym}")
        elif symbol.str_value != value:
            problems.append(f"{where}: {sym} wanted {value!r}, got {symbol.str_value!r}")
    benign = ("Kconfiglib expands environment variables", "has 'option env=")
    problems += [w for w in kconf.warnings if not any(b in w for b in benign)]
    assert not problems, "\n".join(problems)
    # The settings that make the design work, spelled out.
    design = [("BR2_INIT_BUSYBOX", "y"), ("BR2_PACKAGE_SYSTEMD", "n"),
              ("BR2_TOOLCHAIN_BUILDROOT_MUSL", "y"), ("BR2_PACKAGE_DROPBEAR", "n"),
              ("BR2_TARGET_ROOTFS_SQUASHFS", "y"), ("BR2_TARGET_ROOTFS_CPIO", "n"),
              ("BR2_TARGET_ROOTFS_TAR", "n")] if lean else [
        ("BR2_INIT_SYSTEMD", "y"), ("BR2_PACKAGE_SYSTEMD", "y"),
        ("BR2_TOOLCHAIN_BUILDROOT_GLIBC", "y"), ("BR2_PACKAGE_DROPBEAR", "y")]
    for sym, value in [*design, ("BR2_TARGET_GENERIC_REMOUNT_ROOTFS_RW", "n"),
                       ("BR2_LINUX_KERNEL", "y")]:
        assert kconf.syms[sym].str_value == value, sym
    if "skiff/core" in layers:
        assert kconf.syms["BR2_PACKAGE_DOCKER_ENGINE"].str_value == "y"
        assert kconf.syms["BR2_EXTERNAL_SKIFF_CORE_PATH"].str_value == str(
            LAYERS / "skiff/core/buildroot_ext")
