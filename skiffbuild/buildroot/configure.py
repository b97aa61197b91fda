"""config:<ws>: merged fragments, the wiring of the layers, and Buildroot's .config.

Writes, under ``workspaces/<ws>/config/``: the merged Buildroot defconfig
(each group of lines names the layer and file that set it), the merged
kernel, U-Boot and BusyBox fragments, the generated post-build and
post-image scripts that run the layers' hooks, and ``check.json``. Then
Buildroot itself turns the defconfig into ``<O>/.config`` (so it is exactly
what Buildroot's own ``defconfig``/``olddefconfig`` gives), and kconfiglib
checks that every request took effect.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import kconfiglib

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.handedits import hand_edits, record_generated
from skiffbuild.buildroot.hooks import CONFINE, confine_script, hook_script
from skiffbuild.buildroot.kconfig import (
    Finding,
    architecture_finding,
    buildroot_kconfig,
    check_merged,
    unchecked_finding,
)
from skiffbuild.buildroot.rauc import rauc_device_files
from skiffbuild.core.errors import Problem, ProblemsError, SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.core.runner import build_environment, run
from skiffbuild.core.yamlload import read_text_bounded
from skiffbuild.model.fragments import (
    MAX_FRAGMENT_BYTES,
    Assignment,
    Merged,
    Origin,
    fragment_root,
    merge,
    parse_fragment,
    render,
)
from skiffbuild.model.model import FRAGMENT_KINDS, Layer
from skiffbuild.model.plan import Workspace
from skiffbuild.model.skiffos import PLACEHOLDER_SYMBOLS, substitute_placeholders

__all__ = ["WIRING", "Configuration", "configure", "generated_files", "layer_findings",
           "merge_workspace", "wiring"]

# Symbols skiffbuild sets from the layers; list-valued ones extend what a
# fragment asked for, the others replace it.
WIRING = ("BR2_ROOTFS_OVERLAY", "BR2_GLOBAL_PATCH_DIR", "BR2_LINUX_KERNEL_PATCH",
          "BR2_TARGET_UBOOT_PATCH", "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
          "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES", "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES",
          "BR2_ROOTFS_POST_BUILD_SCRIPT", "BR2_ROOTFS_POST_IMAGE_SCRIPT",
          "BR2_ROOTFS_USERS_TABLES", "BR2_TARGET_OPTIMIZATION", "BR2_DL_DIR",
          "BR2_REPRODUCIBLE", "BR2_CCACHE_DIR")
_SKIFF = "skiffbuild"
_FRAGMENT_FILES = {"kernel": "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES",
                   "uboot": "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES",
                   "busybox": "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES"}


@dataclass(frozen=True)
class Configuration:
    """The merged result for one workspace, before anything is written."""

    merged: dict[str, Merged]  # per fragment kind
    externals: tuple[Path, ...]  # BR2_EXTERNAL trees in chain order
    files: dict[str, str]  # generated file name (in config/) -> content
    modes: dict[str, int]
    # SkiffOS fragment quirks tolerated in SkiffOS-style layers (file:line, what
    # Buildroot does with the line): warnings of config:<ws> and `skiffbuild check`.
    warnings: tuple[Finding, ...] = ()


def _quote(value: str) -> str:
    # Every value is checked at load (cflags, paths); this is the last line of defence
    # against a newline starting a line of its own in the generated defconfig.
    if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f for c in value):
        raise SkiffError(f"a generated setting would contain a control character: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _words(assignment: Assignment | None) -> list[str]:
    if assignment is None or assignment.not_set:
        return []
    value = assignment.value
    if value.startswith('"'):
        value = value[1:-1]
    return value.split()


def generated_files(ws: Workspace) -> list[Path]:
    """The files config:<ws> writes besides the defconfig (known before it runs)."""
    names = [f"{kind}.fragment" for kind in _FRAGMENT_FILES
             if any(layer.fragment_files(kind) for layer in ws.chain)]
    names += [f"{stage}.sh" for stage, attr in (("post-build", "post_build"),
                                                 ("post-image", "post_image"))
              if any(getattr(layer, attr) for layer in ws.chain)]
    if any(layer.post_build or layer.post_image for layer in ws.chain):
        names.append(CONFINE)
    if any(layer.users for layer in ws.chain):
        names.append("users.table")
    return [ws.paths.config / name for name in names]


def merge_workspace(ws: Workspace, project: Project,
                    warnings: list[Finding] | None = None,
                    ) -> tuple[dict[str, list[Assignment]], list[Problem]]:
    """Parse every fragment of the chain, per kind, in merge order. SkiffOS-style layers
    are parsed as SkiffOS reads them: the quirks Buildroot ignores (a bare symbol, an
    unquoted empty value, a kernel symbol without CONFIG_) are dropped with a warning,
    appended to ``warnings`` when given; every other bad line is a problem."""
    requests: dict[str, list[Assignment]] = {kind: [] for kind in FRAGMENT_KINDS}
    problems: list[Problem] = []
    for layer in ws.chain:
        for kind in FRAGMENT_KINDS:
            for file in layer.fragment_files(kind):
                found, bad, warned = parse_fragment(
                    file, kind, layer.name, project.display(file),
                    fragment_root(layer, project.root),
                    tolerant=layer.style in ("skiffos", "skiffos-base"))
                requests[kind] += _skiffos_values(ws, layer.name, found)
                problems += bad
                if warnings is not None:
                    warnings += [Finding("layer", w.key or "", "", None,
                                         Origin(layer.name, w.file, w.line),
                                         f"{w.key}: {w.message}" if w.key else w.message)
                                 for w in warned]
    return requests, problems


def _skiffos_values(ws: Workspace, layer: str, found: list[Assignment]) -> list[Assignment]:
    """SkiffOS's placeholders: the version substituted. configs-base/post sets the lists
    of the chain's parts to placeholders for paths of SkiffOS's own layout, last, so
    that they replace what any layer set: here they become "", which the wiring then
    extends with the same lists (skiffbuild's own file names)."""
    tree = ws.skiffos
    if tree is None:
        return found
    out = []
    for a in found:
        if layer == "configs-base/post" and a.symbol in PLACEHOLDER_SYMBOLS:
            if a.symbol != "BR2_DEFCONFIG":  # given on make's command line instead
                out.append(dataclasses.replace(a, value='""'))
        else:
            out.append(dataclasses.replace(a, value=substitute_placeholders(a.value, tree)))
    return out


def wiring(ws: Workspace, project: Project, requests: dict[str, list[Assignment]]) -> tuple[
        list[Assignment], dict[str, str], dict[str, int]]:
    """The settings that connect the layers to Buildroot, and the files they name."""
    cfg = ws.paths.config
    origin = Origin(_SKIFF, "(wiring of the layers)", None)
    base = merge("buildroot", requests["buildroot"])
    values: dict[str, list[str]] = {}
    files: dict[str, str] = {}
    modes: dict[str, int] = {}

    def extend(symbol: str, extra: list[str]) -> None:
        if extra:
            values[symbol] = _words(base.value_of(symbol)) + extra

    chain = ws.chain
    extend("BR2_ROOTFS_OVERLAY", [str(la.root_overlay) for la in chain if la.root_overlay])
    extend("BR2_GLOBAL_PATCH_DIR", [str(la.buildroot_patches) for la in chain
                                    if la.buildroot_patches])
    extend("BR2_LINUX_KERNEL_PATCH", [str(la.kernel_patches) for la in chain if la.kernel_patches])
    extend("BR2_TARGET_UBOOT_PATCH", [str(la.uboot_patches) for la in chain if la.uboot_patches])
    for kind, symbol in _FRAGMENT_FILES.items():
        if requests[kind]:
            name = f"{kind}.fragment"
            extend(symbol, [str(cfg / name)])
    for stage, attr, symbol in (("post-build", "post_build", "BR2_ROOTFS_POST_BUILD_SCRIPT"),
                                ("post-image", "post_image", "BR2_ROOTFS_POST_IMAGE_SCRIPT")):
        hooks = [(la, s) for la in chain for s in getattr(la, attr)]
        if hooks:
            name = f"{stage}.sh"
            files[name] = hook_script(ws, stage, hooks, project.root)
            files[CONFINE] = confine_script()
            modes[name] = modes[CONFINE] = 0o755
            extend(symbol, [str(cfg / name)])
    extend("BR2_TARGET_OPTIMIZATION", [flag for la in chain for flag in la.cflags])
    tables = [(la, f) for la in chain for f in la.users]
    if tables:
        files["users.table"] = _users_table(ws, project, tables)
        extend("BR2_ROOTFS_USERS_TABLES", [str(cfg / "users.table")])
    # In a SkiffOS workspace configs-base/post replaces these lists by design (and the
    # wiring then fills them): that is not an override worth reporting.
    out = [Assignment(sym, _quote(" ".join(words)), False, origin,
                      intended=ws.skiffos is not None and sym in PLACEHOLDER_SYMBOLS)
           for sym, words in values.items()]
    ccache = base.value_of("BR2_CCACHE")
    if ccache is not None and ccache.value == "y" and base.value_of("BR2_CCACHE_DIR") is None:
        # Buildroot's default is ~/.buildroot-ccache, outside the project and shared by
        # every build of the user's; SkiffOS keeps one per workspace, and so do we.
        out.append(Assignment("BR2_CCACHE_DIR",
                              _quote(str(project.cache / "ccache" / ws.name)), False, origin))
    out.append(Assignment("BR2_DL_DIR", _quote(str(project.dl_dir)), False, origin))
    out.append(Assignment("BR2_REPRODUCIBLE", "y", False, origin))
    return out, files, modes


def _users_table(ws: Workspace, project: Project, tables: list[tuple[Layer, Path]]) -> str:
    """The layers' makeusers tables, concatenated in chain order (as SkiffOS does)."""
    lines = [f"# makeusers table of workspace '{ws.name}', concatenated by skiffbuild from:"]
    for layer, file in tables:
        text = read_text_bounded(file, MAX_FRAGMENT_BYTES, within=layer.path)
        if any(ord(c) < 0x20 and c not in "\t\n" for c in text):
            raise SkiffError(f"{project.display(file)}: a users table holds control "
                             "characters")
        lines += [f"# {layer.name}: {project.display(file)}", text.rstrip("\n")]
    return "\n".join(lines) + "\n"


def _header(ws: Workspace, kind: str, externals: tuple[Path, ...]) -> list[str]:
    lines = [f"{kind} configuration of workspace '{ws.name}', merged by skiffbuild.",
             "Generated: do not edit. Change a layer's fragments (or overrides/) instead."]
    if kind == "Buildroot":
        # Only here: Buildroot reconfigures and rebuilds a package whose fragment
        # file changes at all (make compares mtimes), so the kernel, U-Boot and
        # BusyBox fragments must change only when a setting of theirs does, not
        # when a layer that sets none of them joins the chain.
        lines.append("Layers in merge order: " + ", ".join(layer.name for layer in ws.chain))
        lines.append(f"Buildroot: {ws.pin.url} @ {ws.pin.commit}")
        lines.append("BR2_EXTERNAL: " + (":".join(map(str, externals)) or "(none)"))
    return lines


def plan_configuration(ws: Workspace, project: Project) -> Configuration:
    warnings: list[Finding] = []
    requests, problems = merge_workspace(ws, project, warnings)
    externals = tuple(la.buildroot_ext for la in ws.chain if la.buildroot_ext)
    for ext in externals:
        if ":" in str(ext) or " " in str(ext):
            problems.append(Problem(project.display(ext), None, None,
                                    "Buildroot cannot use a BR2_EXTERNAL path containing ':' "
                                    "or spaces"))
    if problems:
        raise ProblemsError(problems)
    added, files, modes = wiring(ws, project, requests)
    merged = {kind: merge(kind, requests[kind]) for kind in FRAGMENT_KINDS}
    merged["buildroot"] = merge("buildroot", requests["buildroot"] + added)
    files["buildroot.defconfig"] = render(merged["buildroot"], _header(ws, "Buildroot", externals))
    for kind in ("kernel", "uboot", "busybox"):
        if requests[kind]:
            title = {"kernel": "Linux kernel", "uboot": "U-Boot", "busybox": "BusyBox"}[kind]
            files[f"{kind}.fragment"] = render(merged[kind], _header(ws, title, externals))
    files.update(rauc_device_files(ws, project))
    return Configuration(merged, externals, files, modes, tuple(warnings))


def _write_files(ws: Workspace, conf: Configuration) -> None:
    cfg = ws.paths.config
    cfg.mkdir(parents=True, exist_ok=True)
    keep = set(conf.files) | {"check.json", "plan.json"}
    for stale in cfg.iterdir():
        if stale.is_file() and stale.name not in keep and not stale.name.startswith("."):
            stale.unlink()  # a fragment kind or hook that no layer provides any more
    for name, text in conf.files.items():
        atomic_write(cfg / name, text, conf.modes.get(name, 0o644))
    atomic_write(cfg / "plan.json", json.dumps({
        "workspace": ws.name,
        "buildroot": {"url": ws.pin.url, "commit": ws.pin.commit, "tag": ws.pin.tag},
        "chain": [{"name": la.name, "path": str(la.path), "style": la.style} for la in ws.chain],
        "externals": [str(p) for p in conf.externals],
    }, indent=2) + "\n")


def configure(ws: Workspace, project: Project, *, strict: bool = False,
              echo: Callable[[str], None] | None = None) -> list[Finding]:
    """The config:<ws> action. Returns the findings (raises on them when strict)."""
    echo = echo or (lambda text: print(text, file=sys.stderr))
    tree = checkout.tree_dir(project.cache, ws.pin)
    if not checkout.stamp_path(project.cache, ws.pin).is_file():
        raise SkiffError(f"the Buildroot tree for pin '{ws.pin.name}' is not checked out",
                         hint=f"run: doit fetch:{ws.pin.name}")
    conf = plan_configuration(ws, project)
    edits = hand_edits(ws.paths)
    if edits is not None and edits.symbols:
        raise SkiffError(edits.describe(ws.name, ws.paths, project.display),
                         hint=edits.hint(ws.name))
    if edits is not None:
        echo(f"warning: {project.display(ws.paths.defconfig)} was rewritten outside skiffbuild "
             "with the same values (make savedefconfig?); it is generated from the layers, "
             "so it is written again")
    _write_files(ws, conf)
    ws.paths.output.mkdir(parents=True, exist_ok=True)
    if ws.skiffos is not None and not (ws.paths.output / "output").is_symlink():
        # SkiffOS's workspace links output/ to itself: its scripts use both
        # $BUILDROOT_DIR/target and $BUILDROOT_DIR/output/images.
        (ws.paths.output / "output").symlink_to(".")
    env = build_environment({"GIT_CEILING_DIRECTORIES": str(tree.parent)})
    run(["make", "-C", tree, f"O={ws.paths.output}",
         "BR2_EXTERNAL=" + ":".join(map(str, conf.externals)),
         "defconfig", f"BR2_DEFCONFIG={ws.paths.defconfig}"],
        log=ws.paths.logs / "config.log", env=env, what=f"Buildroot defconfig for {ws.name}")
    record_generated(ws.paths)
    findings = layer_findings(ws, project) + list(conf.warnings)
    try:
        kconf = buildroot_kconfig(tree, ws.paths.output, ws.paths.dotconfig)
    except kconfiglib.KconfigError as exc:
        findings.append(unchecked_finding(exc, tree))
    else:
        findings += check_merged(kconf, conf.merged["buildroot"])
        board = ws.board
        wrong = architecture_finding(
            kconf, conf.merged["buildroot"], board.architecture,
            Origin(f"boards/{board.name}", project.display(board.manifest),
                   board.architecture_line))
        if wrong is not None:
            findings.append(wrong)
    atomic_write(ws.paths.report, json.dumps({
        "workspace": ws.name,
        "findings": [f.to_json() for f in findings],
    }, indent=2) + "\n")
    errors = [f for f in findings if f.severity == "error"]
    for finding in findings:
        if finding.severity != "error":
            echo(f"{'info' if finding.level == 'info' else 'warning'}: {finding}")
    if errors:
        raise SkiffError("\n".join(map(str, errors)))
    # Strict: every finding but information (a later layer overriding an earlier one).
    failing = [f for f in findings if f.level != "info"]
    if strict and failing:
        raise SkiffError(f"{len(failing)} requested setting(s) of workspace '{ws.name}' "
                         "did not take effect (strict mode)")
    return findings


def layer_findings(ws: Workspace, project: Project) -> list[Finding]:
    """The warnings of the layers in the chain (entries with no effect), as findings."""
    return [Finding("layer", "", "", None, Origin(layer.name, problem.file, problem.line),
                    problem.message)
            for layer in ws.chain for problem in layer.warnings]
