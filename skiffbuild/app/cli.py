"""The ``skiffbuild`` command: the parser, its help, and error handling.

The subcommands live in ``commands_info`` (layers, boards, completion),
``commands_sources`` (sources, export, import, pin, lock), ``commands_build``
(check, build, run, repro, nightly, tryout, testtree), ``commands_menuconfig``,
``commands_diff``, ``commands_graph``, ``commands_skiffos`` (import-skiffos),
``commands_push``, ``commands_bom`` (sbom, legal-info), ``commands_size``,
``commands_cache`` and ``commands_farm``.
Building itself is doit's job (``doit image:pi4``); ``skiffbuild build`` runs the
same tasks in-process.
Exit status: 0 success, 1 build failure or strict-mode findings, 2 user error,
3 internal error.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from skiffbuild import __version__
from skiffbuild.app import commands_bom as bom
from skiffbuild.app import commands_build as build
from skiffbuild.app import commands_cache as cache
from skiffbuild.app import commands_diff as diff
from skiffbuild.app import commands_farm as farm
from skiffbuild.app import commands_graph as graph
from skiffbuild.app import commands_info as info
from skiffbuild.app import commands_menuconfig as menu
from skiffbuild.app import commands_push as push
from skiffbuild.app import commands_size as size
from skiffbuild.app import commands_skiffos as skiffos
from skiffbuild.app import commands_sources as inputs
from skiffbuild.app.common import Stop
from skiffbuild.core.errors import EXIT_INTERNAL, SkiffError
from skiffbuild.core.settings import VARIABLES, process_settings

__all__ = ["main", "parser"]

DESCRIPTION = """\
Build immutable, reproducible Linux firmware images for many boards with Buildroot,
from ordered configuration layers (SkiffOS-style). Boards are manifests/boards/*.yaml;
each board is a workspace (workspaces/<board>/) built by the doit tasks
fetch:buildroot -> config:<ws> -> sources:<ws> -> compile:<ws> -> image:<ws>,
each of which only redoes what changed."""

EXAMPLES = """\
examples:
  skiffbuild boards                         the boards, their architecture and layers
  skiffbuild build qemu-x86_64              build the disk image (doit image:qemu-x86_64)
  skiffbuild run qemu-x86_64 virt/qemu/run  boot it in qemu (a throw-away copy)
  skiffbuild check --strict pi4             configure and report what did not take effect
  skiffbuild tryout                         the whole pipeline offline, on a test tree
  doit list                                 every task; doit info image:pi4 says why it runs
  source <(skiffbuild completion bash)      tab completion in bash

exit status: 0 success, 1 build failure or findings, 2 user error, 3 internal error
"""

_Command = Callable[[argparse.Namespace, Any], int]


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def parser() -> argparse.ArgumentParser:
    width = max(len(v.name) for v in VARIABLES)
    top = argparse.ArgumentParser(
        prog="skiffbuild", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXAMPLES + "\nenvironment:\n" +
        "\n".join(f"  {v.name:<{width}}  {v.help}" for v in VARIABLES))
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND",
                             title="commands")

    def command(name: str, func: _Command, help: str, description: str,
                examples: Sequence[str]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description,
                           epilog=_examples(*examples),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = command("boards", info.cmd_boards, "list the boards: architecture, description, layers",
                "List every board (manifests/boards/*.yaml) with its architecture, description "
                "and its layers in merge order.",
                ["skiffbuild boards", "skiffbuild boards --json"])
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.add_argument("--names", action="store_true", help="only the names, one a line")
    p = command("layers", info.cmd_layers, "list layers, or a workspace's resolved chain",
                "Without WORKSPACE: every layer with its description (and where it came from "
                "when not from layers/). With WORKSPACE: its Buildroot pin, its layers in merge "
                "order with their paths, and the commands they provide for `skiffbuild run`.",
                ["skiffbuild layers", "skiffbuild layers --all", "skiffbuild layers pi4",
                 "skiffbuild layers pi4 --json"])
    p.add_argument("workspace", nargs="?")
    p.add_argument("--all", action="store_true", help="include unlisted layers")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = command("graph", graph.cmd_graph, "draw a workspace's layer chain and task graph (SVG)",
                "Draw the workspace's layers in merge order and its doit tasks (fetch, config, "
                "sources, compile, image, repro) with the files that connect them, as read "
                "from the task definitions; nothing is built. Writes workspaces/<ws>/graph.svg "
                "by default (needs Graphviz's dot); --format dot or json need nothing.",
                ["skiffbuild graph pi4", "skiffbuild graph pi4 -o pi4.svg",
                 "skiffbuild graph pi4 --format dot | dot -Tpng > pi4.png",
                 "skiffbuild graph pi4 --format json"])
    p.add_argument("workspace")
    p.add_argument("-o", "--output", type=Path, metavar="FILE",
                   help="write here (default: workspaces/<ws>/graph.svg; stdout for dot/json)")
    p.add_argument("--format", choices=["svg", "dot", "json"], default="svg",
                   help="svg (default, needs Graphviz), dot source, or json nodes and edges")
    p = command("check", build.cmd_check, "configure and validate workspaces without building",
                "Bring config:<ws> up to date, report every requested setting that did not take "
                "effect, and audit offline that every source has a hash. An unknown symbol, an "
                "unmet dependency, an invalid value or a wrong architecture fails the check "
                "(exit 1); a setting Kconfig did not apply and a layer entry with no effect are "
                "warnings; a later layer overriding an earlier one is information (the point "
                "of layering). Mark a deliberate override with a '# skiffbuild: override' line "
                "above it in the fragment.",
                ["skiffbuild check", "skiffbuild check --strict pi4 qemu-x86_64",
                 "skiffbuild check --fail-on overridden pi4",
                 "skiffbuild check --json pi4   the findings and the hash audit as JSON"])
    p.add_argument("workspaces", nargs="*", help="default: all")
    p.add_argument("--strict", action="store_true",
                   help="warnings fail the check too (not-applied, layer)")
    p.add_argument("--fail-on", metavar="KIND[,KIND]",
                   help="these finding kinds fail the check too, e.g. overridden")
    p.add_argument("--json", action="store_true",
                   help="per workspace: the findings and the hash audit, as JSON on stdout "
                   "(messages stay on stderr, the exit status is unchanged)")
    p = command("diff", diff.cmd_diff, "compare the resolved .config of two boards or two pins",
                "Configure both sides (config:<ws>, as check does) and compare their Buildroot "
                "configurations (workspaces/<ws>/output/.config) symbol by symbol, naming the "
                "layer that requested each value (skiffbuild: the wiring of the layers). With "
                "--pin PIN: WORKSPACE on its own pin against WORKSPACE on manifests/<PIN>.yaml, "
                "configured in workspaces/.diff/<PIN>/<ws>/ (the real workspace is not "
                "touched). Paths inside each workspace are compared with the workspace's "
                "directory written as workspaces/<ws>/. Shown: every symbol whose value differs, "
                "and a symbol defined on one side only unless it is off there (n or \"\"); "
                "--all shows those too. 'absent': the .config has no such symbol. Exit "
                "status 0 whether or not they differ (--exit-code: 1 when any row is shown), "
                "2 user error.",
                ["skiffbuild diff qemu-x86_64 pi4",
                 "skiffbuild diff qemu-x86_64 --pin buildroot-next   the same board, another pin",
                 "skiffbuild diff --json --all qemu-x86_64 pi4",
                 "skiffbuild diff --exit-code pi4 --pin buildroot-next   (CI: exit 1 on a change)"])
    p.add_argument("workspace")
    p.add_argument("other", nargs="?", metavar="other-workspace",
                   help="the workspace to compare with (or --pin)")
    p.add_argument("--pin", metavar="PIN",
                   help="compare WORKSPACE on its own pin with WORKSPACE on manifests/<PIN>.yaml")
    p.add_argument("--all", action="store_true",
                   help="also symbols defined on one side only and off there (n or \"\")")
    p.add_argument("--json", action="store_true",
                   help="machine-readable list of {symbol, a, b, origin_a, origin_b}")
    p.add_argument("--exit-code", action="store_true",
                   help="exit 1 when any symbol is reported (like git diff --exit-code)")
    p = command("build", build.cmd_build, "build the disk image of workspaces (doit image:WS)",
                "Run doit image:<ws> for each WORKSPACE in this process (fetch, configure, "
                "download, compile and assemble, each only when its inputs changed), then "
                "print where each image and its SHA256SUMS are.",
                ["skiffbuild build qemu-x86_64",
                 "skiffbuild build -n 2 pi4 qemu-x86_64   two at once, CPUs split",
                 "skiffbuild build --offline pi4          only the download cache"])
    p.add_argument("workspaces", nargs="+", metavar="workspace")
    p.add_argument("-n", "--process", type=int, metavar="N", default=0,
                   help="build up to N workspaces at once (doit -n N)")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p = command("menuconfig", menu.cmd_menuconfig, "change the configuration in the real "
                "menu and save the change into a layer",
                "Open Buildroot's own menu (make menuconfig; with --kernel, --busybox or "
                "--uboot the package's: make linux-menuconfig ...) on the workspace's resolved "
                "configuration, then write what changed as a fragment, "
                "<layer>/<kind>/90-menuconfig, into the layer named by --save-to (a layer of "
                "the workspace, `overrides` for every workspace, or overrides/workspaces/WS). "
                "Buildroot's changes are reduced to the values chosen (what they select "
                "follows), the workspace is configured again from the layers, and any value "
                "that came out different is reported (exit 1). Nothing is saved when a later "
                "layer would override a value. Edits made to output/.config or to the "
                "generated defconfig outside skiffbuild stop the next configuration; --adopt "
                "saves them the same way, --discard drops them.",
                ["skiffbuild menuconfig pi4 --save-to pi/4",
                 "skiffbuild menuconfig pi4 --kernel --save-to overrides/workspaces/pi4",
                 "skiffbuild menuconfig pi4 --adopt --save-to pi/4   keep `make menuconfig` edits",
                 "skiffbuild menuconfig pi4 --discard                 drop them"])
    p.add_argument("workspace")
    for kind, package in (("kernel", "linux"), ("busybox", "busybox"), ("uboot", "uboot")):
        p.add_argument(f"--{kind}", action="store_true",
                       help=f"the {package} configuration (make {package}-menuconfig)")
    p.add_argument("--save-to", metavar="LAYER", help="a layer of the workspace, overrides, "
                   "or overrides/workspaces/WS")
    p.add_argument("--adopt", action="store_true",
                   help="no menu: save the edits already made outside skiffbuild")
    p.add_argument("--discard", action="store_true",
                   help="no menu: drop the edits made outside skiffbuild and configure again")
    p = command("run", build.cmd_run, "run a layer command, e.g. boot the image in qemu",
                "Run a command a layer of the workspace provides (`skiffbuild layers WS` lists "
                "them) with SKIFFBUILD_WORKSPACE, SKIFFBUILD_LAYER, SKIFFBUILD_LAYER_DIR, "
                "SKIFFBUILD_IMAGES_DIR and SKIFFBUILD_IMAGE set. SKIFFBUILD_IMAGE is a "
                "throw-away copy of the image, so the published image keeps matching its "
                "SHA256SUMS; --persist gives the image itself. Every argument after the "
                "command, `--` included, goes to it unchanged; skiffbuild's own options come "
                "before the workspace.",
                ["skiffbuild run qemu-x86_64 virt/qemu/run",
                 "skiffbuild run qemu-x86_64 virt/qemu/run -- -m 2048   extra qemu arguments",
                 "skiffbuild run --persist qemu-x86_64 virt/qemu/run    keep what the VM writes",
                 "skiffbuild run pi4 pi/common/install /dev/sdX         write it to a card"])
    p.add_argument("--persist", action="store_true",
                   help="give the command the image itself: what it writes stays")
    p.add_argument("workspace")
    p.add_argument("command_name", metavar="layer/command")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="passed to the command unchanged")
    p = command("push", push.cmd_push, "install the workspace's update bundle on a running "
                "device over ssh", "Bring update:<ws> up to date, send its RAUC bundle to the "
                "device over ssh (BatchMode: keys from the agent, ~/.ssh/config or "
                "--identity), check it arrived intact and run `rauc install` there: RAUC "
                "checks the signature and the compatible, writes the inactive slot and "
                "switches the boot order. Prints and records (build-info.json, "
                "update.installs) the slot, the size and the time to install. --reboot "
                "reboots the device, waits for it and says which slot it runs: a device "
                "back on its previous slot (the bootloader gave up on the new one) is exit 1.",
                ["skiffbuild push qemu-x86_64-ab root@192.168.1.20",
                 "skiffbuild push --reboot qemu-x86_64-ab root@device.local",
                 "skiffbuild push --port 2222 -i ~/.ssh/dev qemu-x86_64-ab root@127.0.0.1",
                 "skiffbuild push --bundle release-1.4.raucb qemu-x86_64-ab root@device"])
    p.add_argument("workspace")
    p.add_argument("target", metavar="[user@]host")
    p.add_argument("--reboot", action="store_true",
                   help="reboot the device afterwards and report the slot it runs")
    p.add_argument("-p", "--port", type=int, help="ssh port (default: ssh's)")
    p.add_argument("-i", "--identity", type=Path, metavar="KEY", help="ssh private key")
    p.add_argument("-o", "--ssh-option", action="append", default=[], metavar="NAME=VALUE",
                   help="an ssh -o option (repeatable), e.g. UserKnownHostsFile=FILE")
    p.add_argument("--remote-dir", default="/tmp", metavar="DIR",
                   help="where the bundle is stored on the device during the install "
                   "(default /tmp; it needs the bundle's size free)")
    p.add_argument("--timeout", type=float, default=600, metavar="SECONDS",
                   help="with --reboot: how long to wait for the device (default 600)")
    p.add_argument("--no-build", action="store_true",
                   help="push the bundle update:<ws> made last, without bringing it up to "
                   "date first")
    p.add_argument("--bundle", type=Path, metavar="FILE",
                   help="push this bundle (e.g. a release from CI) instead of the "
                   "workspace's own; the device's RAUC decides whether it fits")
    p = command("sources", inputs.cmd_sources, "list a workspace's downloads and their cache "
                "state", "Configure the workspace and list every source file it needs, with "
                "its package, download directory and whether the cache holds it verified.",
                ["skiffbuild sources pi4", "skiffbuild sources pi4 --json --offline"])
    p.add_argument("workspace")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p = command("sbom", bom.cmd_sbom, "print the workspace's bill of materials (CycloneDX)",
                "Configure the workspace and print its SBOM: CycloneDX 1.6 JSON (checked "
                "against the schema when cyclonedx-python-lib is installed), with every "
                "package Buildroot's show-info lists (version, "
                "licences, CPE, patches), every source with the sha256 skiffbuild verified, "
                "the pin, the layers and the toolchain; once the image is built, its digests "
                "too. image:<ws> writes the same document to image/sbom.cdx.json.",
                ["skiffbuild sbom pi4 > pi4.cdx.json",
                 "skiffbuild sbom pi4 --provenance   the in-toto/SLSA provenance statement"])
    p.add_argument("workspace")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write it to FILE")
    p.add_argument("--provenance", action="store_true",
                   help="print the provenance statement (in-toto v1, SLSA provenance v1) "
                   "instead")
    p = command("cache", cache.cmd_cache, "the shared stage cache of a workspace",
                "status: the workspace's key, and whether the store has an entry a trusted "
                "key signed. push: bring compile:<ws> up to date and publish its outputs, "
                "signed (SKIFFBUILD_CACHE_SIGN). pull: restore compile:<ws>'s outputs from "
                "the store, or fail without building. The store is SKIFFBUILD_CACHE_URL; "
                "the keys trusted are SKIFFBUILD_CACHE_TRUST.",
                ["skiffbuild cache status pi4", "skiffbuild cache push pi4",
                 "skiffbuild cache pull pi4 --url http://cache.lan:8080/skiffbuild"])
    p.add_argument("action", choices=("status", "push", "pull"))
    p.add_argument("workspace")
    p.add_argument("--url", help="the store (default: SKIFFBUILD_CACHE_URL)")
    p.add_argument("--json", action="store_true", help="status: machine-readable")
    p = command("farm", farm.cmd_farm, "write CI pipelines for every board",
                "ci: write a GitHub Actions workflow and/or a GitLab CI file from the board "
                "manifests: one job per board (skiffbuild build), the shared stage cache on "
                "every job (SKIFFBUILD_CACHE_URL from the service's variables, the builders' "
                "public key from the repository), the default branch publishing with the "
                "signing key from a secret (SKIFFBUILD_CACHE_SIGN_KEY), the image's records "
                "kept, and a nightly skiffbuild repro per board.",
                ["skiffbuild farm ci --github .github/workflows/skiffbuild.yml",
                 "skiffbuild farm ci --gitlab .gitlab-ci.yml --trust keys/builders.pub"])
    p.add_argument("action", choices=("ci",))
    p.add_argument("--github", metavar="FILE",
                   help="write a GitHub Actions workflow (e.g. .github/workflows/skiffbuild.yml)")
    p.add_argument("--gitlab", metavar="FILE", help="write a GitLab CI file (e.g. .gitlab-ci.yml)")
    p.add_argument("--trust", default=farm.TRUST, metavar="PATH",
                   help=f"the builders' public key in the repository (default {farm.TRUST})")
    p = command("legal-info", bom.cmd_legal_info, "collect the licences and sources of what "
                "the image ships", "Bring the workspace's verified sources up to date, run "
                "Buildroot's make legal-info from that cache only, and publish the result in "
                "image/legal-info/: manifest.csv, every package's licence files, its source "
                "archives and patches, the configuration, the README's warnings.",
                ["skiffbuild legal-info pi4", "skiffbuild legal-info pi4 --offline"])
    p.add_argument("workspace")
    p.add_argument("--offline", action="store_true",
                   help="never touch the network: every source must be in the cache")
    p = command("size", size.cmd_size, "where a built image's bytes go, and what grew",
                "Report the built image's size: the disk, each partition, the root "
                "filesystem by package (from Buildroot's packages-file-list.txt, installed "
                "and compressed), the budgets; draw a bar chart (image/size.svg); with "
                "--against, list what grew since another build.",
                ["skiffbuild size pi4", "skiffbuild size pi4 --against release/1.2/image",
                 "skiffbuild size pi4 --json --chart pi4.png"])
    p.add_argument("workspace")
    p.add_argument("--against", metavar="WS|FILE|DIR",
                   help="another workspace, a size.json or a directory holding one")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--chart", type=Path, metavar="FILE",
                   help="where to draw the chart (.svg or .png; default image/size.svg)")
    p.add_argument("--fast", action="store_true",
                   help="leave out the compressed sizes (each file is compressed to measure)")
    p = command("export", inputs.cmd_export, "write every input of a workspace into one archive",
                "Write the pinned Buildroot commit, its patches and every source file of the "
                "workspace into one archive, for an air-gapped machine.",
                ["skiffbuild export pi4 pi4-inputs.tar --sign key.pem"])
    p.add_argument("workspace")
    p.add_argument("file", type=Path)
    p.add_argument("--sign", type=Path, metavar="KEY",
                   help="sign the manifest with this Ed25519 private key (PEM)")
    p = command("import", inputs.cmd_import, "verify an export archive and load it into the "
                "cache", "Verify an archive written by `skiffbuild export` (signature, "
                "manifest, Buildroot's .hash files) and load it into the cache.",
                ["skiffbuild import pi4-inputs.tar --trust key.pub"])
    p.add_argument("file", type=Path)
    p.add_argument("--trust", type=Path, metavar="KEY",
                   help="require a signature by this Ed25519 public key (PEM)")
    p.add_argument("--allow-unsigned", action="store_true",
                   help="without --trust: accept an archive whose origin cannot be checked")
    p = command("pin", inputs.cmd_pin, "point a Buildroot pin at a tag or commit",
                "Resolve a tag or commit against the pin's URL, write the full SHA and the tag "
                "into manifests/<PIN>.yaml and check that buildroot/patches still applies.",
                ["skiffbuild pin 2026.02.3", "skiffbuild pin 679b9ead7620"])
    p.add_argument("ref", metavar="tag-or-commit")
    p.add_argument("--pin", default="buildroot",
                   help="the pin to change: manifests/<PIN>.yaml (default: buildroot)")
    p.add_argument("--allow-branch", action="store_true",
                   help="accept a branch name (pins its current commit)")
    p = command("lock", inputs.cmd_lock, "write skiffbuild.lock, or check the workspaces "
                "against it", "Record per workspace the Buildroot commit, the patch digest "
                "and every source file with its sha256 and size in skiffbuild.lock.",
                ["skiffbuild lock", "skiffbuild lock --check      (CI: exit 1 on drift)",
                 "skiffbuild lock --check --json",
                 "skiffbuild lock --approve-unhashed pi4   (once: approve its custom kernel)"])
    p.add_argument("workspaces", nargs="*", help="default: all")
    p.add_argument("--check", action="store_true",
                   help="exit 1 listing every difference from the lock; write nothing")
    p.add_argument("--approve-unhashed", action="store_true",
                   help="download (or take from the cache) every source file no .hash file "
                   "lists and not yet approved, and record its sha256 and URL in the lock "
                   "as approved; sources: then accepts exactly those bytes")
    p.add_argument("--offline", action="store_true",
                   help="never touch the network (only cached files can be approved)")
    p.add_argument("--json", action="store_true",
                   help="with --check: the differences as a JSON list on stdout (empty: "
                   "it matches)")
    p = command("repro", build.cmd_repro, "build twice from scratch and compare, or check a "
                "build against a published SHA256SUMS",
                "Build the workspace twice from scratch with varied environments and compare "
                "every artifact and partition; exit 0 identical, 1 different.",
                ["skiffbuild repro qemu-x86_64",
                 "skiffbuild repro pi4 --against release/SHA256SUMS"])
    p.add_argument("workspace")
    p.add_argument("--against", type=Path, metavar="SHA256SUMS")
    p = command("nightly", build.cmd_nightly, "repro for every board; keep one JSON per night "
                "and render the history (summary.txt, index.html)",
                "Run repro for every board (or those named) and add the night to the history "
                "in --results.", ["skiffbuild nightly --results /srv/nightly"])
    p.add_argument("workspaces", nargs="*")
    p.add_argument("--results", type=Path, default=Path("nightly-results"))
    p.add_argument("--date", help="the night's name (default: today, UTC)")
    p = command("tryout", build.cmd_tryout, "run the pipeline against the local Buildroot test "
                "tree", "Show the whole pipeline offline: build a try-out project against the "
                "bundled Buildroot-compatible test tree and boot the image in qemu.",
                ["skiffbuild tryout", "skiffbuild tryout pi4 --task config"])
    p.add_argument("workspaces", nargs="*", help="default: qemu-x86_64")
    p.add_argument("--task", dest="tasks", action="append", default=None,
                   help="doit task to run per workspace (default: image); repeatable")
    p = command("testtree", build.cmd_testtree, "create the Buildroot-compatible test "
                "repository", "Create the git repository of the Buildroot-compatible test tree "
                "at PATH (e.g. for your own mirror map).", ["skiffbuild testtree /tmp/br-test"])
    p.add_argument("path", type=Path)
    p = command("import-skiffos", skiffos.cmd_import_skiffos, "write a board manifest for a "
                "SkiffOS SKIFF_CONFIG", "Write manifests/boards/NAME.yaml so that `doit "
                "image:NAME` builds the SkiffOS system SKIFF_CONFIG (as in SkiffOS: "
                "SKIFF_CONFIG=pi/4,skiff/core) from the SkiffOS checkout on "
                "SKIFFBUILD_LAYER_PATH. layers: the SKIFF_CONFIG entries as SkiffOS parses "
                "them (an unknown layer is an error, nothing is written); layer_order: "
                "skiffos; architecture: the last architecture choice the resolved chain's "
                "Buildroot fragments request; image: a generic layout to adapt (explained in "
                "the file's comments).",
                ["SKIFFBUILD_LAYER_PATH=~/SkiffOS skiffbuild import-skiffos pi4-core "
                 "pi/4,skiff/core",
                 "skiffbuild import-skiffos --print vm 'virt/qemu skiff/core'",
                 "skiffbuild import-skiffos --force --pin buildroot-next vm virt/qemu"])
    p.add_argument("name", metavar="NAME", help="the board (workspace) name")
    p.add_argument("skiff_config", metavar="SKIFF_CONFIG", nargs="+",
                   help="layers, separated by commas or spaces, as SkiffOS's SKIFF_CONFIG")
    p.add_argument("--pin", default="buildroot", metavar="PIN",
                   help="the Buildroot pin: manifests/<PIN>.yaml (default: buildroot)")
    p.add_argument("--force", action="store_true", help="replace an existing board manifest")
    p.add_argument("--print", action="store_true",
                   help="write the manifest to stdout instead of the file")
    p = command("completion", info.cmd_completion, "print a shell completion script",
                "Print a completion script for the shell: subcommands, options and board "
                "names.", ["source <(skiffbuild completion bash)"])
    p.add_argument("shell", choices=["bash"])
    return top


def _parse(line: list[str]) -> argparse.Namespace:
    """``run``'s arguments after ``--`` are the layer command's, ``--`` included:
    argparse would drop that ``--``."""
    command = next((word for word in line if not word.startswith("-")), None)
    if command == "run" and "--" in line:
        cut = line.index("--")
        args = parser().parse_args(line[:cut])
        args.args = [*args.args, *line[cut:]]
        return args
    return parser().parse_args(line)


def main(argv: Sequence[str] | None = None) -> int:
    # Read once; every command gets it (no command changes os.environ to talk to doit).
    settings = process_settings(None if argv is None else list(argv))
    args = _parse(list(settings.command[1:]))
    if getattr(args, "tasks", ()) is None:
        args.tasks = ["image"]
    try:
        try:
            status = int(args.func(args, settings))
        except Stop as stop:
            status = stop.status
        except SkiffError as exc:
            print(exc.render(), file=sys.stderr)
            status = exc.exit_status
        # Now rather than at exit, so that a reader gone (below) is handled here too.
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # The reader of stdout went away (`skiffbuild layers | head -1`): stop quietly,
        # with the status of a command killed by SIGPIPE (128 + 13), as `ls | head` does:
        # the output was cut short, which is neither success nor one of our own failures.
        # Only when stdout is that pipe: a pipe to a child process is still a bug.
        import os
        import select

        try:
            fd = sys.stdout.fileno()
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            gone = any(events & (select.POLLERR | select.POLLHUP)
                       for _, events in poller.poll(0))
        except (AttributeError, OSError, ValueError):
            gone = False  # stdout is no file (replaced in-process): not this case
        if gone:
            # The interpreter flushes stdout once more at exit: let that reach nothing.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
            return 141
        traceback.print_exc()
        print("internal error: this is a bug in skiffbuild", file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        print("internal error: this is a bug in skiffbuild", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
