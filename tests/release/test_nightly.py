"""The nightly job's bookkeeping: one JSON per night and the rendered history."""

from __future__ import annotations

import json
from pathlib import Path

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.release.nightly import render, run_nightly


def fake_repro(outcomes: dict[str, object]):
    """Stands in for two full builds; the repro itself is tested in test_repro."""
    def repro(project: Project, ws: str, echo=print):
        outcome = outcomes[ws]
        if isinstance(outcome, Exception):
            raise outcome
        diffs = [] if outcome else [{"partition": "boot", "path": "rootfs.cpio.gz:etc/x",
                                     "kind": "content", "detail": "sha256 a vs b"}]
        return outcome, {"artifacts": [{"name": "partitions/boot.vfat", "same": outcome}],
                         "differences": diffs}
    return repro


def test_nights_are_kept_and_rendered(tmp_path: Path) -> None:
    project = Project(tmp_path)
    results = tmp_path / "results"
    run_nightly(project, results, ["pi4", "qemu-x86_64"],
                fake_repro({"pi4": True, "qemu-x86_64": True}), date="2026-11-20",
                echo=lambda _: None)
    record = run_nightly(project, results, ["pi4", "qemu-x86_64"],
                         fake_repro({"pi4": SkiffError("build failed"), "qemu-x86_64": False}),
                         date="2026-11-21", echo=lambda _: None)
    assert record["boards"]["qemu-x86_64"]["artifacts"] == ["partitions/boot.vfat"]
    assert json.loads((results / "2026-11-21.json").read_text()) == record
    assert (results / "summary.txt").read_text() == (
        "night       pi4             qemu-x86_64\n"
        "2026-11-21  error           DIFFERENT (1)\n"
        "2026-11-20  identical       identical\n")
    page = (results / "index.html").read_text()
    assert '<td style="background:#f99" title="boot: rootfs.cpio.gz:etc/x">DIFFERENT (1)</td>' \
        in page
    assert '<td style="background:#fc9" title="build failed">error</td>' in page
    assert render(results)[0] == (results / "summary.txt").read_text()
