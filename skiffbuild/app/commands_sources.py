"""``skiffbuild`` subcommands about inputs: sources, export/import bundles, the pin, the lock."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiffbuild.app.common import configured, project_of
from skiffbuild.core.errors import EXIT_BUILD, SkiffError
from skiffbuild.core.project import Project
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import Plan, load_plan

if TYPE_CHECKING:
    from skiffbuild.buildroot.showinfo import Source
    from skiffbuild.sources.lockfile import LockedSource

__all__ = ["cmd_export", "cmd_import", "cmd_lock", "cmd_pin", "cmd_sources"]


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.dlcache import DownloadCache
    from skiffbuild.sources.lockfile import approved_sources

    if args.offline:
        settings = settings.replace(offline=True)
    plan = configured(settings, [args.workspace])
    ws = plan.workspaces[args.workspace]
    cache = DownloadCache.of(plan.project)
    rows = []
    # An approved unhashed file is listed with its approval as its hash.
    for source in approved_sources(ws, plan.project, workspace_sources(ws, plan.project)):
        verdict = cache.verify(source)
        rows.append({**source.to_json(), "path": str(cache.path(source)),
                     "cached": verdict.state not in ("missing",),
                     "verified": verdict.state == "ok",
                     "state": verdict.state})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['state']:<9} {row['dl_dir']}/{row['file']}  ({row['package']})")
        counts = {s: sum(r["state"] == s for r in rows) for s in ("ok", "missing", "corrupt",
                                                                   "unhashed")}
        print(f"{len(rows)} files: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.bundle import export_bundle
    from skiffbuild.sources.lockfile import approved_sources

    plan = configured(settings, [args.workspace])
    ws = plan.workspaces[args.workspace]
    manifest = export_bundle(ws, plan.project,
                             approved_sources(ws, plan.project,
                                              workspace_sources(ws, plan.project)),
                             args.file, sign_key=args.sign)
    size = args.file.stat().st_size
    print(f"wrote {args.file}: Buildroot {ws.pin.commit[:12]} and "
          f"{sum(f['path'].startswith('dl/') for f in manifest['files'])} source file(s), "
          f"{size} bytes{', signed' if args.sign else ', unsigned'}")
    return 0


def _configured_hashes(project: Project, workspace: object) -> dict[str, Any] | None:
    """relpath -> the hashes show-info gives, when ``workspace`` is configured here
    (its .config and pinned tree exist); None otherwise (nothing is configured by
    an import)."""
    from skiffbuild.buildroot import checkout
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.lockfile import approved_sources

    if not isinstance(workspace, str):
        return None
    try:
        plan = load_plan(project, [workspace])
    except SkiffError:
        return None
    ws = plan.workspaces.get(workspace)
    if ws is None or not ws.paths.dotconfig.is_file() or \
            not checkout.tree_dir(project.cache, ws.pin).is_dir():
        return None
    return {s.relpath: s.expected
            for s in approved_sources(ws, project, workspace_sources(ws, project))}


def _bundle_workspace(archive: Path) -> object:
    """The workspace named by the archive's manifest, read without trusting it (only
    to pick the hashes to check it against); None when unreadable."""
    from skiffbuild.sources.bundle import bundle_workspace

    # Bounded there (regular file, header scan, JSON depth): import says what is wrong.
    return bundle_workspace(archive)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.sources.bundle import import_bundle

    project = project_of(settings)
    expected = _configured_hashes(project, _bundle_workspace(args.file))
    manifest = import_bundle(args.file, project, trust=args.trust,
                             allow_unsigned=args.allow_unsigned, expected=expected)
    count = sum(f["path"].startswith("dl/") for f in manifest["files"])
    checked = "signature, " if args.trust else ""
    checked += "workspace hashes, " if expected is not None else ""
    print(f"imported {args.file}: Buildroot {manifest['buildroot']['commit'][:12]} and "
          f"{count} source file(s) for workspace {manifest['workspace']} (checked: {checked}"
          "manifest, Buildroot's .hash files)")
    return 0


def cmd_pin(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.release.pin import pin

    pin(project_of(settings), args.ref, pin_name=args.pin,
        allow_branch=args.allow_branch, environ=settings.environ)
    return 0


def cmd_lock(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import query_overrides, workspace_sources
    from skiffbuild.sources.lockfile import (
        LOCK_NAME,
        check_lock,
        lock_for,
        needs_approval,
        read_lock,
        write_lock,
    )

    as_json = bool(getattr(args, "json", False))
    approve = bool(getattr(args, "approve_unhashed", False))
    if getattr(args, "offline", False):
        settings = settings.replace(offline=True)
    if as_json and not args.check:
        raise SkiffError("--json lists the differences of --check: give both",
                         hint="skiffbuild lock --check --json")
    if approve and args.check:
        raise SkiffError("--approve-unhashed records approvals; --check writes nothing: "
                         "give one of them",
                         hint="skiffbuild lock --approve-unhashed WS, then skiffbuild lock --check")
    names = args.workspaces or sorted(load_plan(project_of(settings)).workspaces)
    if not names:
        raise SkiffError("the project has no workspaces (manifests/boards/*.yaml) to lock")
    plan = configured(settings, names)
    existing = read_lock(plan.project)
    sources = {name: workspace_sources(plan.workspaces[name], plan.project) for name in names}
    # The approvals each workspace keeps: those of the lock for files that still need one.
    approvals: dict[str, dict[str, LockedSource]] = {}
    dropped: list[str] = []
    for name in names:
        old = existing[name].approvals() if existing and name in existing else {}
        now = {s.relpath: s for s in sources[name]}
        approvals[name] = {}
        for path, entry in old.items():
            if path not in now:
                dropped.append(f"{name}: {path}: approval dropped (no longer a source of "
                               "the workspace)")
            elif not needs_approval(now[path]):
                why = "allowed unhashed by the board" if now[path].allow_unhashed else \
                    f"now hashed by {now[path].expected[0].origin}"
                dropped.append(f"{name}: {path}: approval dropped ({why})")
            else:
                approvals[name][path] = entry
    if approve:
        _approve(plan, names, sources, approvals, settings)
    if not args.check and (existing is not None or approve):
        # With a lock present sources:<ws> refuses what it does not list: recording
        # (after review) fetches those sources itself, verified by their .hash files
        # (and approved files by their approvals).
        from skiffbuild.sources.download import ConsoleReporter, fetch_for_review, settings_from_env

        fetch = settings_from_env(settings.environ, offline=settings.offline)
        for name in names:
            fetch_for_review(plan.workspaces[name], plan.project, fetch,
                             ConsoleReporter(lambda line: print(line, file=sys.stderr)),
                             approvals[name])
    current = {name: lock_for(plan.workspaces[name], plan.project, sources[name],
                              query_overrides(plan.workspaces[name], plan.project),
                              approvals[name], strict=not args.check)
               for name in names}
    every = not args.workspaces  # all workspaces: entries of removed boards are stale
    if args.check:
        drift = check_lock(plan.project, current, complete=every)
        for line in drift:
            print(line, file=sys.stderr)
        if as_json:  # each line is "<workspace>: <what differs>"
            rows = [{"workspace": line.partition(": ")[0],
                     "difference": line.partition(": ")[2], "text": line} for line in drift]
            print(json.dumps(rows, indent=2))
        if drift:
            print(f"hint: review, then record it with: skiffbuild lock "
                  f"{' '.join(args.workspaces)}".rstrip(), file=sys.stderr)
            return EXIT_BUILD
        print(f"{LOCK_NAME}: {', '.join(names)} match", file=sys.stderr if as_json else sys.stdout)
        return 0
    for line in dropped:
        print(line, file=sys.stderr)
    changed = write_lock(plan.project, current, replace_all=every)
    print(f"{LOCK_NAME}: {'updated' if changed else 'unchanged'} ({', '.join(names)})")
    return 0


def _approve(plan: Plan, names: list[str], sources: dict[str, list[Source]],
             approvals: dict[str, dict[str, LockedSource]], settings: Settings) -> None:
    """``lock --approve-unhashed``: approve every unhashed file not yet approved, adding
    it to ``approvals``, printing each approval for review; all or nothing."""
    from skiffbuild.sources.approve import approve_unhashed
    from skiffbuild.sources.dlcache import DownloadCache
    from skiffbuild.sources.download import ConsoleReporter, settings_from_env
    from skiffbuild.sources.lockfile import LOCK_NAME

    fetch = settings_from_env(settings.environ, offline=settings.offline)
    cache = DownloadCache.of(plan.project)
    reporter = ConsoleReporter(lambda line: print(line, file=sys.stderr))
    lines: list[str] = []
    refused: list[str] = []
    for name in names:
        done, failed = approve_unhashed(sources[name], approvals[name], cache, fetch, reporter)
        for approval in done:
            e = approval.entry
            approvals[name][e.path] = e
            lines.append(f"{name}: approved {e.path} ({', '.join(approval.packages)}): "
                         f"sha256 {e.sha256}, {e.size} bytes, "
                         f"{'from the cache, ' if approval.cached else ''}url {e.url}")
        refused += [f"  {name}: {f.source.relpath} ({', '.join(f.source.packages)}): {f.why}"
                    for f in failed]
        kept = [p for p in approvals[name] if p not in {a.entry.path for a in done}]
        for path in sorted(kept, key=str.encode):
            lines.append(f"{name}: {path}: already approved in {LOCK_NAME} "
                         f"(sha256 {approvals[name][path].sha256})")
        if not done and not kept and not failed:
            lines.append(f"{name}: no unhashed source file to approve")
    if refused:
        offline = fetch.offline
        raise SkiffError(f"{len(refused)} unhashed source file(s) cannot be approved"
                         f"{' (offline mode)' if offline else ''}; nothing was recorded:\n"
                         + "\n".join(refused),
                         hint="online: run the same command without --offline (and without "
                         "SKIFFBUILD_OFFLINE); for an air-gapped machine: import a bundle that "
                         "holds the file (skiffbuild import FILE), then approve it"
                         if offline else None)
    for line in lines:
        print(line)
