"""A board's size budgets: measure each limited item, and the table image:<ws> prints.

image:<ws> checks the budgets on the images it has just built under ``.tmp``, before any
of them is published: an image over budget never replaces the last good one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.image import sizes
from skiffbuild.model.model import Board, Budget, Partition
from skiffbuild.model.plan import Workspace

__all__ = ["OVER_BUDGET_FILE", "Measured", "check", "check_images", "format_size", "measure",
           "table"]

_CONTRIBUTORS = 5
# logs/<this>: the sizes of the last image refused for being over budget.
OVER_BUDGET_FILE = "size-over-budget.json"


@dataclass(frozen=True)
class Measured:
    budget: Budget
    actual: int
    # The largest parts of ``actual``: packages, partitions or files, with their bytes.
    contributors: tuple[tuple[str, int], ...] = ()

    @property
    def headroom(self) -> int:
        return self.budget.limit - self.actual

    @property
    def over(self) -> bool:
        return self.actual > self.budget.limit

    def row(self) -> dict[str, object]:
        """Its entry in image/size.json."""
        return {"item": self.budget.label, "limit": self.budget.limit, "actual": self.actual,
                "headroom": self.headroom, "over": self.over,
                "contributors": [list(c) for c in self.contributors]}


def format_size(count: int) -> str:
    """Bytes as MiB with two decimals (KiB under one MiB, bytes under one KiB)."""
    sign, count = ("-", -count) if count < 0 else ("", count)
    if count < 1 << 10:
        return f"{sign}{count} B"
    if count < 1 << 20:
        return f"{sign}{count / 1024:.2f} KiB"
    return f"{sign}{count / (1 << 20):.2f} MiB"


def measure(board: Board, output: Path, disk: Path, built: dict[str, Path],
            staged: dict[str, Path],
            by_package: Callable[[], list[sizes.PackageUse]]) -> list[Measured]:
    """Every budget of ``board``: ``output`` is Buildroot's output directory, ``disk`` the
    disk image, ``built`` each partition's image, ``staged`` the files put into each
    partition (by partition name), ``by_package`` the root filesystem by package."""
    measured: list[Measured] = []
    for budget in board.budgets:
        if budget.kind == "flash":
            parts = [(p.name, built[p.name].stat().st_size) for p in board.image.partitions]
            table_bytes = disk.stat().st_size - sum(size for _n, size in parts)
            measured.append(Measured(budget, disk.stat().st_size, _largest(
                [*parts, ("partition table and alignment", table_bytes)])))
        elif budget.kind == "partition":
            part = board.image.assembled(budget.name or "")
            assert part is not None  # checked when the manifest loaded
            measured.append(_partition(budget, part, built[part.name], staged.get(part.name)))
        elif budget.kind == "rootfs":
            uses = by_package()
            measured.append(Measured(budget, sum(u.bytes for u in uses),
                                     _largest([(u.name, u.bytes) for u in uses])))
        else:
            measured.append(_ram(budget, output, by_package))
    return measured


def _partition(budget: Budget, part: Partition, image: Path, stage: Path | None) -> Measured:
    """A partition of fixed size holds its files; one sized to its contents is its image."""
    files = _files_of(stage) if stage else []
    if part.size is None or stage is None:
        return Measured(budget, image.stat().st_size, _largest(files))
    return Measured(budget, sum(size for _n, size in files), _largest(files))


def _files_of(stage: Path) -> list[tuple[str, int]]:
    found = []
    for dirpath, _dirs, names in os.walk(stage):
        for name in names:
            path = Path(dirpath, name)
            if path.is_file() and not path.is_symlink():
                found.append((str(path.relative_to(stage)), path.stat().st_size))
    return found


def _ram(budget: Budget, output: Path,
         by_package: Callable[[], list[sizes.PackageUse]]) -> Measured:
    path = output / "images" / (budget.name or "")
    if not path.is_file():
        raise BuildError(f"{budget.where}: no file {budget.name} in {path.parent}",
                         hint="a ram: budget names a kernel or initramfs the build makes")
    try:
        use = sizes.ram_use(path)
    except SkiffError as exc:
        raise BuildError(f"{budget.where}: {exc.message}", hint=exc.hint) from None
    if use.what == "initramfs" and (budget.name or "").startswith("rootfs.cpio"):
        # Buildroot's initramfs is the target directory: its packages are what costs.
        contributors = _largest([(u.name, u.bytes) for u in by_package()])
    else:
        contributors = ((f"{use.what} ({use.how})", use.bytes),)
    return Measured(budget, use.bytes, contributors)


def _largest(items: Sequence[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(items, key=lambda i: (-i[1], i[0]))[:_CONTRIBUTORS])


def table(measured: Sequence[Measured]) -> str:
    """The budget table: one row a limit, ``OVER`` and where the limit is set on a row
    over budget, then the largest contributors of each item over budget."""
    rows = [("budget", "limit", "actual", "headroom", "")]
    for m in measured:
        rows.append((m.budget.label, format_size(m.budget.limit), format_size(m.actual),
                     format_size(m.headroom), f"OVER ({m.budget.where})" if m.over else ""))
    width = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [f"{r[0]:<{width[0]}}  {r[1]:>{width[1]}}  {r[2]:>{width[2]}}  "
             f"{r[3]:>{width[3]}}  {r[4]}".rstrip() for r in rows]
    for m in measured:
        if m.over and m.contributors:
            lines.append(f"largest in {m.budget.label}: " + ", ".join(
                f"{name} {format_size(size)}" for name, size in m.contributors))
    return "\n".join(lines)


def check_images(ws: Workspace, built: Sequence[tuple[Partition, Path]], disk: Path,
                 stages: Path, echo: Callable[[str], None]) -> dict[str, object]:
    """image:<ws>'s check of the images it has just built (``stages``: the directory
    of the files staged per partition); the sizes it records (image/size.json)."""
    overlays = [(la.name, la.root_overlay) for la in ws.chain if la.root_overlay]
    staged = {part.name: stages / part.name for part, _image in built
              if (stages / part.name).is_dir()}
    # One walk of the target directory, for the budgets and for size.json.
    try:
        uses: list[sizes.PackageUse] | None = sizes.rootfs_use(ws.paths.output, overlays)
        missing: SkiffError | None = None
    except SkiffError as exc:  # no packages-file-list.txt: no per-package sizes
        uses, missing = None, exc

    def by_package() -> list[sizes.PackageUse]:
        if uses is None:
            assert missing is not None
            raise missing
        return uses

    measured = measure(ws.board, ws.paths.output, disk,
                       {part.name: image for part, image in built}, staged, by_package)
    report = sizes.image_report(disk, built, uses, [m.row() for m in measured])
    # An image over budget is not published, its sizes are: the nightly run shows them.
    refused = ws.paths.logs / OVER_BUDGET_FILE
    if any(m.over for m in measured):
        atomic_write(refused, json.dumps(report, indent=1) + "\n")
    else:
        refused.unlink(missing_ok=True)
    check(ws.name, measured)
    if measured:
        echo(f"image:{ws.name}: within budget\n{table(measured)}")
    return report


def check(ws_name: str, measured: Sequence[Measured]) -> None:
    """A BuildError with the table when anything is over budget."""
    over = [m for m in measured if m.over]
    if over:
        what = ", ".join(f"{m.budget.label} by {format_size(-m.headroom)}" for m in over)
        raise BuildError(f"image:{ws_name}: over budget: {what}\n{table(measured)}",
                         hint="make the image smaller (the largest contributors are listed) "
                              "or raise the budget in the board manifest")
