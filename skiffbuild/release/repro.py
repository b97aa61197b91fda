"""repro:<ws>: build a workspace twice from scratch and explain any difference.

Each build runs in its own copy of the project (``cache/repro/<ws>/a`` and
``…/b``: the boards, layers, patches and overrides linked in, the git
mirrors and the verified download cache shared, everything else fresh), as
a separate ``doit image:<ws>`` process. The second build differs in build
path, umask, time zone, locale, download parallelism, the clock (373 days
ahead through libfaketime, as reprotest does: a date stamp or a certificate's
validity taken from the build machine's clock then differs;
``SOURCE_DATE_EPOCH`` stays the pinned commit's date) and, where ``unshare``
allows it, host name. Then the sha256 of every artifact and
partition is compared; for a partition that differs, its files are listed
(squashfs, ext4, FAT, and cpio initramfs files inside them) and compared by
content and metadata, and diffoscope runs on differing members when it is
installed (its HTML report kept beside the text). ``--against SHA256SUMS``
compares one fresh build with a published set instead. The verdict is printed
and a JSON report written: the project's commit, the Buildroot pin, each
build's variant, duration and log, the digests and the differences; when a
build fails, the report says so with the first error line of its log (the
cause, not make's last words) and ``ReproError`` carries it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.runner import call, capture, git, query, quote, tail
from skiffbuild.core.settings import ENV_PROJECT
from skiffbuild.image.fsinspect import compare, filesystem_of, list_image
from skiffbuild.image.published import PROVENANCE_FILE, SBOM_FILE, read_sums
from skiffbuild.sources.lockfile import lock_path

__all__ = ["VARIANTS", "ReproError", "first_error", "sums_of", "repro"]

# "umask", "hostname" and "faketime" are applied around the build, the rest is its
# environment. "faketime": the clock's offset (libfaketime's FAKETIME syntax).
VARIANTS = {
    "a": {"umask": "022", "TZ": "UTC", "LC_ALL": "C", "SKIFFBUILD_DOWNLOAD_JOBS": "4"},
    "b": {"umask": "077", "TZ": "Pacific/Chatham", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
          "SKIFFBUILD_DOWNLOAD_JOBS": "1", "hostname": "skiffbuild-repro-b",
          "faketime": "+373d"},
}
_AROUND = ("umask", "hostname", "faketime")

# libfaketime's clock only: monotonic clocks (timeouts, durations) and stat() stay real,
# so make compares the files' true modification times.
_FAKETIME_ENV = {"FAKETIME_DONT_FAKE_MONOTONIC": "1", "NO_FAKE_STAT": "1"}

# A line that states a cause: a compiler's or tool's "error:", Buildroot's "ERROR:", a
# shell's "cannot …"/"not found", a missing file… make's own "*** … Error N" lines only
# repeat that something below it failed, and come last.
_CAUSE = re.compile(r"\berror\b\s*[:!]|\bfatal\b|: cannot |\bcan't |no such file or directory"
                    r"|command not found|: not found|permission denied|undefined reference"
                    r"|segmentation fault|\bkilled\b|hash mismatch|wrong \w+ hash", re.I)
_MAKE_ERROR = re.compile(r"^g?make(\[\d+\])?: \*\*\* ")
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
_SKIFF_COMPILE = re.compile(r"^error: compile of \S+ failed in (.*?); last lines of the log:")
_LOG_LIMIT = 8 << 20  # the part of a log searched for the cause (its end)


class ReproError(BuildError):
    """A build of the repro failed; ``report`` is the report written for it (verdict
    "error", ``error``: the build, the first error line, the step and the logs)."""

    def __init__(self, message: str, report: dict[str, Any]) -> None:
        super().__init__(message)
        self.report = report


def sums_of(sums: Path) -> dict[str, str]:
    """name -> sha256 of a ``SHA256SUMS`` (image.assemble reads it the one way)."""
    return {name: digest for digest, name in read_sums(sums)}


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
    # The lock too: each build checks its sources against it, as the project's own build
    # does, and its SBOM names the same lock.
    _copy(lock_path(project), lock_path(Project(dest)))
    # Shared, content-verified caches: no network and no re-download.
    _link(project.cache / "git", dest / "cache" / "git")
    _link(project.dl_dir, dest / "cache" / "dl")
    return Project(dest, project.layer_path)


def _read_lines(path: Path) -> list[str]:
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _LOG_LIMIT))
            data = f.read()
    except OSError:
        return []
    return [_ESCAPES.sub("", line).rstrip() for line in
            data.decode("utf-8", "replace").splitlines()]


def first_error(lines: list[str]) -> str | None:
    """The first line that states a cause, else make's first ``***`` line, else None."""
    for line in lines:
        if _CAUSE.search(line) and not _MAKE_ERROR.match(line):
            return line.strip()
    for line in lines:
        if _MAKE_ERROR.match(line):
            return line.strip()
    return None


def _failure(build_log: Path, compile_log: Path) -> dict[str, str | None]:
    """The cause of a failed build: in the compile log's last make run when the compile
    failed (its step too), else in the build's own log."""
    lines = _read_lines(build_log)
    step = None
    for line in lines:
        if match := _SKIFF_COMPILE.match(line):
            step = match.group(1)
            break
    cause = None
    if step is not None:
        made = _read_lines(compile_log)
        starts = [i for i, line in enumerate(made) if line.startswith("$ make ")]
        cause = first_error(made[starts[-1] if starts else 0:])
    if cause is None:
        # skiffbuild's own message: the first "error:" line doit printed.
        cause = next((line for line in lines if line.startswith("error: ")), None)
        cause = cause or first_error(lines)
        cause = cause or next((line for line in reversed(lines) if line.strip()), None)
    return {"cause": cause, "step": step}


def _build(copy: Project, ws: str, variant: dict[str, str], log: Path) -> dict[str, Any]:
    """Run the build; return what of the variant was applied (a failure raises
    BuildError, which the caller turns into a ReproError)."""
    extra = {k: v for k, v in variant.items() if k not in _AROUND}
    extra[ENV_PROJECT] = str(copy.root)
    argv = [sys.executable, "-m", "doit", "-f", str(copy.root / "dodo.py"), "--dir",
            str(copy.root), f"image:{ws}"]
    applied: dict[str, Any] = dict(variant)
    if "faketime" in variant:
        if shutil.which("faketime"):
            argv = ["faketime", "-m", "-f", variant["faketime"], *argv]
            extra.update(_FAKETIME_ENV)
        else:
            applied["faketime"] = None
            applied["not_applied"] = ["faketime: not installed (Debian package faketime)"]
    if "hostname" in variant:
        if os.geteuid() == 0 and shutil.which("unshare"):
            argv = ["unshare", "--uts", "sh", "-c",
                    f'hostname {variant["hostname"]} && exec "$@"', "sh", *argv]
        else:
            applied["hostname"] = None
            applied.setdefault("not_applied", []).append("hostname: needs root and unshare")
    # Never the shared stage cache: both builds must really build.
    status = call(argv, extra_env=extra, unset=("LC_*", "LANG*", "TZ*", "SKIFFBUILD_CACHE_*"),
                  umask=int(variant["umask"], 8), output=log, what=f"repro: build of {ws}")
    if status != 0:
        raise BuildError(f"repro: build of {ws} in {copy.root} failed:\n{quote(tail(log, 15))}"
                         f"\n  log: {log}")
    return applied


def _commit(project: Project) -> str | None:
    """The project's own commit (with ``-dirty`` when its files were changed), if any."""
    try:
        head = git(project.root, "rev-parse", "--verify", "-q", "HEAD", check=False)
        if not head.ok:
            return None
        dirty = git(project.root, "status", "--porcelain", "--untracked-files=no", check=False)
    except BuildError:  # no git
        return None
    return head.out.strip() + ("-dirty" if dirty.ok and dirty.out.strip() else "")


def _pin(project: Project, ws: str) -> dict[str, Any] | None:
    try:
        from skiffbuild.buildroot.checkout import patch_digest
        from skiffbuild.model.plan import load_plan

        pin = load_plan(project, [ws]).workspaces[ws].pin
        return {"url": pin.url, "commit": pin.commit, "tag": pin.tag,
                "patch_digest": patch_digest(pin)}
    except (SkiffError, KeyError, OSError):
        return None


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
        page = report_dir / f"diffoscope-{name}.html"
        capture(["diffoscope", "--text", out, "--html", page, a, b])
        found.append({"partition": name, "path": None, "kind": "diffoscope",
                      "detail": str(out), "html": str(page) if page.is_file() else None})
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
    """Returns (identical, report). The report is also written as JSON; a failed build
    raises ReproError after writing it."""
    base = project.cache / "repro" / ws
    report_dir = project.workspace(ws).repro
    report_dir.mkdir(parents=True, exist_ok=True)
    for old in report_dir.glob("diffoscope-*"):
        old.unlink()
    published: dict[str, str] | None = None
    if against is not None:
        try:
            published = sums_of(against)
        except OSError as exc:
            raise SkiffError(f"cannot read {against}: {exc.strerror}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise SkiffError(str(exc).splitlines()[0][:300]) from None
    names = ["a"] if published is not None else ["a", "b"]
    report: dict[str, Any] = {
        "workspace": ws, "verdict": None, "against": str(against) if against else None,
        "commit": _commit(project), "pin": _pin(project, ws),
        "variants": {n: VARIANTS[n] for n in names}, "builds": {}, "artifacts": [],
        "differences": [], "error": None}
    sums: dict[str, dict[str, str]] = {}
    for name in names:
        copy = _copy_project(project, base / name)
        log = report_dir / f"build-{name}.log"
        compile_log = copy.workspace(ws).logs / "compile.log"
        started = time.monotonic()
        echo(f"repro:{ws}: build {name} in {copy.root} ({VARIANTS[name]})")
        build: dict[str, Any] = {"root": str(copy.root), "log": str(log),
                                 "compile_log": str(compile_log)}
        report["builds"][name] = build
        try:
            build["variant"] = _build(copy, ws, VARIANTS[name], log)
        except BuildError as exc:
            build["seconds"] = round(time.monotonic() - started, 1)
            report["verdict"] = "error"
            report["error"] = {"build": name, **_failure(log, compile_log),
                               "message": exc.message}
            atomic_write(report_dir / "report.json", json.dumps(report, indent=1) + "\n")
            echo(f"repro:{ws}: build {name} failed: {report['error']['cause']}")
            raise ReproError(exc.message, report) from None
        build["seconds"] = round(time.monotonic() - started, 1)
        echo(f"repro:{ws}: build {name} done in {build['seconds']:.0f}s")
        sums[name] = sums_of(copy.workspace(ws).sums)
        if published is None:
            # The SBOM and the provenance statement must come out byte for byte too.
            for record in (SBOM_FILE, PROVENANCE_FILE):
                path = copy.workspace(ws).image_dir / record
                sums[name][record] = sha256_file(path) if path.is_file() else "missing"
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
    report.update({"verdict": "identical" if identical else "different",
                   "artifacts": artifacts, "differences": differences})
    atomic_write(report_dir / "report.json", json.dumps(report, indent=1) + "\n")
    echo(f"repro:{ws}: {report['verdict']}")
    for diff in differences:
        where = f"{diff['partition']}: {diff['path']}" if diff["path"] else diff["partition"]
        echo(f"  {where}: {diff['kind']} ({diff['detail']})")
    for note in report["builds"].get("b", {}).get("variant", {}).get("not_applied", []):
        echo(f"repro:{ws}: warning: build b did not vary {note}")
    echo(f"repro:{ws}: report {report_dir / 'report.json'}")
    return identical, report
