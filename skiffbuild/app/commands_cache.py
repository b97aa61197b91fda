"""``skiffbuild cache status|push|pull``: the shared stage cache of a workspace."""

from __future__ import annotations

import argparse
import json
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING

from skiffbuild.app.common import project_of, run_doit
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.settings import ENV_CACHE_SIGN, ENV_CACHE_URL, Settings
from skiffbuild.model.plan import load_plan
from skiffbuild.sources.netguard import redact

if TYPE_CHECKING:
    from skiffbuild.farm.stagecache import CacheSettings

__all__ = ["cmd_cache"]


def _cache(settings: Settings, url: str | None) -> CacheSettings:
    from skiffbuild.farm.stagecache import settings_of

    cache = settings_of(settings.environ, url)
    if cache is None:
        raise SkiffError("no stage cache is configured",
                         hint=f"set {ENV_CACHE_URL}=http://host:port/path or pass --url")
    return cache


def _status(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.compile import RESTORED
    from skiffbuild.farm.stagecache import lookup, stage_key

    cache = _cache(settings, args.url)
    plan = load_plan(project_of(settings), [args.workspace])
    run_doit(settings.replace(quiet=True), [f"sources:{args.workspace}"])
    ws = plan.workspaces[args.workspace]
    key, inputs = stage_key(ws, plan.project, settings.environ)
    found = lookup(key, cache) if key is not None else None
    state = ("not cached: " + str(inputs)) if found is None else \
        (f"in the store, signed by {Path(found.entry.signer).name}" if found.entry
         else found.reason)
    restored = (ws.paths.state / RESTORED).is_file()
    report = {"workspace": ws.name, "store": redact(cache.store.url), "key": key, "state": state,
              "hit": bool(found and found.entry), "trusted_keys": len(cache.trusted),
              "publishes": cache.signing_key is not None,
              "output": "restored from the stage cache" if restored else
              "built here" if ws.paths.compile_record.is_file() else "not built"}
    if args.json:
        print(json.dumps(report, indent=1))
        return 0
    for name in ("workspace", "store", "key", "state", "output"):
        print(f"{name + ':':11} {report[name]}")
    print(f"{'trust:':11} {len(cache.trusted)} key(s); "
          f"{'publishes what it builds' if report['publishes'] else 'read-only'}")
    return 0


def _push(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.compile import RESTORED
    from skiffbuild.farm.stagecache import publish, publish_sources, stage_key
    from skiffbuild.farm.store import StoreUnavailable

    cache = _cache(settings, args.url)
    if cache.signing_key is None:
        raise SkiffError("cache push signs what it publishes: no signing key",
                         hint=f"set {ENV_CACHE_SIGN}=builder.pem (an Ed25519 private key)")
    plan = load_plan(project_of(settings), [args.workspace])
    # Up to date first: what is published must be what these inputs build.
    run_doit(settings.replace(quiet=True), [f"compile:{args.workspace}"])
    ws = plan.workspaces[args.workspace]
    if (ws.paths.state / RESTORED).exists():
        raise SkiffError(f"{ws.name}: its outputs were restored from the stage cache, not "
                         "built here: this builder's key does not vouch for them",
                         hint=f"build it here first, without the cache: {ENV_CACHE_URL}= doit "
                         f"forget compile:{ws.name} && {ENV_CACHE_URL}= doit compile:{ws.name}")
    key, inputs = stage_key(ws, plan.project, settings.environ)
    if key is None or isinstance(inputs, str):
        raise SkiffError(f"{ws.name} is not cached: {inputs}")
    try:
        sent = publish_sources(ws, plan.project, cache.store)
        size = publish(ws, key, inputs, cache)
    except StoreUnavailable as exc:
        print(f"error: not published: {exc}", file=sys.stderr)
        return 1
    print(f"{ws.name}: published to {redact(cache.store.url)} (key {key}, {size}; {sent} new "
          "source files)")
    return 0


def _pull(args: argparse.Namespace, settings: Settings) -> int:
    if args.url:
        settings = settings.replace(environ=types.MappingProxyType(
            {**settings.environ, ENV_CACHE_URL: args.url}))
    _cache(settings, None)
    load_plan(project_of(settings), [args.workspace])
    run_doit(settings.replace(cache_only=True), [f"compile:{args.workspace}"])
    return 0


def cmd_cache(args: argparse.Namespace, settings: Settings) -> int:
    return {"status": _status, "push": _push, "pull": _pull}[args.action](args, settings)
