"""compile:<ws>: the pinned Buildroot, out of tree, in a scrubbed environment.

make runs with ``O=`` the workspace's output directory, the sources served
from the verified cache only (``BR2_PRIMARY_SITE=file://<cache>/dl`` and
``BR2_PRIMARY_SITE_ONLY=y`` on the command line, so it cannot download),
``SOURCE_DATE_EPOCH`` from the pinned commit, and no ``BR2_*``/``CONFIG_``
from the caller. Its full output goes to ``logs/compile.log``; the ``>>>``
lines drive the progress display, and a failure names the package or the
step (a hook, an image) that was running. What Buildroot cannot apply
incrementally is cleaned first (``make clean`` or ``<pkg>-dirclean``), each
time saying why: a configuration change (``rebuild.plan_rebuild``), another
Buildroot tree (``rebuild.plan_tree_change`` on the files that differ from
the tree ``output/`` was built with, ``treecache``), or a replaced external
toolchain (``toolchain``). ``state/output.json`` records what the clean was
for, so a retry after a failure does not clean again.

doit decides whether to call this at all: the task's inputs are content
digests (``.config``, merged fragments, overlays, hooks, externals, patches,
sources), its facts the tree, and its up-to-date checks the external
toolchain (``ToolchainUnchanged``), so an unchanged workspace never reaches
make. After a successful build, trees no workspace uses are removed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import kconfiglib

from skiffbuild.buildroot import checkout, treecache
from skiffbuild.buildroot.configure import generated_files
from skiffbuild.buildroot.kconfig import buildroot_kconfig, externals_of
from skiffbuild.buildroot.overrides import changed_overrides, record_overrides
from skiffbuild.buildroot.rebuild import parse_dotconfig, plan_rebuild, plan_tree_change
from skiffbuild.buildroot.showinfo import query_show_info
from skiffbuild.buildroot.toolchain import (
    content_digest,
    external_toolchain,
    host_tool_versions,
    preinstalled,
    quick_key,
)
from skiffbuild.core.errors import BuildError
from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.records import OutputRecord, read_output_record, write_output_record
from skiffbuild.core.runner import build_environment, child_environment, git, quote, spawn, tail
from skiffbuild.core.settings import ENV_MAKE_ARGS
from skiffbuild.model.manifest import load_pin
from skiffbuild.model.plan import Workspace

__all__ = ["RESTORED", "ToolchainUnchanged", "compile_inputs", "compile_links", "compile_workspace",
           "list_tree", "make_args", "progress_line", "quoted_tail", "source_date_epoch"]

# In state/: output/ holds what the stage cache restored (farm.stagecache), not a build.
RESTORED = "restored.json"
# ">>> busybox 1.37.0 Building"; packages without a version: ">>> skeleton  Installing".
_PROGRESS = re.compile(r"^>>> (\S+) (\S*) (\S.*)$")
# Steps outside packages: ">>>   Executing post-build script /x/post-build.sh".
_STEP = re.compile(r"^>>>   (\S.*)$")
# What a terminal would interpret, removed from what is parsed and quoted: Buildroot
# wraps its ">>>" lines in `tput smso`/`rmso` when TERM is set (\x1b[7m ... \x1b[27m, or
# \x1b(B\x1b[m from sgr0), tools colour their output. CSI sequences, OSC strings,
# other escapes (charset selection, ESC 7), then any control character left but tab.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[ -/]*[0-~])"
                      r"|[\x00-\x08\x0b-\x1f\x7f]")


def source_date_epoch(tree: Path) -> str:
    """The pinned commit's date: the same for every build of that pin."""
    out = git(tree, "log", "-1", "--format=%ct", "HEAD", check=False)
    if not out.ok or not out.out.strip().isdigit():
        raise BuildError(f"cannot read the commit date of the Buildroot tree {tree}")
    return out.out.strip()


def make_args(project: Project, environ: Mapping[str, str]) -> list[str]:
    """Variables on make's command line (they win over .config, reference §7)."""
    dl = project.dl_dir
    args = [f"BR2_DL_DIR={dl}", f"BR2_PRIMARY_SITE=file://{dl}", "BR2_PRIMARY_SITE_ONLY=y"]
    return args + shlex.split(environ.get(ENV_MAKE_ARGS, ""))


def _trees(ws: Workspace) -> list[Path]:
    """A layer's whole directory: its hooks may read any file of it (resources/, a
    syslinux.cfg a post-image hook copies). Override layers share ``overrides/`` with
    other workspaces' overrides, so only their parts count."""
    roots: list[Path] = []
    for layer in ws.chain:
        parts = ((layer.root_overlay, layer.buildroot_ext, layer.buildroot_patches,
                  layer.kernel_patches, layer.uboot_patches) if layer.is_override
                 else (layer.path,))
        roots += [root for root in parts if root is not None and root.is_dir()]
    return roots


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
    return ws.paths.state


def _sha256(path: Path) -> str | None:
    return sha256_file(path) if path.is_file() else None


def _built_configs(ws: Workspace, record: OutputRecord | None) -> list[Path]:
    """What output/ may hold: the last finished build's configuration and, if a build
    was interrupted or failed since, the configuration it had started building; only
    the latter once the clean for it is recorded as done (it left nothing else)."""
    building = _state(ws) / "building.config"
    if record is not None and record.config == _sha256(building):
        return [building]
    return [p for p in (_state(ws) / "last-build.config", building) if p.is_file()]


def _short(tree: Mapping[str, str]) -> str:
    return f"{tree.get('commit', '?')[:8]}…"


def _tree_change_text(old: Mapping[str, str], new: Mapping[str, str]) -> str:
    """679b9ead… → 71d1ddd0…, patches 0a1b2c3d… → 4e5f6a7b… (what differs)."""
    parts = []
    if old.get("commit") != new.get("commit"):
        parts.append(f"{_short(old)} → {_short(new)}")
    else:
        parts.append(_short(new))
    if old.get("patch_digest") != new.get("patch_digest"):
        parts.append(f"patches {old.get('patch_digest', '?')[:8]}… → "
                     f"{new.get('patch_digest', '?')[:8]}…")
    return f"Buildroot tree changed ({', '.join(parts)})"


class _Cleaning:
    """What the changes since output/'s last build need, and why, each said once."""

    def __init__(self, ws: Workspace, echo: Callable[[str], None]) -> None:
        self.ws, self.echo = ws, echo
        self.full = False
        self.packages: set[str] = set()

    def say(self, text: str) -> None:
        self.echo(f"compile:{self.ws.name}: {text}")


def _unrecorded_tree(project: Project, built_configs: list[Path]) -> dict[str, str] | None:
    """The tree of a build made before output.json existed. Trees were never removed
    then: if exactly one in the cache is older than that build, it is the one it used."""
    built_at = max(path.stat().st_mtime_ns for path in built_configs)
    older = []
    for stamp in sorted((project.cache / "buildroot").glob(f"*/{checkout.STAMP_NAME}")):
        try:
            data = json.loads(stamp.read_text())
            if stamp.stat().st_mtime_ns < built_at:
                older.append({"key": stamp.parent.name, "commit": str(data["commit"]),
                              "patch_digest": str(data["patch_digest"])})
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a tree that cannot be read could be the one
    return older[0] if len(older) == 1 else None


def _tree_changes(ws: Workspace, project: Project, tree: Path, record: OutputRecord | None,
                  current: dict[str, str], built_configs: list[Path], clean: _Cleaning) -> None:
    """Another Buildroot tree than the one output/ was built with: what differs."""
    before = record.tree if record is not None else _unrecorded_tree(project, built_configs)
    if before is None:
        clean.full = True
        clean.say("the Buildroot tree of the last build is not recorded (built by an older "
                  "skiffbuild) and cannot be told: full rebuild (make clean)")
        return
    if record is None:
        clean.say("the Buildroot tree of the last build is not recorded (built by an older "
                  f"skiffbuild): taken to be {before['key']}, the only tree older than it")
    if before.get("key") == current["key"]:
        return
    head = _tree_change_text(before, current)
    old = project.cache / "buildroot" / before["key"]
    changes = None
    if (old / checkout.STAMP_NAME).is_file():
        with treecache.using(project.cache, before["key"]):
            if (old / checkout.STAMP_NAME).is_file():  # still: not removed meanwhile
                changes = treecache.changed_files(old, tree)
    if changes is None:
        clean.full = True
        clean.say(f"{head}: the tree of the last build ({project.display(old)}) is gone: "
                  "full rebuild (make clean)")
        return
    changed, every = changes
    plan = plan_tree_change(changed, every, query_show_info(ws, project),
                            parse_dotconfig(ws.paths.dotconfig.read_text()), tree)
    if plan.full:
        clean.full = True
        listed = ", ".join(plan.full[:6]) + (", …" if len(plan.full) > 6 else "")
        clean.say(f"{head}: full rebuild (make clean): {listed} changed")
        return
    for what, packages in plan.rebuild:
        clean.packages.update(packages)
        clean.say(f"{head}: {what} changed: rebuilding {', '.join(packages)} (dirclean)")
    if not plan.rebuild:
        listed = ", ".join(plan.inert[:6]) + (", …" if len(plan.inert) > 6 else "")
        clean.say(f"{head}: nothing to rebuild ({listed or 'nothing'} changed)")


def _toolchain_changes(record: OutputRecord | None, toolchain: dict[str, Any] | None,
                       clean: _Cleaning) -> None:
    """The same preinstalled external toolchain, replaced: everything was built with it."""
    old = record.toolchain if record else None
    if not old or not toolchain or old.get("path") != toolchain.get("path"):
        return  # none, or another one: a configuration change (toolchain/ symbols)
    if old.get("digest") != toolchain.get("digest"):
        clean.full = True
        clean.say(f"external toolchain {toolchain['path']} changed (digest "
                  f"{str(old.get('digest'))[:12]}… → {str(toolchain.get('digest'))[:12]}…): "
                  "full rebuild (make clean)")


def _config_changes(ws: Workspace, project: Project, tree: Path, built_configs: list[Path],
                    clean: _Cleaning) -> None:
    """Configuration changes Buildroot does not apply by itself (``rebuild``)."""
    new = parse_dotconfig(ws.paths.dotconfig.read_text())
    olds = [old for path in built_configs if (old := parse_dotconfig(path.read_text())) != new]
    if not olds:
        return
    try:
        kconf = buildroot_kconfig(tree, ws.paths.output)
    except kconfiglib.KconfigError:
        clean.say("the configuration changed and kconfiglib cannot evaluate this Kconfig "
                  "tree to tell what the change needs: full rebuild (make clean)")
        clean.full = True
        return
    built = set(query_show_info(ws, project))
    full, packages, reasons = False, set[str](), dict[str, None]()
    for old in olds:
        decision = plan_rebuild(old, new, kconf, tree, externals_of(ws.paths.output), built)
        full |= decision.full
        packages.update(decision.packages)
        reasons.update(dict.fromkeys(decision.reasons))
    for reason in reasons:
        clean.say(reason)
    if full:
        clean.say("full rebuild (make clean), because of the changes above")
    elif packages and not clean.full:
        clean.say(f"rebuilding {', '.join(sorted(packages))} (dirclean)")
    clean.full |= full
    clean.packages |= packages


def _prepare(ws: Workspace, project: Project, tree: Path, run_make: Callable[[list[str]], None],
             echo: Callable[[str], None], toolchain: dict[str, Any] | None) -> OutputRecord:
    """Clean what Buildroot would otherwise get wrong; return what output/ then holds."""
    record = read_output_record(ws.paths)
    current = {"key": checkout.tree_key(ws.pin), "commit": ws.pin.commit,
               "patch_digest": checkout.patch_digest(ws.pin)}
    built_configs = _built_configs(ws, record)
    clean = _Cleaning(ws, echo)
    if (_state(ws) / RESTORED).exists():
        # The shared stage cache put images/ and target/ here, without the package
        # build directories that made them: nothing here can be built upon.
        clean.full = True
        clean.say("output/ was restored from the stage cache: full rebuild (make clean)")
    elif built_configs:  # else nothing was built here yet
        _tree_changes(ws, project, tree, record, current, built_configs, clean)
        _toolchain_changes(record, toolchain, clean)
        _config_changes(ws, project, tree, built_configs, clean)
    if clean.full:
        run_make(["clean"])
        (_state(ws) / RESTORED).unlink(missing_ok=True)
    elif clean.packages:
        run_make([f"{pkg}-dirclean" for pkg in sorted(clean.packages)])
    return OutputRecord(tree=current, config=sha256_file(ws.paths.dotconfig),
                        toolchain=toolchain)


def _toolchain(ws: Workspace, tree: Path, environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The preinstalled external toolchain's identity (``toolchain``), if .config has one."""
    text = ws.paths.dotconfig.read_text(errors="replace")
    found = external_toolchain(text, tree, ws.paths.output, environ)
    if found is None:
        return None
    if found.path is None or not found.path.is_dir():
        return {"path": str(found.path or found.setting), "digest": None, "files": 0,
                "quick": None}
    digest, files = content_digest(found.path)
    return {"path": str(found.path), "digest": digest, "files": files,
            "quick": quick_key(found.path)}


class ToolchainUnchanged:
    """doit ``uptodate`` of compile:<ws>: the preinstalled external toolchain is as the
    last successful run saw it (``toolchain.quick_key``: stat only, no command run).
    Evaluated when the task is about to run, after config:<ws> has written .config;
    a workspace without such a toolchain only reads its .config."""

    def __init__(self, ws: Workspace, project: Project) -> None:
        self.ws, self.project = ws, project
        self.key: str | None = None
        self.checked = False

    def configure_task(self, task: Any) -> None:
        # Also when the check did not run (doit -a): what the build used.
        task.value_savers.append(
            lambda: {"_toolchain": self.key if self.checked else self._key()})

    def _key(self) -> str | None:
        try:
            text = self.ws.paths.dotconfig.read_text(errors="replace")
        except OSError:
            return None
        if not preinstalled(text):
            return None
        tree = checkout.tree_dir(self.project.cache, self.ws.pin)
        found = external_toolchain(text, tree, self.ws.paths.output, child_environment())
        if found is None:
            return None
        return f"{found.path}\0{quick_key(found.path) if found.path else '-'}"

    def __call__(self, task: Any, values: Mapping[str, Any]) -> bool:
        self.key, self.checked = self._key(), True
        return values.get("_toolchain") == self.key

    def __repr__(self) -> str:  # doit info shows it
        return f"ToolchainUnchanged({self.ws.name})"


def _pinned(project: Project, ws: Workspace) -> set[str]:
    """The trees of every pin in the manifests: they stay even when nothing uses them."""
    keys = {checkout.tree_key(ws.pin)}
    for manifest in sorted(project.manifests.glob("*.yaml")):
        pin, _problems = load_pin(project, manifest.stem)
        if pin is not None:  # a file that is no pin pins nothing
            keys.add(checkout.tree_key(pin))
    return keys


def _collect_trees(ws: Workspace, project: Project, echo: Callable[[str], None]) -> None:
    """Remove the Buildroot trees no workspace uses any more (``treecache``)."""
    workspaces = sorted((project.root / "workspaces").glob("*/state"))
    try:
        removed = treecache.collect_unused(project.cache, _pinned(project, ws),
                                           [project.workspace(p.parent.name) for p in workspaces])
    except OSError as exc:
        echo(f"compile:{ws.name}: warning: unused Buildroot trees not removed: {exc}")
        return
    for path, size in removed:
        echo(f"compile:{ws.name}: removed {project.display(path)}, a Buildroot tree no "
             f"workspace uses any more ({size / 1e6:.1f} MB freed)")


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

    # Shared while this build uses the tree: it is not removed under make (which
    # inherits the lock, should this process be killed).
    with treecache.using(project.cache, checkout.tree_key(ws.pin)) as tree_lock:

        def run_make(goals: list[str]) -> None:
            _make(["make", "-C", str(ws.paths.output), *extra, *goals], env, log, ws, step,
                  (tree_lock,))

        toolchain = _toolchain(ws, tree, env)
        hosts = host_tool_versions(env)
        record = _prepare(ws, project, tree, run_make, echo, toolchain)
        # Buildroot rsyncs an override tree once; an edit needs <pkg>-rebuild.
        trees, edited = changed_overrides(ws)
        if edited:
            echo(f"compile:{ws.name}: source tree changed, rebuilding {', '.join(edited)} "
                 f"(from {', '.join(trees[pkg]['dir'] for pkg in edited)})")
            run_make([f"{pkg}-clean-for-rebuild" for pkg in edited])
        # The clean is done: the record says for what (a retry does not clean again).
        # Until this build succeeds, output/ may hold parts of this configuration too.
        write_output_record(ws.paths, record)
        atomic_write(_state(ws) / "building.config", ws.paths.dotconfig.read_bytes())
        run_make([])
        record_overrides(ws, trees)
        atomic_write(_state(ws) / "last-build.config", ws.paths.dotconfig.read_bytes())
        (_state(ws) / "building.config").unlink()
        images = ws.paths.images
        atomic_write(_state(ws) / "compile.json", json.dumps({
            "workspace": ws.name, "source_date_epoch": int(epoch), "overrides": trees,
            "buildroot_tree": record.tree,
            "external_toolchain": toolchain and {k: toolchain[k]
                                                 for k in ("path", "digest", "files")},
            "host_tools": hosts,
            "images": {str(p.relative_to(images)): sha256_file(p)
                       for p in sorted(images.rglob("*")) if p.is_file()},
        }, indent=1) + "\n")
    _collect_trees(ws, project, echo)


def progress_line(line: str) -> tuple[str, str] | None:
    """A line of make's output as (what the progress display shows, where a failure
    is: ``package busybox 1.37.0 (Building)`` or ``step "Executing post-build script
    …"``), or None for other lines. Escapes are removed; a package without a version
    shows no double space."""
    line = _ESCAPES.sub("", line).rstrip()
    if match := _PROGRESS.match(line):
        name, version, text = match.groups()
        named = f"{name} {version}" if version else name
        return f">>> {named} {text}", f"package {named} ({text})"
    if match := _STEP.match(line):
        return f">>> {match.group(1)}", f'step "{match.group(1)}"'
    return None


def quoted_tail(log: Path, lines: int = 25) -> str:
    """The log's last lines (but its exit line) as a failure quotes them, without the
    terminal escapes they were written with."""
    return quote(_ESCAPES.sub("", line) for line in tail(log, lines)[:-1])


def _make(argv: list[str], env: dict[str, str], log: Path, ws: Workspace,
          step: Callable[[str], None], fds: tuple[int, ...] = ()) -> None:
    """Run make, log everything, show ``>>>`` progress, name the failing package or step;
    ``fds`` are locks make inherits besides the held ones."""
    where = "Buildroot"
    started = time.monotonic()
    # Line-buffered: after a kill -9 the log still ends where make was.
    with open(log, "a", buffering=1) as out:
        out.write(f"\n$ {shlex.join(argv)}\n")
        out.flush()
        proc = spawn(argv, env=env, text=True, pass_fds=fds, what=f"compile of {ws.name}")
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if (found := progress_line(line)) is not None:
                step(found[0])
                where = found[1]
        status = proc.wait()
        out.write(f"# exit {status} after {time.monotonic() - started:.1f}s\n")
    if status != 0:
        raise BuildError(f"compile of {ws.name} failed in {where}; last lines of the log:\n"
                         f"{quoted_tail(log)}\n  full log: {log}")
