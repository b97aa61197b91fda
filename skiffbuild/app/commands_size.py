"""``skiffbuild size``: where a built image's bytes go, what grew, and a chart.

The numbers are image:<ws>'s (``image/size.json``: the disk, the partitions, the root
filesystem by package, the budgets) plus each package's compressed size, estimated here
with the root filesystem's compressor. ``--against`` takes another workspace, a
``size.json`` or a directory holding one (a release's image directory, a night the
nightly run kept) and lists what grew. The chart is drawn with matplotlib, as SVG
(or PNG by the file's extension), with no date or random ids in it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from skiffbuild.app.common import project_of
from skiffbuild.buildroot.handedits import parse_dotconfig
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.settings import Settings
from skiffbuild.image.budgets import format_size
from skiffbuild.model.plan import Workspace, load_plan

__all__ = ["cmd_size", "compare", "report_text"]

_TOP = 15


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise SkiffError(f"{path} does not exist", hint="build the image first: "
                         "doit image:<ws> records its sizes there") from None
    except (OSError, ValueError) as exc:
        raise SkiffError(f"{path}: not a size record ({exc})") from None
    if not _is_record(data):
        raise SkiffError(f"{path}: not a size record (image:<ws> writes one as "
                         "image/size.json)")
    return data


def _is_record(data: Any) -> bool:
    """The shape of image/size.json, as far as this command reads it."""
    def sized(item: Any, *keys: str) -> bool:
        return isinstance(item, dict) and all(isinstance(item.get(k), int) for k in keys)

    if not isinstance(data, dict) or not sized(data.get("disk"), "bytes"):
        return False
    parts = data.get("partitions", [])
    if not isinstance(parts, list) or not all(sized(p, "image_bytes") and
                                              isinstance(p.get("name"), str) for p in parts):
        return False
    rootfs = data.get("rootfs")
    if rootfs is None:
        return True
    packages = rootfs.get("packages") if isinstance(rootfs, dict) else None
    return sized(rootfs, "bytes") and isinstance(packages, list) and all(
        sized(p, "bytes", "files") and isinstance(p.get("name"), str) for p in packages)


def _measure(ws: Workspace, compressed: bool) -> dict[str, Any]:
    """size.json of the workspace, with compressed sizes per package added when the
    target directory is still the one the image was made from."""
    from skiffbuild.image import sizes

    record = _read(ws.paths.image_dir / "size.json")
    if not compressed or not record.get("rootfs"):
        return record
    try:
        config = parse_dotconfig(ws.paths.dotconfig.read_text(errors="replace"))
    except OSError:
        config = {}
    method = sizes.rootfs_compression(config)
    overlays = [(la.name, la.root_overlay) for la in ws.chain if la.root_overlay]
    try:
        uses = sizes.rootfs_use(ws.paths.output, overlays, compression=method)
    except (SkiffError, OSError) as exc:
        why = exc.message if isinstance(exc, SkiffError) else str(exc)
        print(f"{ws.name}: compressed sizes left out: {why}", file=sys.stderr)
        return record
    now = [(u.name, u.files, u.bytes) for u in uses]
    then = [(p["name"], p["files"], p["bytes"]) for p in record["rootfs"]["packages"]]
    if now != then:
        print(f"{ws.name}: compressed sizes left out: Buildroot's target directory changed "
              f"since image:{ws.name} (run it again)", file=sys.stderr)
        return record
    record["rootfs"] = {**record["rootfs"], "compression": method,
                       "compressed": sum(u.compressed or 0 for u in uses),
                       "packages": [{"name": u.name, "files": u.files, "bytes": u.bytes,
                                     "compressed": u.compressed} for u in uses]}
    return record


def compare(now: dict[str, Any], before: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(item, before, now) of everything that changed size, the most grown first:
    the disk, each partition, the root filesystem, each package."""
    def items(record: dict[str, Any]) -> dict[str, int]:
        found = {"disk": int(record["disk"]["bytes"])}
        for part in record.get("partitions", []):
            found[f"partition {part['name']}"] = int(part["image_bytes"])
        rootfs = record.get("rootfs") or {}
        if rootfs:
            found["rootfs"] = int(rootfs["bytes"])
        for pkg in rootfs.get("packages", []):
            found[f"package {pkg['name']}"] = int(pkg["bytes"])
        return found

    a, b = items(before), items(now)
    changed = [(name, a.get(name, 0), b.get(name, 0)) for name in sorted(set(a) | set(b))
               if a.get(name, 0) != b.get(name, 0)]
    return sorted(changed, key=lambda c: (-(c[2] - c[1]), c[0]))


def report_text(ws: str, record: dict[str, Any]) -> str:
    lines = [f"{ws}: disk {format_size(record['disk']['bytes'])}"]
    for part in record.get("partitions", []):
        lines.append(f"  partition {part['name']} ({part['filesystem']}): "
                     f"{format_size(part['image_bytes'])}")
    rootfs = record.get("rootfs")
    if rootfs:
        packed = rootfs.get("compressed")
        lines.append(f"root filesystem: {format_size(rootfs['bytes'])}" + (
            f", about {format_size(packed)} compressed (estimated file by file with "
            f"{rootfs['compression']})" if packed is not None else ""))
        rows = [("package", "files", "size", "compressed")] + [
            (p["name"], str(p["files"]), format_size(p["bytes"]),
             format_size(p["compressed"]) if p.get("compressed") is not None else "-")
            for p in rootfs["packages"]]
        width = [max(len(r[i]) for r in rows) for i in range(4)]
        lines += [f"  {r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]:>{width[2]}}  "
                  f"{r[3]:>{width[3]}}" for r in rows]
    else:
        lines.append("root filesystem: Buildroot wrote no packages-file-list.txt")
    for row in record.get("budgets", []):
        lines.append(f"budget {row['item']}: {format_size(row['actual'])} of "
                     f"{format_size(row['limit'])} ({format_size(row['headroom'])} headroom)")
    return "\n".join(lines)


def _grew_text(changes: list[tuple[str, int, int]], against: str) -> str:
    if not changes:
        return f"against {against}: no size changed"
    lines = [f"against {against}:"]
    for name, before, now in changes:
        delta = now - before
        lines.append(f"  {name}: {format_size(before)} -> {format_size(now)} "
                     f"({'+' if delta > 0 else ''}{format_size(delta)})")
    return "\n".join(lines)


def chart(ws: str, record: dict[str, Any], out: Path) -> None:
    """A horizontal bar chart of the largest packages, uncompressed and compressed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matplotlib.rcParams["svg.hashsalt"] = "skiffbuild"  # ids from this, not at random
    packages = (record.get("rootfs") or {}).get("packages", [])[:_TOP]
    names = [p["name"] for p in packages][::-1]
    raw = [p["bytes"] / (1 << 20) for p in packages][::-1]
    packed = [(p.get("compressed") or 0) / (1 << 20) for p in packages][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.4 * max(len(names), 4) + 1.2))
    ys = range(len(names))
    ax.barh([y + 0.2 for y in ys], raw, height=0.4, label="installed", color="#4c72b0")
    if any(packed):
        ax.barh([y - 0.2 for y in ys], packed, height=0.4, label="compressed",
                color="#dd8452")
    ax.set_yticks(list(ys), names)
    ax.set_xlabel("MiB")
    ax.set_title(f"{ws}: root filesystem by package")
    ax.legend(loc="lower right")
    fig.tight_layout()
    tmp = out.with_name(f".{out.name}.tmp")
    kind = out.suffix.lower().lstrip(".")
    metadata = {"Software": None} if kind == "png" else {"Date": None, "Creator": None}
    try:
        fig.savefig(tmp, format=kind, metadata=metadata)
        tmp.replace(out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SkiffError(f"cannot write the chart {out}: {exc.strerror}") from None
    finally:
        plt.close(fig)


def _against(settings: Settings, value: str, current: str) -> dict[str, Any]:
    path = Path(value)
    if path.is_dir():
        return _read(path / "size.json")
    if path.is_file():
        return _read(path)
    project = project_of(settings)
    if value == current:
        raise SkiffError(f"--against {value}: that is the workspace measured",
                         hint="give another workspace, a size.json or a directory holding one")
    if not (project.boards_dir / f"{value}.yaml").is_file():
        raise SkiffError(f"--against {value}: no workspace, size.json or directory holding "
                         "one by that name")
    return _read(project.workspace(value).image_dir / "size.json")


def cmd_size(args: argparse.Namespace, settings: Settings) -> int:
    plan = load_plan(project_of(settings), [args.workspace])
    ws = plan.workspaces[args.workspace]
    record = _measure(ws, compressed=not args.fast)
    out = args.chart or ws.paths.image_dir / "size.svg"
    if out.suffix.lower() not in (".svg", ".png"):
        raise SkiffError(f"--chart {out}: the chart is .svg or .png")
    chart(ws.name, record, out)
    grew = None
    if args.against:
        grew = compare(record, _against(settings, args.against, ws.name))
    if args.json:
        print(json.dumps({**record, "chart": str(out), **({"against": args.against,
              "changes": [{"item": n, "before": b, "now": a} for n, b, a in grew]}
              if grew is not None else {})}, indent=1))
        return 0
    text = report_text(ws.name, record)
    if grew is not None:
        text += "\n" + _grew_text(grew, args.against)
    sys.stdout.write(text + f"\nchart: {plan.project.display(out)}\n")
    atomic_write(ws.paths.image_dir / "size-report.txt", text + "\n")
    return 0
