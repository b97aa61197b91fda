"""compile:<ws>: the pinned Buildroot, out of tree, in a scrubbed environment.

make runs with ``O=`` the workspace's output directory, the sources served
from the verified cache only (``BR2_PRIMARY_SITE=file://<cache>/dl`` and
``BR2_PRIMARY_SITE_ONLY=y`` on the command line, so it cannot download),
``SOURCE_DATE_EPOCH`` from the pinned commit, and no ``BR2_*``/``CONFIG_``
from the caller. Its full output goes to ``logs/compile.log``; the ``>>>``
lines drive the progress display, and a failure names the package that was
being built. When the configuration changed in a way Buildroot cannot
apply incrementally (``rebuild``), the needed clean comes first.

doit decides whether to call this at all: the task's inputs are content
digests (``.config``, merged fragments, overlays, hooks, externals, patches,
sources), so an unchanged workspace never reaches make.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from . import checkout
from .configure import generated_files
from .errors import BuildError
from .fsutil import atomic_write, held_locks, sha256_file
from .kconfig import buildroot_kconfig, externals_of
from .overrides import changed_overrides, record_overrides
from .plan import Workspace
from .project import ENV_MAKE_ARGS, Project
from .rebuild import parse_dotconfig, plan_rebuild
from .run import build_environment, tail
from .sources import query_show_info

__all__ = ["compile_inputs", "compile_links", "compile_workspace", "list_tree", "make_args",
           "source_date_epoch"]

# ">>> busybox 1.37.0 Building"; virtual packages have an empty version.
_PROGRESS = re.compile(r"^>>> (\S+) (\S*) (\S.*)$")
# Buildroot wraps its ">>>" lines in `tput smso`/`tput rmso` when TERM is set.
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def source_date_epoch(tree: Path) -> str:
    """The pinned commit's date: the same for every build of that pin."""
    out = subprocess.run(["git", "-C", str(tree), "log", "-1", "--format=%ct", "HEAD"],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0 or not out.stdout.strip().isdigit():
        raise BuildError(f"cannot read the commit date of the Buildroot tree {tree}")
    return out.stdout.strip()


def make_args(project: Project, environ: Mapping[str, str]) -> list[str]:
    """Variables on make's command line (they win over .config, reference §7)."""
    dl = project.dl_dir
    args = [f"BR2_DL_DIR={dl}", f"BR2_PRIMARY_SITE=file://{dl}", "BR2_PRIMARY_SITE_ONLY=y"]
    return args + shlex.split(environ.get(ENV_MAKE_ARGS, ""))


def _trees(ws: Workspace) -> list[Path]:
    return [root for layer in ws.chain
            for root in (layer.root_overlay, layer.buildroot_ext, layer.buildroot_patches,
                         layer.kernel_patches, layer.uboot_patches)
            if root is not None and root.is_dir()]


TreeLister = Callable[[Path], tuple[list[Path], dict[str, str]]]


def list_tree(root: Path) -> tuple[list[Path], dict[str, str]]:
    """Regular files under ``root`` and its symlinks (path -> target), sorted, one walk."""
    files, links = [], {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):  # a symlink to a directory is in dirnames
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                links[path] = os.readlink(path)
            elif name in filenames and os.path.isfile(path):
                files.append(Path(path))
    return sorted(files), dict(sorted(links.items()))


def compile_inputs(ws: Workspace, lister: TreeLister = list_tree) -> list[Path]:
    """Every regular file whose content can change what Buildroot builds for ``ws``.

    ``lister`` may be a memoised ``list_tree``: the task creators list layers
    shared by many workspaces once per run.
    """
    files: list[Path] = [ws.paths.dotconfig, ws.paths.sources, *generated_files(ws)]
    for root in _trees(ws):
        files += lister(root)[0]
    for layer in ws.chain:
        files += [*layer.post_build, *layer.post_image]
    return files


def compile_links(ws: Workspace, lister: TreeLister = list_tree) -> dict[str, str]:
    """Symlinks in the same trees, by target (they may dangle: /mnt/persist/... in an
    overlay), for the task's non-file inputs."""
    return {path: target for root in _trees(ws) for path, target in lister(root)[1].items()}


def _state(ws: Workspace) -> Path:
    return ws.paths.root / "state"


def _built_configs(ws: Workspace) -> list[Path]:
    """What output/ may hold: the last finished build's configuration and, if a build
    was interrupted or failed since, the configuration it had started building."""
    return [p for p in (_state(ws) / "last-build.config", _state(ws) / "building.config")
            if p.is_file()]


def _prepare(ws: Workspace, project: Project, tree: Path, run_make: Callable[[list[str]], None],
             echo: Callable[[str], None]) -> None:
    """Clean what Buildroot would otherwise get wrong after a configuration change."""
    new = parse_dotconfig(ws.paths.dotconfig.read_text())
    olds = [old for path in _built_configs(ws)
            if (old := parse_dotconfig(path.read_text())) != new]
    if not olds:
        return
    kconf = buildroot_kconfig(tree, ws.paths.output)
    built = set(query_show_info(ws, project))
    full, packages, reasons = False, set(), {}
    for old in olds:
        decision = plan_rebuild(old, new, kconf, tree, externals_of(ws.paths.output), built)
        full |= decision.full
        packages.update(decision.packages)
        reasons.update(dict.fromkeys(decision.reasons))
    for reason in reasons:
        echo(f"compile:{ws.name}: {reason}")
    if full:
        echo(f"compile:{ws.name}: full rebuild (make clean), because of the changes above")
        run_make(["clean"])
    elif packages:
        echo(f"compile:{ws.name}: rebuilding {', '.join(sorted(packages))} (dirclean)")
        run_make([f"{pkg}-dirclean" for pkg in sorted(packages)])


def compile_workspace(ws: Workspace, project: Project, environ: Mapping[str, str],
                      echo: Callable[[str], None], progress: Callable[[str], None] | None = None,
                      jobs: int | None = None) -> None:
    """Build ``ws``; ``progress`` gets the ``>>>`` steps, ``jobs`` is its BR2_JLEVEL."""
    tree = checkout.tree_dir(project.cache, ws.pin)
    log = ws.paths.logs / "compile.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    epoch = source_date_epoch(tree)
    env = build_environment({"SOURCE_DATE_EPOCH": epoch,
                             "GIT_CEILING_DIRECTORIES": str(tree.parent)}, base=environ)
    # Ours first: a BR2_JLEVEL in SKIFFBUILD_MAKE_ARGS comes later and wins.
    extra = ([f"BR2_JLEVEL={jobs}"] if jobs else []) + make_args(project, environ)
    step = progress or (lambda text: echo(f"compile:{ws.name} {text}"))

    def run_make(goals: list[str]) -> None:
        _make(["make", "-C", str(ws.paths.output), *extra, *goals], env, log, ws, step)

    _prepare(ws, project, tree, run_make, echo)
    # Buildroot rsyncs an override tree once; an edit needs <pkg>-rebuild.
    trees, edited = changed_overrides(ws)
    if edited:
        echo(f"compile:{ws.name}: source tree changed, rebuilding {', '.join(edited)} "
             f"(from {', '.join(trees[pkg]['dir'] for pkg in edited)})")
        run_make([f"{pkg}-clean-for-rebuild" for pkg in edited])
    # Until this build succeeds, output/ may hold parts of this configuration too.
    atomic_write(_state(ws) / "building.config", ws.paths.dotconfig.read_bytes())
    run_make([])
    record_overrides(ws, trees)
    atomic_write(_state(ws) / "last-build.config", ws.paths.dotconfig.read_bytes())
    (_state(ws) / "building.config").unlink()
    images = ws.paths.output / "images"
    atomic_write(_state(ws) / "compile.json", json.dumps({
        "workspace": ws.name, "source_date_epoch": int(epoch), "overrides": trees,
        "images": {str(p.relative_to(images)): sha256_file(p)
                   for p in sorted(images.rglob("*")) if p.is_file()},
    }, indent=1) + "\n")


def _make(argv: list[str], env: dict[str, str], log: Path, ws: Workspace,
          step: Callable[[str], None]) -> None:
    """Run make, log everything, show ``>>>`` progress, name the failing package."""
    current = None
    started = time.monotonic()
    # Line-buffered: after a kill -9 the log still ends where make was.
    with open(log, "a", buffering=1) as out:
        out.write(f"\n$ {shlex.join(argv)}\n")
        out.flush()
        proc = subprocess.Popen(["sh", "-c", 'umask 022 && exec "$@"', "sh", *argv],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, text=True, errors="replace",
                                pass_fds=held_locks())
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            line = _ESCAPES.sub("", line)
            match = _PROGRESS.match(line.rstrip("\n"))
            if match:
                current = match.groups()
                step(f">>> {' '.join(current)}")
            elif line.startswith(">>>   "):
                step(f">>> {line[6:].strip()}")
        status = proc.wait()
        out.write(f"# exit {status} after {time.monotonic() - started:.1f}s\n")
    if status != 0:
        where = f"package {current[0]} {current[1]} ({current[2]})" if current else "Buildroot"
        last = "\n".join(f"  | {line}" for line in tail(log, 25)[:-1])
        raise BuildError(f"compile of {ws.name} failed in {where}; last lines of the log:\n"
                         f"{last}\n  full log: {log}")
