"""``skiffbuild push``: the workspace's update bundle onto a running device (over ssh)."""

from __future__ import annotations

import argparse
import datetime
from typing import Any

from skiffbuild.app.common import project_of, run_doit
from skiffbuild.core.errors import EXIT_BUILD, SkiffError
from skiffbuild.core.fsutil import sha256_file
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import load_plan
from skiffbuild.release.push import install, parse_target, reboot_and_wait
from skiffbuild.release.update import published_bundle, record_install

__all__ = ["cmd_push"]


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_push(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0: installed (and, with --reboot, running the new slot); 1: refused, not
    reachable, or back on the old slot; 2: usage."""
    device = parse_target(args.target, port=args.port, identity=args.identity,
                          options=args.ssh_option)
    plan = load_plan(project_of(settings), [args.workspace])
    ws = plan.workspaces[args.workspace]
    if ws.board.update is None:
        raise SkiffError(f"{ws.name} has no update: section in "
                         f"{plan.project.display(ws.board.manifest)}",
                         hint="push installs RAUC update bundles: see the README, "
                              "'Update bundles'")
    if args.bundle is not None:
        # Another build's bundle (a release from CI): pushed as it is, not recorded here.
        bundle = args.bundle
        if not bundle.is_file():
            raise SkiffError(f"--bundle {bundle}: no such file")
        digest = sha256_file(bundle)
        print(f"push: {bundle}: {bundle.stat().st_size} bytes, sha256 {digest} (not "
              f"{ws.name}'s own bundle: the install is not recorded)", flush=True)
    else:
        if not args.no_build:
            run_doit(settings, [f"update:{ws.name}"])
        bundle, record = published_bundle(ws)
        digest = str(record["sha256"])
        print(f"push: {plan.project.display(bundle)}: version {record['version']}, "
              f"{record['size']} bytes (payload {record['payload_size']})", flush=True)
    done = install(device, bundle, digest, remote_dir=args.remote_dir,
                   log=ws.paths.logs / "push.log", echo=lambda s: print(s, flush=True))
    print(f"push: {device.name}: installed into slot {done.after.describe(done.slot)} "
          f"in {done.seconds:.1f} s; it boots {done.bootname} next", flush=True)
    entry: dict[str, Any] = {
        "date": _now(), "device": device.name, "bundle": bundle.name,
        "sha256": digest, "size": bundle.stat().st_size,
        "from_slot": done.before.booted_slot(), "slot": done.slot,
        "upload_seconds": round(done.upload_seconds, 1),
        "install_seconds": round(done.seconds, 1)}
    status = 0
    if args.reboot:
        after = reboot_and_wait(device, timeout=args.timeout,
                                echo=lambda s: print(s, flush=True))
        running = after.booted_slot()
        good = after.slots.get(running, {}).get("boot_status") == "good"
        entry.update({"booted_after_reboot": running, "marked_good": good})
        if running != done.slot:
            print(f"push: {device.name} came back on slot {after.describe(running)}, not "
                  f"{done.after.describe(done.slot)}: the bootloader fell back to it (the new "
                  "slot was not marked good within its tries)", flush=True)
            status = EXIT_BUILD
        elif not good:
            print(f"push: {device.name} runs slot {after.describe(running)}, but RAUC has not "
                  f"marked it good within {args.timeout:g} s", flush=True)
            status = EXIT_BUILD
        else:
            print(f"push: {device.name} runs slot {after.describe(running)}, marked good",
                  flush=True)
    if args.bundle is None:
        record_install(ws, entry)
    return status
