"""The nightly job's bookkeeping: one JSON per night with the evidence kept beside it,
and the rendered history, read back through headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.release.nightly import render, run_nightly
from skiffbuild.release.repro import ReproError

PIN = {"url": "https://gitlab.com/buildroot.org/buildroot.git", "commit": "c0ffee" * 6 + "c0ff",
       "tag": "2026.02.3", "patch_digest": "ab" * 32}
COMMIT = "1234567" + "0" * 33
CAUSE = "cp: cannot stat '/nonexistent/firmware.bin': No such file or directory"


def fake_repro(outcomes: dict[str, object], logs: Path):
    """Stands in for two full builds (the repro itself is tested in test_repro): a
    report as repro writes it, with logs and a diffoscope report on disk."""
    logs.mkdir(parents=True, exist_ok=True)

    def report(ws: str, verdict: str) -> dict[str, Any]:
        builds = {}
        for name, seconds in (("a", 41.2), ("b", 75.0)):
            log = logs / f"{ws}-build-{name}.log"
            log.write_text(f"build {name} of {ws}\n")
            builds[name] = {"seconds": seconds, "log": str(log),
                            "compile_log": str(logs / f"{ws}-compile-{name}.log"),
                            "variant": {"umask": "077", "faketime": "+373d"} if name == "b"
                            else {"umask": "022"}}
        same = verdict == "identical"
        return {"workspace": ws, "verdict": verdict, "commit": COMMIT, "pin": PIN,
                "builds": builds, "error": None, "differences": [],
                "artifacts": [{"name": "partitions/boot.vfat", "a": "1" * 64,
                               "b": "1" * 64 if same else "2" * 64, "same": same},
                              {"name": f"{ws}.img", "a": "3" * 64,
                               "b": "3" * 64 if same else "4" * 64, "same": same}]}

    def repro(project: Project, ws: str, echo=print):
        outcome = outcomes[ws]
        if isinstance(outcome, SkiffError):
            raise outcome
        if outcome == "error":
            failed = report(ws, "error")
            del failed["builds"]["b"]
            (logs / f"{ws}-compile-a.log").write_text(
                f"$ make -C out\n>>> busybox 1.37.0 Building\n{CAUSE}\n"
                "make[1]: *** [Makefile:333: target-finalize] Error 1\n"
                "make: *** [Makefile:15: _all] Error 2\n")
            failed["error"] = {"build": "a", "cause": CAUSE,
                               "step": 'step "Executing post-build script x/post-build.sh"',
                               "message": "repro: build of x failed:\n  | make: *** Error 2"}
            failed["artifacts"] = []
            raise ReproError("repro: build of x failed", failed)
        result = report(ws, outcome)
        if outcome == "different":
            html = logs / f"{ws}-diffoscope-boot.html"
            html.write_text("<html><body><h1>diffoscope</h1>etc/build-year</body></html>\n")
            (logs / f"{ws}-diffoscope-boot.txt").write_text("--- a\n+++ b\n")
            result["differences"] = [
                {"partition": "boot", "path": "rootfs.cpio.gz:etc/build-year",
                 "kind": "content", "detail": "sha256 a vs b"},
                {"partition": "boot", "path": None, "kind": "diffoscope",
                 "detail": str(logs / f"{ws}-diffoscope-boot.txt"), "html": str(html)}]
        return outcome == "identical", result
    return repro


def three_nights(tmp_path: Path) -> Path:
    project = Project(tmp_path)
    results = tmp_path / "results"
    boards = ["pi4", "qemu-x86_64"]
    for date, outcomes in (("2026-11-19", {"pi4": "identical", "qemu-x86_64": "identical"}),
                           ("2026-11-20", {"pi4": "different",
                                           "qemu-x86_64": SkiffError("no such board")}),
                           ("2026-11-21", {"pi4": "error", "qemu-x86_64": "different"})):
        run_nightly(project, results, boards, fake_repro(outcomes, tmp_path / "logs" / date),
                    date=date, echo=lambda _: None)
    return results


def test_nights_are_kept_with_their_evidence(tmp_path: Path) -> None:
    results = three_nights(tmp_path)
    record = json.loads((results / "2026-11-21.json").read_text())
    error = record["boards"]["pi4"]
    # The stored error is the cause, not make's last words.
    assert error["verdict"] == "error"
    assert error["error"] == CAUSE
    assert error["failure"]["step"] == 'step "Executing post-build script x/post-build.sh"'
    assert error["links"]["build a compile log"] == "2026-11-21/pi4/compile-a.log"
    assert CAUSE in (results / "2026-11-21/pi4/compile-a.log").read_text()
    different = record["boards"]["qemu-x86_64"]
    assert different["verdict"] == "different"
    assert different["commit"] == COMMIT and different["pin"] == PIN
    assert different["builds"]["b"] == {"seconds": 75.0,
                                        "variant": {"umask": "077", "faketime": "+373d"}}
    assert different["seconds"] == 116.2
    assert different["artifacts"] == ["partitions/boot.vfat", "qemu-x86_64.img"]
    assert [(d["a"], d["b"]) for d in different["digests"]] == [
        ("1" * 64, "2" * 64), ("3" * 64, "4" * 64)]
    assert different["links"] == {
        "build a log": "2026-11-21/qemu-x86_64/build-a.log",
        "build b log": "2026-11-21/qemu-x86_64/build-b.log",
        "diffoscope boot (HTML)": "2026-11-21/qemu-x86_64/diffoscope-boot.html",
        "diffoscope boot (text)": "2026-11-21/qemu-x86_64/diffoscope-boot.txt",
        "repro report": "2026-11-21/qemu-x86_64/report.json"}
    for link in different["links"].values():
        assert (results / link).is_file(), link
    assert json.loads((results / "2026-11-21/qemu-x86_64/report.json").read_text())["pin"] == PIN
    # A board that could not even start: its message's first line.
    assert json.loads((results / "2026-11-20.json").read_text())["boards"]["qemu-x86_64"][
        "error"] == "no such board"
    assert (results / "summary.txt").read_text() == (
        "night       pi4             qemu-x86_64\n"
        "2026-11-21  error           DIFFERENT (2)\n"
        "2026-11-20  DIFFERENT (2)   error\n"
        "2026-11-19  identical       identical\n"
        f"2026-11-21 pi4: error: {CAUSE}\n"
        "2026-11-21 qemu-x86_64: different: boot: rootfs.cpio.gz:etc/build-year\n")
    assert render(results)[0] == (results / "summary.txt").read_text()


# ------------------------------------------------------------ the rendered page


BLOCK = frozenset({"td", "th", "tr", "dt", "dd", "p", "pre", "h2", "h4", "table", "dl",
                   "section"})
VOID = frozenset({"meta", "br", "hr", "img", "input", "link", "wbr", "col", "area", "base"})


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        """The text as shown: inline elements run on, cells and blocks are apart."""
        parts = [(f" {c.text()} " if c.tag in BLOCK else c.text())
                 if isinstance(c, Node) else c for c in self.children]
        return " ".join("".join(parts).split())

    def all(self, tag: str, **attrs: str) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and all(
                        value in child.attrs.get(name.rstrip("_"), "").split()
                        for name, value in attrs.items()):
                    found.append(child)
                found += child.all(tag, **attrs)
        return found


class DomReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def chromium_dom(page: Path, profile: Path) -> Node:
    """The page as headless Chromium parsed it (``--dump-dom``)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("headless Chromium is needed (Debian package chromium; scripts/setup)")
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "<details" in proc.stdout, proc.stderr
    reader = DomReader()
    reader.feed(proc.stdout)
    return reader.root


def test_the_page_triages_in_headless_chromium(tmp_path: Path) -> None:
    results = three_nights(tmp_path)
    dom = chromium_dom(results / "index.html", tmp_path / "chromium")
    assert not dom.all("script")  # <details> rows: no JavaScript needed

    # The trend: each board over the nights, oldest first.
    trend = {row.attrs["data-board"]: row for row in dom.all("tr", class_="trend-row")}
    assert [td.text() for td in trend["pi4"].all("td")] == [
        "✓", "✗", "!", "1 of 3 identical"]
    assert [td.attrs["class"] for td in trend["qemu-x86_64"].all("td")][:3] == [
        "identical", "error", "different"]
    assert dom.all("tr", class_="totals")[0].text() == "identical boards 2/2 0/2 0/2"

    # One row per board per night, each opening to its detail.
    rows = {row.attrs["id"]: row for row in dom.all("details", class_="board")}
    assert sorted(rows) == [f"{d}-{b}" for d in ("2026-11-19", "2026-11-20", "2026-11-21")
                            for b in ("pi4", "qemu-x86_64")]
    failed = rows["2026-11-21-pi4"]
    summary = failed.all("summary")[0].text()
    assert summary == f"pi4 ERROR {CAUSE} (a 41s)"
    assert "open" in failed.attrs  # the newest night's problems are open
    assert "open" not in rows["2026-11-20-pi4"].attrs
    assert 'Build a failed, in step "Executing post-build script x/post-build.sh".' \
        in failed.text()
    assert [a.text() for a in failed.all("a")] == [
        "build a compile log", "build a log", "repro report"]

    different = rows["2026-11-21-qemu-x86_64"]
    assert different.all("summary")[0].text() == (
        "qemu-x86_64 DIFFERENT: 1 file in 2 artifacts (a 41s, b 1m15s)")
    facts = dict(zip([dt.text() for dt in different.all("dt")],
                     [dd.text() for dd in different.all("dd")], strict=True))
    assert facts["commit"] == COMMIT
    assert facts["Buildroot pin"] == f"2026.02.3 ({PIN['commit']}), patches {'ab' * 8}"
    assert facts["build b"] == "1m15s (faketime=+373d, umask=077)"
    assert [r.text() for r in different.all("tr", class_="difference")] == [
        "boot rootfs.cpio.gz:etc/build-year content sha256 a vs b"]
    assert [r.text() for r in different.all("tr", class_="differs")] == [
        f"partitions/boot.vfat {'1' * 64} {'2' * 64} DIFFERS",
        f"qemu-x86_64.img {'3' * 64} {'4' * 64} DIFFERS"]
    diffoscope = different.all("a", class_="diffoscope")[0].attrs["href"]
    assert (results / diffoscope).read_text().count("etc/build-year") == 1
    for row in rows.values():  # every link of the page leads to a file kept with the night
        for link in row.all("a"):
            assert (results / link.attrs["href"]).is_file(), link.attrs["href"]
    assert rows["2026-11-19-pi4"].all("summary")[0].text() == "pi4 identical (a 41s, b 1m15s)"


def test_sizes_are_kept_each_night_and_their_trend_shown(tmp_path: Path) -> None:
    """Issue 16: each night keeps build a's size record; the page shows the root
    filesystem's size per night, the change, what grew, and a budget exceeded."""
    project = Project(tmp_path)
    results = tmp_path / "results"
    mib = 1 << 20
    nights = (("2026-11-19", 10 * mib, 2 * mib, False), ("2026-11-20", 10 * mib + mib // 2,
                                                         2 * mib + mib // 2, True))
    for date, rootfs, busybox, over in nights:
        inner = fake_repro({"pi4": "identical"}, tmp_path / "logs" / date)
        root = tmp_path / "builds" / date

        def repro(project: Project, ws: str, echo=print, inner=inner, root=root,
                  rootfs=rootfs, busybox=busybox, over=over):
            same, report = inner(project, ws, echo)
            report["builds"]["a"]["root"] = str(root)
            image = root / "workspaces" / ws / "image"
            image.mkdir(parents=True, exist_ok=True)
            (image / "size.json").write_text(json.dumps({
                "disk": {"file": f"{ws}.img", "bytes": 64 * mib},
                "partitions": [], "budgets": [{"item": "rootfs", "over": over}],
                "rootfs": {"bytes": rootfs, "packages": [
                    {"name": "busybox", "files": 2, "bytes": busybox},
                    {"name": "linux", "files": 9, "bytes": rootfs - busybox}]}}))
            return same, report

        run_nightly(project, results, ["pi4"], repro, date=date, echo=lambda _: None)
    record = json.loads((results / "2026-11-20.json").read_text())["boards"]["pi4"]
    assert record["sizes"] == {"disk": 64 * mib, "rootfs": 10 * mib + mib // 2,
                               "packages": {"busybox": 2 * mib + mib // 2, "linux": 8 * mib},
                               "over_budget": ["rootfs"]}
    assert record["links"]["size record"] == "2026-11-20/pi4/size.json"
    kept = json.loads((results / "2026-11-20/pi4/size.json").read_text())
    assert kept["rootfs"]["bytes"] == 10 * mib + mib // 2
    page = (results / "index.html").read_text()
    row = page.split('<tr class="size-row" data-board="pi4">')[1].split("</tr>")[0]
    assert row == ('<th>pi4</th><td class="size" title="disk 64.00 MiB">10.00</td>'
                   '<td class="error" title="disk 64.00 MiB; grew: busybox +0.50 MiB; '
                   'OVER BUDGET: rootfs">10.50 (+0.50)</td>')
