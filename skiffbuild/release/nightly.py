"""The nightly reproducibility job: repro for every board, one JSON per night,
and a history rendered as a text table and an HTML page to triage from.

``results/<YYYY-MM-DD>.json`` holds one night: per workspace the verdict, the
project's commit, the Buildroot pin, each build's duration, the digests of
both builds, the differing artifacts and the explained differences, or, when a
build failed, its first error line (the cause) with the step and the message.
The night's evidence is copied beside it, under ``results/<night>/<ws>/``:
the repro report, the build logs (their last 2 MiB), the failed build's
compile log, diffoscope's reports and the image's size record (``size.json``:
``skiffbuild size <ws> --against results/<night>/<ws>`` compares a build with it).
``results/summary.txt`` and
``results/index.html`` show every night kept, newest first: the page has a
trend (each board over the nights), the root filesystem's size over the nights
(what grew, what is over budget), and one row per board per night, a
``<details>`` element that opens (without JavaScript) to the differing files
with links to diffoscope's HTML, the cause of a failure, commit, pin,
digests, durations and links to the logs.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.image.budgets import OVER_BUDGET_FILE
from skiffbuild.release.repro import ReproError

__all__ = ["render", "run_nightly"]

Repro = Callable[..., tuple[bool, dict[str, Any]]]

_LOG_KEEP = 2 << 20  # the end of a log kept with the night


def _keep(source: str | None, dest: Path, results: Path, limit: int | None = None) -> str | None:
    """Copy ``source`` (its last ``limit`` bytes) to ``dest``; the link relative to
    ``results``, or None when there is nothing to copy."""
    if not source or not Path(source).is_file():
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as src, open(dest, "wb") as out:
        size = src.seek(0, os.SEEK_END)
        if limit is not None and size > limit:
            src.seek(size - limit)
            out.write(f"[... the first {size - limit} bytes left out ...]\n".encode())
        else:
            src.seek(0)
        shutil.copyfileobj(src, out)
    return dest.relative_to(results).as_posix()


def _entry(report: dict[str, Any], results: Path, night: str, ws: str) -> dict[str, Any]:
    """One board's night from its repro report, the evidence copied under results/."""
    keep = results / night / ws
    shutil.rmtree(keep, ignore_errors=True)
    links: dict[str, str] = {}
    builds: dict[str, Any] = {}
    for name, build in sorted(report.get("builds", {}).items()):
        builds[name] = {"seconds": build.get("seconds"), "variant": build.get("variant")}
        if link := _keep(build.get("log"), keep / f"build-{name}.log", results, _LOG_KEEP):
            links[f"build {name} log"] = link
    error = report.get("error")
    if error:
        failed = report.get("builds", {}).get(error.get("build"), {})
        if link := _keep(failed.get("compile_log"), keep / f"compile-{error['build']}.log",
                         results, _LOG_KEEP):
            links[f"build {error['build']} compile log"] = link
    differences = []
    for diff in report.get("differences", []):
        diff = dict(diff)
        if diff.get("kind") == "diffoscope":
            part = diff["partition"]
            if link := _keep(diff.get("html"), keep / f"diffoscope-{part}.html", results):
                diff["html"] = links[f"diffoscope {part} (HTML)"] = link
            if link := _keep(diff.get("detail"), keep / f"diffoscope-{part}.txt", results):
                diff["detail"] = links[f"diffoscope {part} (text)"] = link
        differences.append(diff)
    entry: dict[str, Any] = {
        "verdict": report.get("verdict") or "error",
        "commit": report.get("commit"),
        "pin": report.get("pin"),
        "builds": builds,
        "seconds": round(sum(b["seconds"] or 0 for b in builds.values()), 1),
        "artifacts": [a["name"] for a in report.get("artifacts", []) if not a["same"]],
        "digests": report.get("artifacts", []),
        "differences": differences,
        "links": links,
    }
    if error:
        entry["error"] = error.get("cause") or error.get("message", "").split("\n")[0]
        entry["failure"] = {k: error.get(k) for k in ("build", "step", "message")}
    atomic_write(keep / "report.json", json.dumps(report, indent=1) + "\n")
    links["repro report"] = (keep / "report.json").relative_to(results).as_posix()
    sizes = _sizes(report, ws)
    if sizes is not None:
        # Kept whole: `skiffbuild size <ws> --against results/<night>/<ws>` compares with it.
        atomic_write(keep / "size.json", json.dumps(sizes, indent=1) + "\n")
        links["size record"] = (keep / "size.json").relative_to(results).as_posix()
        rootfs = sizes.get("rootfs") or {}
        entry["sizes"] = {
            "disk": sizes["disk"]["bytes"], "rootfs": rootfs.get("bytes"),
            "packages": {p["name"]: p["bytes"] for p in rootfs.get("packages", [])},
            "over_budget": [b["item"] for b in sizes.get("budgets", []) if b.get("over")]}
    return entry


def _sizes(report: dict[str, Any], ws: str) -> dict[str, Any] | None:
    """Build a's image/size.json (what image:<ws> recorded), if it has one."""
    root = report.get("builds", {}).get("a", {}).get("root")
    if not root:
        return None
    workspace = Path(root) / "workspaces" / ws
    # A build whose image was over budget published none: its sizes are in its logs.
    for record in (workspace / "image" / "size.json", workspace / "logs" / OVER_BUDGET_FILE):
        try:
            sizes = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(sizes, dict) and isinstance(sizes.get("disk"), dict):
            return sizes
    return None


def run_nightly(project: Project, results: Path, workspaces: list[str], repro: Repro,
                date: str | None = None, echo: Callable[[str], None] = print) -> dict[str, Any]:
    night = date or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    record: dict[str, Any] = {"date": night, "boards": {}}
    results.mkdir(parents=True, exist_ok=True)
    for ws in workspaces:
        try:
            _identical, report = repro(project, ws, echo=echo)
        except ReproError as exc:
            report = exc.report
        except SkiffError as exc:
            record["boards"][ws] = {"verdict": "error", "error": exc.message.split("\n")[0],
                                    "failure": {"message": exc.message}}
            continue
        record["boards"][ws] = _entry(report, results, night, ws)
    atomic_write(results / f"{night}.json", json.dumps(record, indent=1, sort_keys=True) + "\n")
    render(results)
    return record


def _nights(results: Path) -> list[dict[str, Any]]:
    nights = []
    for file in sorted(results.glob("*-*-*.json"), reverse=True):
        try:
            night = json.loads(file.read_text())
        except ValueError:
            continue
        if isinstance(night, dict) and isinstance(night.get("boards"), dict):
            nights.append(night)
    return nights


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    if entry["verdict"] == "different":
        return f"DIFFERENT ({len(entry.get('differences', []))})"
    return str(entry["verdict"])


def _text(nights: list[dict[str, Any]], boards: list[str]) -> str:
    widths = [10, *[max(len(b), 14) for b in boards]]
    rows = [["night", *boards]] + [[n["date"], *[_cell(n["boards"].get(b)) for b in boards]]
                                   for n in nights]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows) + "\n"
    if nights:
        latest = nights[0]
        for board in boards:
            entry = latest["boards"].get(board)
            if entry and entry["verdict"] == "error":
                text += f"{latest['date']} {board}: error: {entry.get('error')}\n"
            elif entry and entry["verdict"] == "different":
                files = sorted({f"{d['partition']}: {d['path']}"
                                for d in entry.get("differences", []) if d.get("path")})
                text += f"{latest['date']} {board}: different: {', '.join(files) or '?'}\n"
    return text


# ------------------------------------------------------------------------ HTML


def _e(value: object) -> str:
    return html.escape(str(value))


_MARK = {"identical": "✓", "different": "✗", "error": "!"}

_STYLE = """
body { font-family: sans-serif; margin: 1em 2em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
td.identical, .identical > summary .verdict { background: #cfc; }
td.different, .different > summary .verdict { background: #f99; }
td.error, .error > summary .verdict { background: #fc9; }
td.missing { background: #eee; }
details.board { border: 1px solid #ccc; margin: 2px 0; padding: 2px 6px; }
details.board > summary { cursor: pointer; }
summary .verdict { padding: 0 4px; font-weight: bold; }
.cause { font-family: monospace; color: #900; }
code, pre { font-size: 90%; }
td code { word-break: break-all; }
pre { background: #f6f6f6; padding: 4px; overflow-x: auto; }
"""


def _duration(seconds: object) -> str:
    if not isinstance(seconds, int | float):
        return "?"
    whole = round(seconds)
    return f"{whole // 60}m{whole % 60:02d}s" if whole >= 60 else f"{whole}s"


def _verdict_text(entry: dict[str, Any]) -> str:
    verdict = entry["verdict"]
    if verdict == "different":
        files = {(d["partition"], d["path"]) for d in entry.get("differences", [])
                 if d.get("path")}
        parts = len(entry.get("artifacts", []))
        return (f"DIFFERENT: {len(files)} file{'s' * (len(files) != 1)} in {parts} "
                f"artifact{'s' * (parts != 1)}")
    return "ERROR" if verdict == "error" else str(verdict)


def _trend(nights: list[dict[str, Any]], boards: list[str]) -> str:
    oldest_first = list(reversed(nights))
    head = "".join(f"<th>{_e(n['date'][5:])}</th>" for n in oldest_first)
    rows = []
    for board in boards:
        cells = []
        identical = 0
        built = 0
        for night in oldest_first:
            entry = night["boards"].get(board)
            if entry is None:
                cells.append('<td class="missing" title="not built">-</td>')
                continue
            built += 1
            identical += entry["verdict"] == "identical"
            cells.append(f'<td class="{_e(entry["verdict"])}" title="{_e(night["date"])}: '
                         f'{_e(_verdict_text(entry))}"><a href="#{_e(night["date"])}-'
                         f'{_e(board)}">{_MARK.get(entry["verdict"], "?")}</a></td>')
        rows.append(f'<tr class="trend-row" data-board="{_e(board)}"><th>{_e(board)}</th>'
                    f'{"".join(cells)}<td class="rate">{identical} of {built} identical</td>'
                    "</tr>")
    totals = []
    for night in oldest_first:
        entries = list(night["boards"].values())
        same = sum(e["verdict"] == "identical" for e in entries)
        totals.append(f"<td>{same}/{len(entries)}</td>")
    return ('<section id="trend"><h2>Trend (oldest to newest)</h2>\n<table class="trend">'
            f"<tr><th>board</th>{head}<th>identical</th></tr>\n" + "\n".join(rows) +
            f'\n<tr class="totals"><th>identical boards</th>{"".join(totals)}<td></td></tr>'
            "\n</table>\n<p>✓ identical, ✗ different, ! build failed, - not built.</p>"
            "</section>\n")


def _mib(count: int) -> str:
    return f"{count / (1 << 20):.2f}"


def _size_trend(nights: list[dict[str, Any]], boards: list[str]) -> str:
    """Each board's root filesystem (and disk) per night, with the change from the night
    before and, in the cell's title, the packages that grew most."""
    oldest_first = list(reversed(nights))
    if not any("sizes" in e for n in nights for e in n["boards"].values()):
        return ""
    head = "".join(f"<th>{_e(n['date'][5:])}</th>" for n in oldest_first)
    rows = []
    for board in boards:
        cells, before = [], None
        for night in oldest_first:
            sizes = (night["boards"].get(board) or {}).get("sizes")
            if not sizes or sizes.get("rootfs") is None:
                cells.append('<td class="missing">-</td>')
                continue
            text, title = f"{_mib(sizes['rootfs'])}", f"disk {_mib(sizes['disk'])} MiB"
            if before is not None:
                delta = sizes["rootfs"] - before["rootfs"]
                text += f" ({'+' if delta >= 0 else ''}{_mib(delta)})" if delta else ""
                grown = sorted(((n, b - before["packages"].get(n, 0))
                                for n, b in sizes["packages"].items()),
                               key=lambda g: (-g[1], g[0]))
                grown = [(n, d) for n, d in grown if d > 0][:3]
                if grown:
                    title += "; grew: " + ", ".join(f"{n} +{_mib(d)} MiB" for n, d in grown)
            over = sizes.get("over_budget") or []
            if over:
                title += "; OVER BUDGET: " + ", ".join(over)
            cls = "error" if over else "size"
            cells.append(f'<td class="{cls}" title="{_e(title)}">{_e(text)}</td>')
            before = sizes
        rows.append(f'<tr class="size-row" data-board="{_e(board)}"><th>{_e(board)}</th>'
                    f'{"".join(cells)}</tr>')
    return ('<section id="sizes"><h2>Root filesystem size, MiB (oldest to newest)</h2>\n'
            f'<table class="sizes"><tr><th>board</th>{head}</tr>\n' + "\n".join(rows) +
            "\n</table>\n<p>In brackets: the change from the night before; hover a cell for "
            "the disk size and the packages that grew. Orange: over a budget.</p></section>\n")


def _pin_text(pin: dict[str, Any] | None) -> str:
    if not pin:
        return "unknown"
    text = f"<code>{_e(pin.get('commit'))}</code>"
    if pin.get("tag"):
        text = f"{_e(pin['tag'])} ({text})"
    if pin.get("patch_digest"):
        text += f", patches <code>{_e(str(pin['patch_digest'])[:16])}</code>"
    return text


def _board(night: str, board: str, entry: dict[str, Any], open_: bool) -> str:
    verdict = str(entry["verdict"])
    builds = entry.get("builds") or {}
    times = ", ".join(f"{_e(n)} {_duration(b.get('seconds'))}" for n, b in builds.items())
    summary = (f'<span class="board-name">{_e(board)}</span> '
               f'<span class="verdict">{_e(_verdict_text(entry))}</span>')
    if verdict == "error":
        summary += f' <span class="cause">{_e(entry.get("error"))}</span>'
    if times:
        summary += f' <span class="durations">({times})</span>'
    body = []
    if verdict == "error":
        failure = entry.get("failure") or {}
        body.append(f'<p>First error line (the cause): <code class="cause">'
                    f'{_e(entry.get("error"))}</code></p>')
        if failure.get("build") or failure.get("step"):
            where = f", in {_e(failure['step'])}" if failure.get("step") else ""
            body.append(f"<p>Build {_e(failure.get('build') or '?')} failed{where}.</p>")
        if failure.get("message"):
            body.append(f"<pre class=\"message\">{_e(failure['message'])}</pre>")
    facts = [("commit", f"<code>{_e(entry['commit'])}</code>" if entry.get("commit")
              else "unknown"),
             ("Buildroot pin", _pin_text(entry.get("pin")))]
    for name, build in builds.items():
        variant = build.get("variant") or {}
        shown = ", ".join(f"{_e(k)}={_e(v)}" for k, v in variant.items()
                          if k != "not_applied" and v is not None)
        note = "; not varied: " + "; ".join(map(_e, variant["not_applied"])) \
            if variant.get("not_applied") else ""
        facts.append((f"build {name}", f"{_duration(build.get('seconds'))} ({shown}{note})"))
    body.append("<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>")
    differences = entry.get("differences") or []
    if differences:
        rows = []
        for diff in differences:
            if diff.get("kind") == "diffoscope":
                link = diff.get("html") or diff.get("detail")
                what = (f'<a class="diffoscope" href="{_e(link)}">diffoscope report</a>'
                        if link else "diffoscope")
                rows.append(f"<tr><td>{_e(diff['partition'])}</td><td colspan=\"3\">{what}"
                            "</td></tr>")
                continue
            rows.append(f'<tr class="difference"><td>{_e(diff["partition"])}</td>'
                        f'<td><code>{_e(diff.get("path") or "(whole image)")}</code></td>'
                        f'<td>{_e(diff.get("kind"))}</td><td>{_e(diff.get("detail"))}</td></tr>')
        body.append('<h4>Differing files</h4><table class="differences"><tr><th>partition</th>'
                    "<th>file</th><th>what</th><th>detail</th></tr>" + "".join(rows) +
                    "</table>")
    digests = entry.get("digests") or []
    if digests:
        rows = [f'<tr class="{"same" if a.get("same") else "differs"}"><td>{_e(a["name"])}</td>'
                f'<td><code>{_e(a.get("a") or "-")}</code></td>'
                f'<td><code>{_e(a.get("b") or "-")}</code></td>'
                f'<td>{"same" if a.get("same") else "DIFFERS"}</td></tr>' for a in digests]
        body.append('<h4>Image digests (sha256)</h4><table class="digests"><tr><th>artifact'
                    "</th><th>build a</th><th>build b</th><th></th></tr>" + "".join(rows) +
                    "</table>")
    links = entry.get("links") or {}
    if links:
        body.append('<p class="links">' + " · ".join(
            f'<a href="{_e(href)}">{_e(name)}</a>' for name, href in links.items()) + "</p>")
    return (f'<details class="board {_e(verdict)}" id="{_e(night)}-{_e(board)}" '
            f'data-board="{_e(board)}" data-verdict="{_e(verdict)}"{" open" if open_ else ""}>'
            f"<summary>{summary}</summary>\n" + "\n".join(body) + "\n</details>")


def _page(nights: list[dict[str, Any]], boards: list[str]) -> str:
    sections = []
    for index, night in enumerate(nights):
        rows = [_board(night["date"], board, night["boards"][board],
                       open_=index == 0 and night["boards"][board]["verdict"] != "identical")
                for board in boards if board in night["boards"]]
        sections.append(f'<section class="night" id="night-{_e(night["date"])}">'
                        f'<h2>{_e(night["date"])}</h2>\n' + "\n".join(rows) + "\n</section>")
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>skiffbuild nightly reproducibility</title>"
            f"<style>{_STYLE}</style></head><body>\n"
            "<h1>Nightly reproducibility</h1>\n"
            "<p>Every board is built twice from scratch each night (build b in another "
            "directory, umask, time zone, locale, host name and a year ahead in time) and the "
            "images compared. Open a row for the differing files, the cause of a failure, "
            "commit, pin, digests, durations and logs.</p>\n"
            + _trend(nights, boards) + _size_trend(nights, boards) + "\n".join(sections)
            + "\n</body></html>\n")


def render(results: Path) -> tuple[str, str]:
    """Write summary.txt and index.html from every night's JSON; return both texts."""
    nights = _nights(results)
    boards = sorted({ws for night in nights for ws in night["boards"]})
    text = _text(nights, boards)
    page = _page(nights, boards)
    atomic_write(results / "summary.txt", text)
    atomic_write(results / "index.html", page)
    return text, page
