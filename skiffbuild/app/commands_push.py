"""``skiffbuild push``: the workspace's update bundle onto a running device (over ssh)."""

from __future__ import annotations

import argparse
import datetime
import sys
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


def _say(text: str) -> None:
    print(text, flush=True)


def cmd_push(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0: installed (and, with --reboot, running the new slot, marked good); 1:
    refused, not reachable, or back on the old slot; 2: usage."""
    device = parse_target(args.target, port=args.port, identity=args.identity,
                          options=args.ssh_option)
    if not args.remote_dir.startswith("/") or any(c in args.remote_dir for c in "\n\0"):
        raise SkiffError(f"--remote-dir {args.remote_dir!r}: give an absolute path on the "
                         "device")
    if args.timeout <= 0:
        raise SkiffError(f"--timeout {args.timeout:g}: give a number of seconds above 0")
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
        _say(f"push: {bundle}: {bundle.stat().st_size} bytes, sha256 {digest} (not "
             f"{ws.name}'s own bundle: the install is not recorded)")
    else:
        if not args.no_build:
            run_doit(settings, [f"update:{ws.name}"])
        bundle, record = published_bundle(ws)
        digest = str(record["sha256"])
        _say(f"push: {plan.project.display(bundle)}: version {record['version']}, "
             f"{record['size']} bytes (payload {record['payload_size']})")
    done = install(device, bundle, digest, remote_dir=args.remote_dir,
                   log=ws.paths.logs / "push.log", echo=_say)
    if done.slot:
        _say(f"push: {device.name}: installed into slot {done.after.describe(done.slot)} in "
             f"{done.seconds:.1f} s; it boots {done.bootname} next")
    else:
        _say(f"push: {device.name}: installed in {done.seconds:.1f} s; its RAUC names no "
             "slot to boot next (rauc status: no boot_primary)")
    entry: dict[str, Any] = {
        "date": _now(), "device": device.name, "bundle": bundle.name,
        "sha256": digest, "size": bundle.stat().st_size,
        "from_slot": done.before.booted_slot(), "slot": done.slot or None,
        "upload_seconds": round(done.upload_seconds, 1),
        "install_seconds": round(done.seconds, 1)}
    # Recorded as soon as the device has it: a reboot that goes wrong does not undo it.
    own = args.bundle is None
    if own:
        _warn(record_install(ws, entry))
    if not args.reboot:
        return 0
    after = reboot_and_wait(device, timeout=args.timeout, echo=_say)
    running = after.booted_slot()
    good = after.slots.get(running, {}).get("boot_status") == "good"
    entry.update({"booted_after_reboot": running, "marked_good": good})
    if own:
        _warn(record_install(ws, entry, replace_last=True))
    if done.slot and running != done.slot:
        _say(f"push: {device.name} came back on slot {after.describe(running)}, not "
             f"{done.after.describe(done.slot)}: the bootloader fell back to it (the new "
             "slot was not marked good within its tries)")
        return EXIT_BUILD
    if not good:
        _say(f"push: {device.name} runs slot {after.describe(running)}, but RAUC has not "
             f"marked it good within {args.timeout:g} s")
        return EXIT_BUILD
    _say(f"push: {device.name} runs slot {after.describe(running)}, marked good")
    return 0


def _warn(problem: str | None) -> None:
    if problem:
        print(f"warning: push: the install happened, but {problem}", file=sys.stderr,
              flush=True)
