"""Layer mistakes are not silent (issue 13, finding 6): an entry skiffbuild does not read
and an undeclared hook are warnings with what was probably meant; a board whose layers
configure another architecture fails config:<ws>."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.core.project import Project
from skiffbuild.model.layers import scan_layers


def warnings_of(root: Path, files: dict[str, str | None]) -> list[str]:
    write_project(root, files)
    index, problems = scan_layers(Project(root))
    assert problems == []
    return [str(w) for layer in index.layers.values() for w in layer.warnings]


def test_unknown_entries_are_named_with_what_was_meant(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("x"),
        "layers/a/b/rootfs_overlay/etc/motd": "hi\n",
        "layers/a/b/kernel-fragments/virtio.config": "CONFIG_VIRTIO=y\n",
        "layers/a/b/buildroot-ext/external.desc": "name: X\n",
        "layers/a/b/docs/notes.txt": "\n",
        "layers/a/b/cflag": "-O2\n",
        "layers/a/b/README.md": "fine\n",           # a file with no near part: not a warning
        "layers/a/b/resources/config.txt": "\n",    # files its scripts read: fine
        "layers/a/b/.git-keep/": "",
    }) == [
        "layers/a/b/buildroot-ext: unknown layer directory 'buildroot-ext/' is not used "
        "(did you mean 'buildroot_ext/'?)",
        "layers/a/b/cflag: unknown layer file 'cflag' is not used (did you mean 'cflags/'?)",
        "layers/a/b/docs: unknown layer directory 'docs/' is not used (a layer's parts are "
        "buildroot/, kernel/, uboot/, busybox/, cflags/, root_overlay/, buildroot_ext/, "
        "buildroot_patches/, kernel_patches/, uboot_patches/, users/, hooks/; files its "
        "scripts read belong in resources/)",
        "layers/a/b/kernel-fragments: unknown layer directory 'kernel-fragments/' is not used "
        "(did you mean 'kernel/'?)",
        "layers/a/b/rootfs_overlay: unknown layer directory 'rootfs_overlay/' is not used "
        "(did you mean 'root_overlay/'?)",
    ]


def test_undeclared_hooks_say_how_to_declare_them(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("x", extra="commands:\n  go: {run: [tools/go.sh]}\n"),
        "layers/a/b/hooks/post-build.sh": "#!/bin/sh\n",
        "layers/a/b/hooks/post-image.sh": "#!/bin/sh\n",
        "layers/a/b/hooks/lib.sh": "# sourced by a hook: not a hook itself\n",
        "layers/a/b/tools/go.sh": "#!/bin/sh\n",     # named by a command: its own directory
        "layers/s/k/metadata/description": "SkiffOS layout\n",
        "layers/s/k/hooks/post-build.sh": "#!/bin/sh\n",
        "layers/s/k/hooks/pre.sh": "#!/bin/sh\n",
    }) == [
        "layers/a/b/hooks/post-build.sh: hook script not declared in layer.yaml, so it never "
        "runs; to run it after the build, add to layer.yaml: hooks: {post_build: "
        "[hooks/post-build.sh]}",
        "layers/a/b/hooks/post-image.sh: hook script not declared in layer.yaml, so it never "
        "runs; to run it after the image, add to layer.yaml: hooks: {post_image: "
        "[hooks/post-image.sh]}",
        "layers/s/k/hooks/post-build.sh: hook script not run: a SkiffOS-layout layer runs "
        "hooks/pre.sh after the build and hooks/post.sh after the image",
    ]


def test_declared_hooks_and_the_bundled_layers_have_no_warnings(tmp_path: Path) -> None:
    assert warnings_of(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("x", extra="hooks:\n  post_build: "
                                                       "[hooks/post-build.sh]\n"),
        "layers/a/b/hooks/post-build.sh": "#!/bin/sh\n",
    }) == []
    index, _ = scan_layers(Project(Path(__file__).resolve().parents[2]))
    assert {name: [str(w) for w in layer.warnings] for name, layer in index.layers.items()
            if layer.warnings} == {}


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_check_and_config_report_them(tmp_path: Path, testtree: PinnedTree) -> None:
    project = make_doit_project(tmp_path / "p", testtree, boards={
        "arm-on-x86": board_yaml(["virt/qemu"]).replace("x86_64", "aarch64")})
    qemu = project.root / "layers" / "virt" / "qemu"
    (qemu / "rootfs_overlay" / "etc").mkdir(parents=True)
    (qemu / "rootfs_overlay" / "etc" / "motd").write_text("hi\n")
    result = project.skiffbuild("check", "qemu-x86_64")
    assert result.returncode == 0, result.stderr
    assert "warning: layers/virt/qemu/rootfs_overlay: unknown layer directory " \
           "'rootfs_overlay/' is not used (did you mean 'root_overlay/'?)\n" in result.stderr
    assert result.stdout.splitlines()[-1].startswith("qemu-x86_64: 1 finding(s) (hash audit:")

    wrong = project.doit("config:arm-on-x86", check=False)
    assert wrong.returncode == 2
    assert ("error: manifests/boards/arm-on-x86.yaml:3: architecture: the board is aarch64 but "
            'its layers configure Buildroot for x86_64 (BR2_ARCH="x86_64"; BR2_x86_64=y from '
            "virt/qemu (layers/virt/qemu/buildroot/10-qemu:1))") in wrong.stdout + wrong.stderr
