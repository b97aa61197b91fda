"""The nightly reproducibility job: repro for every board, one JSON per night,
and a history rendered as a text table and an HTML page.

``results/<YYYY-MM-DD>.json`` holds one night: per workspace the verdict,
the differing artifacts and the explained differences (or the error that
stopped the build). ``results/summary.txt`` and ``results/index.html`` show
every night kept, newest first.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project

__all__ = ["render", "run_nightly"]

Repro = Callable[..., tuple[bool, dict[str, Any]]]


def run_nightly(project: Project, results: Path, workspaces: list[str], repro: Repro,
                date: str | None = None, echo: Callable[[str], None] = print) -> dict[str, Any]:
    night = date or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    record: dict[str, Any] = {"date": night, "boards": {}}
    for ws in workspaces:
        try:
            identical, report = repro(project, ws, echo=echo)
            record["boards"][ws] = {
                "verdict": "identical" if identical else "different",
                "artifacts": [a["name"] for a in report["artifacts"] if not a["same"]],
                "differences": report["differences"],
            }
        except SkiffError as exc:
            record["boards"][ws] = {"verdict": "error", "error": exc.message}
    atomic_write(results / f"{night}.json", json.dumps(record, indent=1, sort_keys=True) + "\n")
    render(results)
    return record


def _nights(results: Path) -> list[dict[str, Any]]:
    nights = []
    for file in sorted(results.glob("*-*-*.json"), reverse=True):
        try:
            nights.append(json.loads(file.read_text()))
        except ValueError:
            continue
    return nights


def _cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "-"
    if entry["verdict"] == "different":
        return f"DIFFERENT ({len(entry.get('differences', []))})"
    return entry["verdict"]


def render(results: Path) -> tuple[str, str]:
    """Write summary.txt and index.html from every night's JSON; return both texts."""
    nights = _nights(results)
    boards = sorted({ws for night in nights for ws in night["boards"]})
    widths = [10, *[max(len(b), 14) for b in boards]]
    rows = [["night", *boards]] + [[n["date"], *[_cell(n["boards"].get(b)) for b in boards]]
                                   for n in nights]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows) + "\n"
    colors = {"identical": "#cfc", "error": "#fc9"}
    cells = []
    for night in nights:
        tds = []
        for board in boards:
            entry = night["boards"].get(board)
            color = colors.get(entry["verdict"], "#f99") if entry else "#eee"
            title = ""
            if entry and entry["verdict"] == "different":
                title = "; ".join(f"{d['partition']}: {d['path']}" for d in entry["differences"])
            elif entry and entry["verdict"] == "error":
                title = entry["error"]
            tds.append(f'<td style="background:{color}" title="{html.escape(title)}">'
                       f"{html.escape(_cell(entry))}</td>")
        cells.append(f"<tr><th>{html.escape(night['date'])}</th>{''.join(tds)}</tr>")
    head = "".join(f"<th>{html.escape(b)}</th>" for b in boards)
    page = ("<!doctype html>\n<html><head><meta charset=\"utf-8\">"
            "<title>skiffbuild nightly reproducibility</title></head><body>\n"
            "<h1>Nightly reproducibility</h1>\n<table border=\"1\" cellpadding=\"4\">\n"
            f"<tr><th>night</th>{head}</tr>\n" + "\n".join(cells) + "\n</table>\n"
            "<p>Each cell: both builds of that night gave identical bytes, or how many "
            "differences were explained (hover for the files).</p>\n</body></html>\n")
    atomic_write(results / "summary.txt", text)
    atomic_write(results / "index.html", page)
    return text, page
