"""repro:<ws>: build a workspace twice from scratch and explain any difference.

Each build runs in its own copy of the project (``cache/repro/<ws>/a`` and
``…/b``: the boards, layers, patches and overrides linked in, the git
mirrors and the verified download cache shared, everything else fresh), as
a separate ``doit image:<ws>`` process. The second build differs in build
path, start time, umask, time zone, locale, download parallelism and, where
``unshare`` allows it, host name. Then the sha256 of every artifact and
partition is compared; for a partition that differs, its files are listed
(squashfs, ext4, FAT, and cpio initramfs files inside them) and compared by
content and metadata, and diffoscope runs on differing members when it is
installed. ``--against SHA256SUMS`` compares one fresh build with a
published set instead. The verdict is printed and a JSON report written.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import ENV_PROJECT, Project
from skiffbuild.core.runner import call, capture, query, quote, tail
from skiffbuild.image.fsinspect import compare, filesystem_of, list_image

__all__ = ["VARIANTS", "parse_sums", "repro"]

VARIANTS = {
    "a": {"umask": "022", "TZ": "UTC", "LC_ALL": "C", "SKIFFBUILD_DOWNLOAD_JOBS": "4"},
    "b": {"umask": "077", "TZ": "Pacific/Chatham", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
          "SKIFFBUILD_DOWNLOAD_JOBS": "1", "hostname": "skiffbuild-repro-b"},
}


def parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        if line.strip():
            digest, _, name = line.partition("  ")
            sums[name.strip()] = digest.strip()
    return sums


def _link(target: Path, link: Path) -> None:
    if target.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)


def _copy(source: Path, dest: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, dest, symlinks=True)
    elif source.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest)


def _copy_project(project: Project, dest: Path) -> Project:
    shutil.rmtree(dest, ignore_errors=True)
    # Copies, not links, of the project's own (small) inputs: every path a
    # manifest names must stay inside the project it belongs to, and each build
    # then also sees its layers under a different path.
    for name in ("layers", "buildroot", "overrides", "manifests", "dodo.py"):
        _copy(project.root / name, dest / name)
    # Shared, content-verified caches: no network and no re-download.
    _link(project.cache / "git", dest / "cache" / "git")
    _link(project.dl_dir, dest / "cache" / "dl")
    return Project(dest, project.layer_path)


def _build(copy: Project, ws: str, variant: dict[str, str], log: Path) -> None:
    extra = {k: v for k, v in variant.items() if k not in ("umask", "hostname")}
    extra[ENV_PROJECT] = str(copy.root)
    argv = [sys.executable, "-m", "doit", "-f", str(copy.root / "dodo.py"), "--dir",
            str(copy.root), f"image:{ws}"]
    if "hostname" in variant and os.geteuid() == 0 and shutil.which("unshare"):
        argv = ["unshare", "--uts", "sh", "-c", f'hostname {variant["hostname"]} && exec "$@"',
                "sh", *argv]
    status = call(argv, extra_env=extra, unset=("LC_*", "LANG*", "TZ*"),
                  umask=int(variant["umask"], 8), output=log, what=f"repro: build of {ws}")
    if status != 0:
        raise BuildError(f"repro: build of {ws} in {copy.root} failed:\n{quote(tail(log, 15))}"
                         f"\n  log: {log}")


def _explain(name: str, a: Path, b: Path, report_dir: Path) -> list[dict[str, Any]]:
    """Files that differ between two images of one partition (and cpio archives in them)."""
    kind = filesystem_of(a)
    if kind is None:
        return [{"partition": name, "path": None, "kind": "content",
                 "detail": "not a filesystem skiffbuild can read"}]
    found: list[dict[str, Any]] = []
    list_a, list_b = list_image(a, kind), list_image(b, kind)
    for path, what, detail in compare(list_a, list_b):
        found.append({"partition": name, "path": path, "kind": what, "detail": detail})
    # A cpio initramfs inside a partition (qemu's rootfs.cpio.gz): look inside it too.
    with tempfile.TemporaryDirectory() as tmp:
        for path, what, _ in compare(list_a, list_b):
            if what != "content" or not path.endswith((".cpio", ".cpio.gz")):
                continue
            inner_a, inner_b = Path(tmp) / "a", Path(tmp) / "b"
            _extract_member(a, kind, path, inner_a)
            _extract_member(b, kind, path, inner_b)
            for inner, how, detail in compare(list_image(inner_a, "cpio"),
                                              list_image(inner_b, "cpio")):
                found.append({"partition": name, "path": f"{path}:{inner}", "kind": how,
                              "detail": detail})
    if shutil.which("diffoscope"):
        out = report_dir / f"diffoscope-{name}.txt"
        capture(["diffoscope", "--text", out, a, b])
        found.append({"partition": name, "path": None, "kind": "diffoscope",
                      "detail": str(out)})
    return found


def _extract_member(image: Path, kind: str, member: str, dest: Path) -> None:
    if kind == "vfat":
        query(["mcopy", "-n", "-i", image, f"::/{member}", dest],
              extra_env={"MTOOLS_SKIP_CHECK": "1"})
    elif kind == "ext4":
        query(["debugfs", "-R", f"dump /{member} {dest}", image])
    elif kind == "squashfs":
        with tempfile.TemporaryDirectory() as tmp:
            query(["unsquashfs", "-q", "-n", "-d", f"{tmp}/x", image, member])
            shutil.copyfile(f"{tmp}/x/{member}", dest)


def repro(project: Project, ws: str, *, against: Path | None = None,
          echo: Callable[[str], None] = print) -> tuple[bool, dict[str, Any]]:
    """Returns (identical, report). The report is also written as JSON."""
    base = project.cache / "repro" / ws
    report_dir = project.workspace(ws).repro
    report_dir.mkdir(parents=True, exist_ok=True)
    published: dict[str, str] | None = None
    if against is not None:
        try:
            published = parse_sums(against.read_text())
        except OSError as exc:
            raise SkiffError(f"cannot read {against}: {exc.strerror}") from None
    builds = ["a"] if published is not None else ["a", "b"]
    sums: dict[str, dict[str, str]] = {}
    for name in builds:
        copy = _copy_project(project, base / name)
        started = time.time()
        echo(f"repro:{ws}: build {name} in {copy.root} ({VARIANTS[name]})")
        _build(copy, ws, VARIANTS[name], report_dir / f"build-{name}.log")
        echo(f"repro:{ws}: build {name} done in {time.time() - started:.0f}s")
        sums[name] = parse_sums(copy.workspace(ws).sums.read_text())
        time.sleep(1)  # the second build starts at another second
    other = published if published is not None else sums["b"]
    artifacts: list[dict[str, Any]] = [{"name": n, "a": sums["a"].get(n), "b": other.get(n),
                  "same": sums["a"].get(n) == other.get(n)}
                 for n in sorted(set(sums["a"]) | set(other))]
    identical = all(item["same"] for item in artifacts)
    differences: list[dict[str, Any]] = []
    for item in artifacts:
        if item["same"] or not item["name"].startswith("partitions/"):
            continue
        image_a = Project(base / "a").workspace(ws).image_dir / item["name"]
        image_b = (against.parent / item["name"] if against is not None
                   else Project(base / "b").workspace(ws).image_dir / item["name"])
        part = Path(item["name"]).stem
        if image_a.is_file() and image_b.is_file():
            differences += _explain(part, image_a, image_b, report_dir)
        else:
            differences.append({"partition": part, "path": None, "kind": "content",
                                "detail": "image not available for inspection"})
    report = {"workspace": ws, "verdict": "identical" if identical else "different",
              "against": str(against) if against else None,
              "variants": {n: VARIANTS[n] for n in builds},
              "artifacts": artifacts, "differences": differences}
    atomic_write(report_dir / "report.json", json.dumps(report, indent=1) + "\n")
    echo(f"repro:{ws}: {report['verdict']}")
    for diff in differences:
        where = f"{diff['partition']}: {diff['path']}" if diff["path"] else diff["partition"]
        echo(f"  {where}: {diff['kind']} ({diff['detail']})")
    echo(f"repro:{ws}: report {report_dir / 'report.json'}")
    return identical, report
