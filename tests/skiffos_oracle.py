"""The real SkiffOS as an oracle: what SkiffOS's own ``make configure`` makes of a
``SKIFF_CONFIG``, and the ``.config`` real Buildroot 2026.08-rc1 resolves from it, so that
tests can compare skiffbuild's result with the real thing.

Material (read-only, from shared/; absent → skip, a failure under CI=true):

- ``SHARED/skiffos/skiffos-2026.08-8-g90392558.tar.gz``: SkiffOS without its ``buildroot``
  submodule and without ``resources/``;
- ``SHARED/buildroot/buildroot.git``: a shallow bare clone of Buildroot with tag 2026.08-rc1.

How SkiffOS runs offline here (:func:`skiffos_tree`):

- ``buildroot/`` gets a stand-in Makefile (:data:`STANDIN_BUILDROOT_MAKEFILE`). During
  ``configure`` SkiffOS touches Buildroot exactly three ways: ``ensure_submodule.sh`` only
  checks that ``buildroot/Makefile`` exists (else it would ``git submodule update``);
  ``setup_workspace.sh`` runs ``make O=workspaces/<ws> defconfig`` in ``buildroot/`` when
  ``workspaces/<ws>/Makefile`` is missing (real Buildroot writes that wrapper Makefile); and
  ``build_configs.sh`` runs ``make defconfig BR2_DEFCONFIG=<merged> BR2_EXTERNAL=<a:b>`` in
  ``workspaces/<ws>`` through that wrapper, then moves ``<ws>/.config`` to
  ``.config_<ws>/final/buildroot``. The stand-in writes the wrapper, copies ``BR2_DEFCONFIG``
  (or nothing) to ``$(O)/.config``, records every call's ``BR2_DEFCONFIG`` and
  ``BR2_EXTERNAL`` in ``$(O)/.skiffos-oracle-calls`` (so :attr:`SkiffosResult.externals` is
  what SkiffOS really passed, not a guess), and fails on any other target. Consequently
  ``.config_<ws>/final/buildroot`` is a copy of the merged defconfig, *not* a resolved
  ``.config``: that one comes from :func:`buildroot_dotconfig` on the real tree.
- ``resources/text/temp_confdir_warning`` is created: ``build_configs.sh`` copies it to
  ``.config_<ws>/{WARNING,DO_NOT_EDIT}`` under ``set -e`` and the tarball lacks ``resources/``.
- The tree is **not** a git repository, and git is kept from finding one above it
  (``GIT_CEILING_DIRECTORIES``): ``skiff_version.sh`` then sets ``SKIFF_VERSION`` and
  ``SKIFF_VERSION_COMMIT`` to ``unknown`` (so the defconfig holds
  ``BR2_TARGET_GENERIC_HOSTNAME="skiffos-unknown"`` and ``BR2_TARGET_GENERIC_ISSUE="Welcome to
  SkiffOS unknown!"``), and ``git config core.hooksPath`` prints "Failed to register Git
  Hooks." harmlessly. A git repository would give a commit id that differs on every
  extraction, and could never give the real ``2026.08-8-g90392558``.

Paths SkiffOS generates contain ``//`` (``SKIFF_FINAL_CONFIG_DIR`` ends in ``/``); they are
kept verbatim in the files, and normalised in the :class:`pathlib.Path` values returned here.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REAL_BUILDROOT, ROOT, SHARED, UPSTREAM, DoitProject, require_shared

SKIFFOS_TARBALL = SHARED / "skiffos" / "skiffos-2026.08-8-g90392558.tar.gz"
BUILDROOT_TAG = "2026.08-rc1"

CALLS_FILE = ".skiffos-oracle-calls"

# Recipes use $(O) and $(CURDIR) of this Makefile; the wrapper it writes into $(O) sends any
# goal back here with the same O=, as real Buildroot's generated <O>/Makefile does.
STANDIN_BUILDROOT_MAKEFILE = f"""\
# skiffbuild tests/skiffos_oracle.py: a stand-in for SkiffOS's buildroot submodule that
# supports exactly what SkiffOS's `make configure` needs: `defconfig`.
O ?= $(CURDIR)/output

.PHONY: defconfig
defconfig:
\t@mkdir -p '$(O)'
\t@printf 'Makefile: ;\\n%%:\\n\\t@$$(MAKE) --no-print-directory -C %s O=%s $$@\\n' \\
\t\t'$(CURDIR)' '$(O)' > '$(O)/Makefile'
\t@printf '%s\\t%s\\n' '$(BR2_DEFCONFIG)' '$(BR2_EXTERNAL)' >> '$(O)/{CALLS_FILE}'
\t@if [ -n '$(BR2_DEFCONFIG)' ]; then cp '$(BR2_DEFCONFIG)' '$(O)/.config'; \\
\telse : > '$(O)/.config'; fi

Makefile: ;
%:
\t@echo "skiffos_oracle stand-in buildroot: target '$@' is not supported" >&2; exit 2
"""

_SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]+")
_WORKSPACE = re.compile(r"[a-z0-9._-]+")
_SYMBOL = re.compile(r"([A-Za-z0-9_]+)=(.*)")
_NOT_SET = re.compile(r"# ([A-Za-z0-9_]+) is not set")
_MERGE_NOTE = re.compile(r"Value of (\S+) is (redefined|redundant) by fragment (\S+):")


def _check_path(path: Path) -> Path:
    """SkiffOS's scripts do not quote paths, and BR2_EXTERNAL is colon-separated."""
    path = path.resolve()
    if not _SAFE_PATH.fullmatch(str(path)):
        raise ValueError(f"{path}: SkiffOS and Buildroot need a path of [A-Za-z0-9_./+-] only")
    return path


# ------------------------------------------------------------------ the two trees

def skiffos_tree(dest: Path) -> Path:
    """The SkiffOS tarball extracted at ``dest`` (a private, writable copy) with the stand-in
    ``buildroot/Makefile`` and ``resources/text/temp_confdir_warning`` added."""
    require_shared(SKIFFOS_TARBALL)
    dest = _check_path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-xzf", str(SKIFFOS_TARBALL), "-C", str(dest),
                    "--strip-components=1"], check=True, capture_output=True)
    (dest / "buildroot").mkdir()
    (dest / "buildroot" / "Makefile").write_text(STANDIN_BUILDROOT_MAKEFILE)
    (dest / "resources" / "text").mkdir(parents=True)
    (dest / "resources" / "text" / "temp_confdir_warning").write_text(
        "WARNING: generated by SkiffOS's configure; every change here is lost.\n")
    return dest


def buildroot_2026_08(dest: Path) -> Path:
    """Real Buildroot 2026.08-rc1 checked out at ``dest`` (``git archive`` of the tag from
    the read-only shared clone)."""
    require_shared()
    dest = _check_path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    git = ["git", "-c", f"safe.directory={REAL_BUILDROOT}", f"--git-dir={REAL_BUILDROOT}"]
    with subprocess.Popen([*git, "archive", BUILDROOT_TAG], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as archive:
        untar = subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout,
                               capture_output=True, check=False)
        assert archive.stdout is not None and archive.stderr is not None
        archive.stdout.close()
        err = archive.stderr.read().decode()
    if archive.returncode != 0 or untar.returncode != 0:
        raise RuntimeError(f"git archive {BUILDROOT_TAG} | tar x: {err}{untar.stderr.decode()}")
    return dest


@pytest.fixture(scope="session")
def skiffos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One writable SkiffOS tree per session; tests configure it in workspaces of their own
    (distinct workspace names, which may run concurrently)."""
    require_shared(SKIFFOS_TARBALL)
    return skiffos_tree(tmp_path_factory.mktemp("skiffos") / "skiffos")


@pytest.fixture(scope="session")
def buildroot_2026_08_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Buildroot 2026.08-rc1 tree per session (give each run its own ``output``)."""
    require_shared()
    return buildroot_2026_08(tmp_path_factory.mktemp("br202608") / "buildroot")


# ------------------------------------------------------------------ SkiffOS configure

@dataclass(frozen=True)
class MergeNote:
    """One message of SkiffOS's merge_config.sh about a CONFIG_ symbol set again."""

    symbol: str
    kind: str  # "redefined" (value changed) or "redundant" (same value again)
    fragment: Path


@dataclass(frozen=True)
class SkiffosResult:
    """What ``make configure`` of the real SkiffOS produced for one workspace."""

    root: Path
    workspace: str
    skiff_config: str  # as requested
    chain: tuple[str, ...]  # resolved, from .config_<ws>/skiff_config
    layer_dirs: tuple[Path, ...]  # merge order as SkiffOS printed it (pre … post)
    config_dir: Path  # workspaces/.config_<ws>
    defconfig: Path  # the merged SkiffOS defconfig: .config_<ws>/buildroot/config
    kernel_fragment: Path | None  # .config_<ws>/kernel/config; None when left empty
    uboot_fragment: Path | None
    busybox_fragment: Path | None
    externals: tuple[Path, ...]  # BR2_EXTERNAL SkiffOS passed to `make defconfig`
    users_table: Path | None  # .config_<ws>/users; None when empty
    cflags: str | None  # .config_<ws>/cflags without its newline; None when empty
    version: str  # SKIFF_VERSION (here "unknown": not a git checkout)
    merge_notes: tuple[MergeNote, ...]
    log: str  # stdout then stderr of make configure

    def requested(self) -> dict[str, str]:
        """The merged defconfig as Buildroot's kconfig reads it: last assignment wins."""
        return parse_config(self.defconfig.read_text())


class SkiffosConfigureError(AssertionError):
    def __init__(self, returncode: int, log: str) -> None:
        super().__init__(f"SkiffOS make configure failed ({returncode}):\n{log}")
        self.returncode = returncode
        self.log = log


def skiffos_env(root: Path, **extra: str) -> dict[str, str]:
    """A clean environment for SkiffOS's make (nothing inherited but PATH and HOME)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C",
            "GIT_CEILING_DIRECTORIES": str(root.parent), **extra}


def _nonempty(path: Path) -> Path | None:
    return path if path.is_file() and path.read_text().strip() else None


def skiffos_configure(root: Path, skiff_config: str, workspace: str) -> SkiffosResult:
    """Run SkiffOS's own ``make configure`` in ``root`` (from :func:`skiffos_tree`) with
    ``SKIFF_CONFIG``, ``SKIFF_WORKSPACE`` and ``SKIFF_NO_INTERACTIVE=1``; raise
    :class:`SkiffosConfigureError` when it fails (e.g. an unknown layer)."""
    root = _check_path(root)
    if not _WORKSPACE.fullmatch(workspace):
        raise ValueError(f"{workspace!r}: give the name SkiffOS would use ([a-z0-9._-]+)")
    ws_dir = root / "workspaces" / workspace
    (ws_dir / CALLS_FILE).unlink(missing_ok=True)
    env = skiffos_env(root, SKIFF_CONFIG=skiff_config, SKIFF_WORKSPACE=workspace,
                      SKIFF_NO_INTERACTIVE="1")
    proc = subprocess.run(["make", "configure"], cwd=root, env=env, capture_output=True,
                          text=True, check=False)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SkiffosConfigureError(proc.returncode, log)

    config_dir = root / "workspaces" / f".config_{workspace}"
    calls = [line.split("\t") for line in (ws_dir / CALLS_FILE).read_text().splitlines()]
    passed = [ext for defconfig, ext in calls if defconfig]
    assert len(passed) == 1, f"SkiffOS ran defconfig with BR2_DEFCONFIG {len(passed)} times"
    lines = proc.stdout.splitlines()
    layer_line = lines[lines.index("Config path: ") + 1]
    cflags = (config_dir / "cflags").read_text().removesuffix("\n")
    return SkiffosResult(
        root=root, workspace=workspace, skiff_config=skiff_config,
        chain=tuple((config_dir / "skiff_config").read_text().strip().split(",")),
        layer_dirs=tuple(Path(p) for p in layer_line.split()),
        config_dir=config_dir,
        defconfig=config_dir / "buildroot" / "config",
        kernel_fragment=_nonempty(config_dir / "kernel" / "config"),
        uboot_fragment=_nonempty(config_dir / "uboot" / "config"),
        busybox_fragment=_nonempty(config_dir / "busybox" / "config"),
        externals=tuple(Path(p) for p in passed[0].split(":") if p),
        users_table=_nonempty(config_dir / "users"),
        cflags=cflags or None,
        version=(config_dir / "skiff_version").read_text().strip(),
        merge_notes=tuple(MergeNote(m[1], m[2], Path(m[3]))
                          for m in _MERGE_NOTE.finditer(proc.stdout)),
        log=log)


def skiffos_configure_many(root: Path, configs: dict[str, str]) -> dict[str, SkiffosResult]:
    """:func:`skiffos_configure` of ``{workspace: SKIFF_CONFIG}``, concurrently (SkiffOS
    workspaces share nothing during configure but the read-only layers)."""
    with ThreadPoolExecutor(max_workers=max(1, min(len(configs), os.cpu_count() or 1))) as pool:
        futures = {ws: pool.submit(skiffos_configure, root, cfg, ws)
                   for ws, cfg in configs.items()}
        return {ws: future.result() for ws, future in futures.items()}


# The configurations tests compare with, configured once per session by ``skiffos_results``:
# SKIFF_CONFIG -> workspace.
ORACLE_CONFIGS = {
    "pi/4,skiff/core": "pi4",
    "virt/qemu,skiff/core": "qemu",
    "odroid/c4,skiff/core": "c4",
    "pine64/rockpro64,core/gentoo": "rockpro64",
    "modalai/voxl2,skiff/core": "voxl2",
    "usbarmory/mk2,core/alpine,util/rootlogin": "usbarmory",
}


@pytest.fixture(scope="session")
def skiffos_results(skiffos_root: Path) -> dict[str, SkiffosResult]:
    """SkiffOS's configure of every :data:`ORACLE_CONFIGS` entry in ``skiffos_root``, keyed by
    SKIFF_CONFIG (20-25 s of CPU in all, run in parallel: SkiffOS forks per kernel symbol)."""
    by_ws = skiffos_configure_many(skiffos_root, {ws: cfg for cfg, ws in ORACLE_CONFIGS.items()})
    return {cfg: by_ws[ws] for cfg, ws in ORACLE_CONFIGS.items()}


def skiffos_externals(layer_dirs: Iterable[Path]) -> list[Path]:
    """BR2_EXTERNAL as build_configs.sh computes it: every ``buildroot_ext`` of the layers in
    merge order (configs-base/pre first), each required to hold external.mk, external.desc
    and Config.in (SkiffOS aborts otherwise)."""
    externals = []
    for layer in layer_dirs:
        ext = layer / "buildroot_ext"
        if ext.is_dir():
            missing = [f for f in ("external.mk", "external.desc", "Config.in")
                       if not (ext / f).is_file()]
            if missing:
                raise ValueError(f"{ext}: invalid Buildroot extension (no {', '.join(missing)})")
            externals.append(ext)
    return externals


# ------------------------------------------------------------------ real Buildroot

def parse_config(text: str) -> dict[str, str]:
    """A .config or defconfig as symbol -> value: the text after ``=`` verbatim (strings keep
    their quotes), ``n`` for ``# SYM is not set``; a later line overrides an earlier one."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if m := _NOT_SET.fullmatch(line):
            values[m[1]] = "n"
        elif not line.startswith("#") and (m := _SYMBOL.fullmatch(line)):
            values[m[1]] = m[2]
    return values


class BuildrootConfig(dict[str, str]):
    """A resolved .config (symbol -> value, as :func:`parse_config`), with its file, the
    kconfig warning lines ``make defconfig`` printed ("override: reassigning to symbol …",
    "WARNING: unmet direct dependencies detected for …") and its whole output."""

    def __init__(self, values: dict[str, str], path: Path, warnings: list[str],
                 log: str) -> None:
        super().__init__(values)
        self.path = path
        self.warnings = warnings
        self.log = log


def buildroot_env() -> dict[str, str]:
    """A scrubbed environment for Buildroot: no BR2_*, CONFIG_*, MAKEFLAGS or the like."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/"), "LC_ALL": "C"}


def buildroot_dotconfig(tree: Path, defconfig: Path, externals: Iterable[Path],
                        output: Path) -> BuildrootConfig:
    """``make -C tree O=output BR2_EXTERNAL=a:b defconfig BR2_DEFCONFIG=defconfig`` on real
    Buildroot; the resulting ``output/.config`` (kept) parsed. Raises on a make failure."""
    output = _check_path(output)
    exts = ":".join(str(_check_path(e)) for e in externals)
    output.mkdir(parents=True, exist_ok=True)
    (output / ".config").unlink(missing_ok=True)
    proc = subprocess.run(
        ["make", "-C", str(tree), f"O={output}", f"BR2_EXTERNAL={exts}", "defconfig",
         f"BR2_DEFCONFIG={_check_path(defconfig)}"],
        env=buildroot_env(), capture_output=True, text=True, check=False)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise AssertionError(f"Buildroot make defconfig failed ({proc.returncode}):\n{log}")
    path = output / ".config"
    warnings = [line for line in log.splitlines() if "warning:" in line.lower()]
    return BuildrootConfig(parse_config(path.read_text()), path, warnings, log)


def skiffos_dotconfig(result: SkiffosResult, tree: Path, output: Path) -> BuildrootConfig:
    """The .config SkiffOS's configure gives through real Buildroot ``tree``: its merged
    defconfig with the externals it passed."""
    return buildroot_dotconfig(tree, result.defconfig, result.externals, output)


# ------------------------------------------------------------ the skiffbuild side


def skiffbuild_on_skiffos(root: Path, checkout: Path) -> DoitProject:
    """An empty skiffbuild project at ``root`` (no boards yet) pinned to real Buildroot
    2026.08-rc1 from shared/, offline, with the SkiffOS ``checkout`` on its layer path."""
    import shutil

    (root / "manifests" / "boards").mkdir(parents=True)
    commit = subprocess.run(["git", f"--git-dir={REAL_BUILDROOT}", "rev-parse",
                             f"{BUILDROOT_TAG}^{{commit}}"], capture_output=True, text=True,
                            check=True).stdout.strip()
    (root / "manifests" / "buildroot.yaml").write_text(
        f"format: 1\nurl: {UPSTREAM}\ncommit: {commit}\ntag: {BUILDROOT_TAG}\n")
    shutil.copy(ROOT / "dodo.py", root / "dodo.py")
    (root / "mirrors.yaml").write_text(f"{UPSTREAM}:\n  - {REAL_BUILDROOT}\n")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}
    env.update(SKIFFBUILD_MIRRORS=str(root / "mirrors.yaml"), SKIFFBUILD_OFFLINE="1",
               SKIFFBUILD_LAYER_PATH=str(checkout))
    return DoitProject(root, env)
