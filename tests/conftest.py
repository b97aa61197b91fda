"""Shared fixtures: the Buildroot-compatible test tree as a pinned git repository,
and copies of this project's boards and layers that tests may edit."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from httpserver import FaultyServer

from skiffbuild.sources.dlcache import DownloadCache

ROOT = Path(__file__).resolve().parents[1]
TESTTREE = ROOT / "tests" / "buildroot-tree"
MAKE_SOURCES = TESTTREE / "support" / "testing" / "make-sources"


def copy_testtree(dest: Path) -> Path:
    """A private copy of the test tree: make runs must not write into the source tree."""
    shutil.copytree(TESTTREE, dest, symlinks=True,
                    ignore=shutil.ignore_patterns("output", "dl", ".config*", "__pycache__"))
    return dest


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the test tree per test module."""
    return copy_testtree(tmp_path_factory.mktemp("br") / "buildroot")


def run_make(*args: str | Path, env: dict[str, str], cwd: Path | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """``make -s`` with the test's environment; a failure shows make's output."""
    proc = subprocess.run(["make", "-s", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"make {' '.join(map(str, args))}: {proc.stdout}\n{proc.stderr}")
    return proc
UPSTREAM = "https://gitlab.com/buildroot.org/buildroot.git"


@dataclass(frozen=True)
class PinnedTree:
    repo: Path
    sha: str


@dataclass(frozen=True)
class DoitProject:
    """A copy of the project pinned to the test tree, run through the real doit CLI."""

    root: Path
    env: dict[str, str]

    def doit(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "doit", *args], cwd=self.root, env=self.env,
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"doit {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def skiffbuild(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "skiffbuild", *args], cwd=self.root,
                              env=self.env, capture_output=True, text=True, check=False)


def ran(output: str) -> dict[str, bool]:
    """doit's console lines: '.  task' executed, '-- task' up to date."""
    status = {}
    for line in output.splitlines():
        if line.startswith(".  "):
            status[line[3:].strip()] = True
        elif line.startswith("-- "):
            status[line[3:].strip()] = False
    return status


@pytest.fixture(scope="session")
def testtree(tmp_path_factory: pytest.TempPathFactory) -> PinnedTree:
    from skiffbuild.app.testtree import create_testtree_repo

    repo = tmp_path_factory.mktemp("testtree") / "buildroot"
    return PinnedTree(repo, create_testtree_repo(repo))


def make_doit_project(dest: Path, tree: PinnedTree,
                      boards: dict[str, str] | None = None) -> DoitProject:
    """Copy the bundled boards and layers to ``dest`` with a pin on the test tree."""
    shutil.copytree(ROOT / "layers", dest / "layers", symlinks=True)
    shutil.copytree(ROOT / "manifests" / "boards", dest / "manifests" / "boards")
    for name, text in (boards or {}).items():
        (dest / "manifests" / "boards" / f"{name}.yaml").write_text(text)
    shutil.copy(ROOT / "dodo.py", dest / "dodo.py")
    (dest / "manifests" / "buildroot.yaml").write_text(
        f"format: 1\nurl: {UPSTREAM}\ncommit: {tree.sha}\ntag: 2026.02.3-test\n")
    mirrors = dest / "mirrors.yaml"
    mirrors.write_text(f"{UPSTREAM}:\n  - {tree.repo}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}
    env["SKIFFBUILD_MIRRORS"] = str(mirrors)
    return DoitProject(dest, env)


@pytest.fixture
def doit_project(tmp_path: Path, testtree: PinnedTree) -> DoitProject:
    return make_doit_project(tmp_path / "project", testtree)


def serve_sources(site: Path) -> FaultyServer:
    """The test tree's stand-in upstream files, served in dl/<dl_dir>/<file> layout."""
    subprocess.run([str(MAKE_SOURCES), str(site)], check=True, capture_output=True)
    server = FaultyServer()
    for path in site.rglob("*"):
        if path.is_file():
            server.files["/" + str(path.relative_to(site))] = path.read_bytes()
    return server


@pytest.fixture
def server() -> Iterator[FaultyServer]:
    """An HTTP server on 127.0.0.1 with no files yet (tests add them and their faults)."""
    srv = FaultyServer()
    yield srv
    srv.stop()


@pytest.fixture
def cache(tmp_path: Path) -> DownloadCache:
    """An empty verified download cache."""
    return DownloadCache(tmp_path / "dl", tmp_path / "state", tmp_path / "rejected")


@pytest.fixture
def upstream(tmp_path: Path) -> Iterator[FaultyServer]:
    server = serve_sources(tmp_path / "site")
    yield server
    server.stop()


def use_standin_pi_kernel(project: DoitProject, site: Path) -> None:
    """pi/common pins the real Raspberry Pi kernel tarball's hash; the test tree's stand-in
    tarball of that name has other bytes, so this project's copy of the layer names the
    stand-in's hash instead."""
    subprocess.run([str(MAKE_SOURCES), str(site)], check=True, capture_output=True)
    hash_file = project.root / "layers/pi/common/buildroot_patches/linux/linux.hash"
    lines = []
    for line in hash_file.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and not line.startswith("#") and (site / "linux" / parts[2]).is_file():
            digest = hashlib.sha256((site / "linux" / parts[2]).read_bytes()).hexdigest()
            line = f"sha256  {digest}  {parts[2]}"
        lines.append(line)
    hash_file.write_text("\n".join(lines) + "\n")


def add_external_package(project: DoitProject, name: str, version: str,
                         files: dict[str, str], mk_extra: str = "") -> Path:
    """A generic package in skiff/core's BR2_EXTERNAL tree, enabled on qemu-x86_64 (with
    skiff/core added to the board), its site on the primary site's host."""
    ext = project.root / "layers" / "skiff" / "core" / "buildroot_ext"
    pkg = ext / "package" / name
    pkg.mkdir(parents=True)
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    upper = name.upper().replace("-", "_")
    (pkg / "Config.in").write_text(f'config BR2_PACKAGE_{upper}\n\tbool "{name}"\n')
    (pkg / f"{name}.mk").write_text(f"{upper}_VERSION = {version}\n{upper}_SITE = "
                                    f"https://sources.skiffbuild.invalid/{name}\n"
                                    f"{mk_extra}$(eval $(generic-package))\n")
    config_in = ext / "Config.in"
    config_in.write_text(config_in.read_text() + f'\nsource "$BR2_EXTERNAL_SKIFF_CORE_PATH/'
                                                 f'package/{name}/Config.in"\n')
    mk = ext / "external.mk"
    if "package/*/*.mk" not in mk.read_text():
        mk.write_text(mk.read_text() + "\ninclude $(sort $(wildcard "
                      "$(BR2_EXTERNAL_SKIFF_CORE_PATH)/package/*/*.mk))\n")
    board = project.root / "manifests" / "boards" / "qemu-x86_64.yaml"
    if "skiff/core" not in board.read_text():
        board.write_text(board.read_text().replace("layers: [", "layers: [skiff/core, "))
    frag = project.root / "overrides" / "buildroot"
    frag.mkdir(parents=True, exist_ok=True)
    (frag / name).write_text(f"BR2_PACKAGE_{upper}=y\n")
    return pkg


# ------------------------------------------------------------ real Buildroot

# ../shared beside the checkout (as CI lays it out), or SKIFFBUILD_SHARED.
SHARED = Path(os.environ.get("SKIFFBUILD_SHARED") or ROOT.parent / "shared")
REAL_BUILDROOT = SHARED / "buildroot" / "buildroot.git"
REAL_PIN = "679b9ead7620bbf193620d1ebf56f53c1764d37a"  # 2026.02.3
# The small board really built (tests/real/README.md) and what scripts/setup-real makes for it.
REAL_BOARD = ROOT / "tests" / "real"
REAL_TOOLCHAIN = Path("/usr/local/share/skiffbuild/debian-toolchain")
REAL_KERNEL = Path("/usr/local/share/skiffbuild/testtree-kernel/vmlinuz")
REAL_BUILD_NEEDS = (SHARED / "sources" / "busybox-1.37.0.tar.bz2",
                    SHARED / "sources" / "patchelf-0.13-skiffbuild.tar.gz",
                    REAL_TOOLCHAIN / ".complete", REAL_KERNEL)


def unless_installed(missing: list[str], what: str = "scripts/setup installs it"
                     ) -> pytest.MarkDecorator:
    """Skip where a host tool is missing, with the reason; under CI=true never: the test
    then runs and fails, as CI must have every tool (scripts/setup installs them)."""
    return pytest.mark.skipif(bool(missing) and os.environ.get("CI") != "true",
                              reason=f"missing {', '.join(missing)} ({what})")


def require_shared(*paths: Path) -> None:
    """Skip with one clear reason when the real-Buildroot material is absent; under
    CI=true that is a failure, never a skip."""
    missing = [p for p in (REAL_BUILDROOT, *paths) if not p.exists()]
    if not missing:
        return
    reason = (f"real Buildroot tier: {', '.join(map(str, missing))} absent (shared/ beside the "
              "checkout, or SKIFFBUILD_SHARED)")
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI must run this tier", pytrace=False)
    pytest.skip(reason)


def make_real_project(dest: Path, source: Path = ROOT) -> DoitProject:
    """A copy of the project at ``source`` (boards, layers, pin, patch series) whose
    upstream Buildroot URL maps to the real shallow copy in shared/."""
    require_shared()
    for name in ("layers", "manifests", "buildroot"):
        if (source / name).is_dir():
            shutil.copytree(source / name, dest / name, symlinks=True)
    shutil.copy(ROOT / "dodo.py", dest / "dodo.py")
    mirrors = dest / "mirrors.yaml"
    mirrors.write_text(f"{UPSTREAM}:\n  - {REAL_BUILDROOT}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}
    env["SKIFFBUILD_MIRRORS"] = str(mirrors)
    env["SKIFFBUILD_OFFLINE"] = "1"  # the real tier never touches the network
    return DoitProject(dest, env)


def real_site(dest: Path) -> Path:
    """A primary download site in Buildroot's dl/ layout with the three files of the real
    board: two from shared/sources, the BR2_EXTERNAL package's tarball made here."""
    for dl_dir, name in (("busybox", "busybox-1.37.0.tar.bz2"),
                         ("patchelf", "patchelf-0.13-skiffbuild.tar.gz")):
        (dest / dl_dir).mkdir(parents=True)
        shutil.copy(SHARED / "sources" / name, dest / dl_dir / name)
    subprocess.run([str(REAL_BOARD / "make-ext-tarball"), str(dest / "skiffhello")],
                   check=True, capture_output=True)
    return dest


def make_real_board_project(base: Path) -> DoitProject:
    """tests/real as a project on real Buildroot, its sources on a file:// primary site."""
    project = make_real_project(base / "project", REAL_BOARD)
    del project.env["SKIFFBUILD_OFFLINE"]  # the sources come from the primary site
    project.env["SKIFFBUILD_PRIMARY_SITE"] = f"file://{real_site(base / 'site')}"
    return project


@pytest.fixture(scope="session")
def real_project(tmp_path_factory: pytest.TempPathFactory) -> DoitProject:
    """This project's bundled boards on the pinned real Buildroot, fetched once."""
    require_shared()
    project = make_real_project(tmp_path_factory.mktemp("real") / "project")
    project.doit("fetch:buildroot")
    return project
