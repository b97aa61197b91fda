"""``skiffbuild pin``: move a Buildroot pin to a tag or commit.

The ref is resolved in the same bare mirror ``checkout`` uses (all heads and
tags fetched through the mirror map), the patch series is checked against the
new commit in a scratch checkout, and only then are the ``commit:`` and
``tag:`` lines of ``manifests/<pin>.yaml`` rewritten. Everything else in the
file (comments, key order, other lines) stays byte-identical.
"""

from __future__ import annotations

import difflib
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.checkout import fetch_refs, git_in, run_git, short_error
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.core.errors import ProblemsError, SkiffError, closest
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.model.manifest import DEFAULT_PIN, load_document, patch_series

__all__ = ["PinChange", "buildroot_version", "near_tags", "pin", "rewrite_pin_text"]

_HEX_RE = re.compile(r"^[0-9a-fA-F]{4,40}$")
_VERSION_RE = re.compile(r"^export\s+BR2_VERSION\s*:=\s*(\S+)", re.MULTILINE)
# A top-level ``key: value  # comment`` line; the value must be a single scalar.
_LINE_RE = r"^({key}[ \t]*:[ \t]*)([^ \t\r\n#][^\r\n]*?)?([ \t]+#[^\r\n]*)?[ \t]*(\r?\n)?$"
_NEAR_TAGS = 5


@dataclass(frozen=True)
class PinChange:
    """What ``pin`` did (or would have done) to one pin file."""

    manifest: Path
    old_commit: str
    new_commit: str
    old_tag: str | None
    new_tag: str | None
    old_version: str  # Buildroot's BR2_VERSION at the commit, or "unknown"
    new_version: str
    changed: bool  # False when the file already said exactly this


# ------------------------------------------------------------------- mirror


def _refs(mirror: Path, prefix: str) -> dict[str, tuple[str, bool]]:
    """Short ref name -> (the object it peels to, annotated tag?), for ``refs/tags``
    or ``refs/heads``."""
    listed = git_in(mirror, "for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)",
                 prefix)
    out: dict[str, tuple[str, bool]] = {}
    for line in listed.out.splitlines():
        name, obj, peeled = line.split("\0")
        out[name[len(prefix) + 1:]] = (peeled or obj, bool(peeled))
    return out


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(part)) if part.isdigit() else (1, part)
            for part in re.split(r"(\d+)", text) if part]


def near_tags(ref: str, tags: list[str]) -> list[str]:
    """Up to five tags like ``ref``: those sharing its prefix (``ref`` up to its
    last ``.``, ``-``, ``_`` or ``/``), newest first, then the closest by difflib."""
    found: list[str] = []
    cut = max(ref.rfind(c) for c in ".-_/")
    if cut > 0:
        found += sorted((t for t in tags if t.startswith(ref[:cut])), key=_natural,
                        reverse=True)
    found += difflib.get_close_matches(ref, sorted(tags), n=_NEAR_TAGS, cutoff=0.6)
    return list(dict.fromkeys(found))[:_NEAR_TAGS]


def _resolve(mirror: Path, url: str, ref: str, allow_branch: bool, current_tag: str | None,
             mirrors: MirrorMap, cache: Path) -> tuple[str, str | None]:
    """(full commit SHA, tag to record) for ``ref``."""
    tags = _refs(mirror, "refs/tags")
    if ref in tags:
        tagged = git_in(mirror, "rev-parse", "--verify", "--quiet", f"refs/tags/{ref}^{{commit}}")
        if not tagged.ok:
            raise SkiffError(f"tag {ref} of {url} does not point at a commit")
        return tagged.out.strip(), ref
    heads = _refs(mirror, "refs/heads")
    if ref in heads:
        if not allow_branch:
            raise SkiffError(f"'{ref}' is a branch of {url}, not a tag or commit: a branch moves, "
                             "so the pin would not say which Buildroot was tested",
                             hint="pin a release tag (or a commit SHA), or pass --allow-branch "
                             "to pin the branch's current commit")
        sha = heads[ref][0]
    elif _HEX_RE.match(ref):
        if len(ref) == 40 and not checkout.has_object(mirror, ref.lower()):
            # On no branch or tag: ask for it by name, as checkout does.
            checkout.update_mirror(url, mirrors, cache, ref.lower())
        found = git_in(mirror, "rev-parse", "--verify", "--quiet", f"{ref.lower()}^{{commit}}")
        sha = found.out.strip()
        if not found.ok or not sha.startswith(ref.lower()):
            ambiguous = git_in(mirror, "rev-parse", "--verify", f"{ref.lower()}^{{commit}}")
            if "ambiguous" in ambiguous.err:
                raise SkiffError(f"abbreviated commit {ref} is ambiguous in {url}",
                                 hint="give more digits, or the full SHA")
            raise SkiffError(f"no commit {ref} in {url} (after fetching its branches and tags)",
                             hint="a commit on no branch or tag cannot be fetched; check the SHA")
    else:
        near = near_tags(ref, list(tags))
        listed = f"; nearest tags: {', '.join(near)}" if near else ""
        raise SkiffError(f"unknown tag '{ref}' in {url}{listed}",
                         hint="list the tags with: git ls-remote --tags " + url)
    # Several tags at the commit: the current one, else annotated (releases are) first.
    at = sorted((t for t, (c, _) in tags.items() if c == sha),
                key=lambda t: (not tags[t][1], _natural(t)))
    return sha, current_tag if current_tag in at else (at[0] if at else None)


def buildroot_version(mirror: Path, commit: str) -> str:
    """``BR2_VERSION`` from the top Makefile at ``commit``, or "unknown"."""
    shown = git_in(mirror, "show", f"{commit}:Makefile")
    match = _VERSION_RE.search(shown.out) if shown.ok else None
    return match.group(1) if match else "unknown"


# ------------------------------------------------------------------ patches


def _check_patches(mirror: Path, commit: str, patches: tuple[Path, ...], shown: str,
                   project: Project, manifest: str) -> None:
    """Apply the series on a scratch checkout of ``commit``; raise naming the first misfit."""
    if not patches:
        return
    root = project.cache / "buildroot"
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".tmp-pin-", dir=root))
    try:
        cloned = run_git(["clone", "--quiet", "--no-checkout", "--shared", str(mirror), str(work)])
        done = cloned.ok and run_git(["-C", str(work), "checkout", "--quiet", "--detach",
                                   commit]).ok
        if not done:
            raise SkiffError(f"cannot check out {commit} from {mirror}: "
                             f"{short_error(cloned.err)}")
        checkout.apply_series(work, patches, shown,
                              f"refresh the patch against {shown} or drop it from the series; "
                              f"{manifest} was not changed", display=project.display)
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -------------------------------------------------------------- the pin file


def _scalar(value: str) -> str:
    """``value`` as a YAML scalar that loads back as this string (2024.02 is a float)."""
    try:
        plain_ok = yaml.safe_load(f"k: {value}\n") == {"k": value}
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok else json.dumps(value)


def _find(lines: list[str], key: str) -> tuple[int, re.Match[str]] | None:
    pattern = re.compile(_LINE_RE.format(key=re.escape(key)))
    for index, line in enumerate(lines):
        match = pattern.match(line)
        if match:
            return index, match
    return None


def rewrite_pin_text(text: str, commit: str, tag: str | None) -> str:
    """``text`` with its top-level ``commit:`` and ``tag:`` values replaced (``tag:``
    inserted after ``commit:`` if missing, removed when ``tag`` is None); every other
    byte kept."""
    lines = text.splitlines(keepends=True)
    found = _find(lines, "commit")
    if found is None:
        raise SkiffError("the pin file has no top-level `commit: <sha>` line to update",
                         hint="add one (any value), then run skiffbuild pin again")
    index, match = found

    def replaced(m: re.Match[str], value: str) -> str:
        head = m.group(1) if m.group(1).endswith((" ", "\t")) else m.group(1) + " "
        return head + _scalar(value) + (m.group(3) or "") + (m.group(4) or "")

    newline = match.group(4) or ("\r\n" if lines[index].endswith("\r\n") else "\n")
    lines[index] = replaced(match, commit)
    tag_line = _find(lines, "tag")
    if tag_line is not None:
        if tag is None:
            del lines[tag_line[0]]
        else:
            lines[tag_line[0]] = replaced(tag_line[1], tag)
    elif tag is not None:
        if not match.group(4):  # commit: was the last line, without a newline
            lines[index] += newline
        lines.insert(index + 1, f"tag: {_scalar(tag)}{newline if match.group(4) else ''}")
    return "".join(lines)


def _pin_inputs(project: Project, name: str) -> tuple[Path, str, str, str | None,
                                                       tuple[Path, ...]]:
    """(file, url, old commit, old tag, patches); a bad commit or tag value is
    tolerated, since fixing it is what ``skiffbuild pin`` is for."""
    file = project.manifests / f"{name}.yaml"
    if not file.is_file():
        known = [p.stem for p in project.manifests.glob("*.yaml")]
        guess = closest(name, known)
        raise SkiffError(f"no Buildroot pin {project.display(file)}",
                         hint=f"did you mean --pin {guess}?" if guess else None)
    doc, problems = load_document(project, file, "buildroot")
    rest = [p for p in problems if p.key not in ("commit", "tag")]
    if doc is None or rest:
        raise ProblemsError(rest or problems)
    data = doc.data
    if "patches" in data:
        directory = project.root / data["patches"]
        if not directory.is_dir():
            raise SkiffError(str(doc.problem(("patches",),
                                             f"directory {data['patches']} not found")))
        patches = patch_series(directory)
    elif name == DEFAULT_PIN and (project.root / "buildroot" / "patches").is_dir():
        patches = patch_series(project.root / "buildroot" / "patches")
    else:
        patches = ()
    for patch in patches:
        if not patch.is_file():
            raise SkiffError(str(doc.problem(("patches",),
                                             f"series lists missing patch {patch.name}")))
    tag = data.get("tag")
    return (file, data["url"], str(data.get("commit", "")),
            str(tag) if tag is not None else None, patches)


def pin(project: Project, ref: str, *, pin_name: str = DEFAULT_PIN, allow_branch: bool = False,
        echo: Callable[[str], None] = print,
        environ: Mapping[str, str] | None = None) -> PinChange:
    """Point ``manifests/<pin_name>.yaml`` at ``ref`` (a tag, or a full or abbreviated
    commit SHA; a branch only with ``allow_branch``) once its patches apply there.
    ``environ`` is the settings' environment (for ``SKIFFBUILD_MIRRORS``)."""
    file, url, old_commit, old_tag, patches = _pin_inputs(project, pin_name)
    mirrors = MirrorMap.from_env(environ or {})
    mirror = fetch_refs(url, mirrors, project.cache)
    new_commit, new_tag = _resolve(mirror, url, ref.strip(), allow_branch, old_tag, mirrors,
                                   project.cache)
    shown = f"{new_tag} ({new_commit[:12]})" if new_tag else new_commit[:12]
    shown_file = project.display(file)
    _check_patches(mirror, new_commit, patches, shown, project, shown_file)

    raw = file.read_bytes()
    text = raw.decode("utf-8")
    updated = rewrite_pin_text(text, new_commit, new_tag)
    try:
        data = yaml.safe_load(updated)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict) or (data.get("commit"), data.get("tag")) != (new_commit,
                                                                                new_tag):
        raise SkiffError(f"{shown_file}: cannot update its commit/tag lines in place "
                         "(a multi-line or flow-style value?)",
                         hint=f"set `commit: {new_commit}` and `tag:` by hand")
    changed = updated != text
    if changed:
        atomic_write(file, updated.encode("utf-8"), mode=file.stat().st_mode & 0o7777)

    change = PinChange(file, old_commit, new_commit, old_tag, new_tag,
                       buildroot_version(mirror, old_commit)
                       if checkout.SHA_RE.match(old_commit) else "unknown",
                       buildroot_version(mirror, new_commit), changed)
    if not changed:
        echo(f"{shown_file}: already at {shown} (Buildroot {change.new_version}); unchanged")
        return change
    echo(f"{shown_file}:")
    echo(f"  commit     {old_commit or '(none)'} → {new_commit}")
    if old_tag != new_tag:
        echo(f"  tag        {old_tag or '(none)'} → {new_tag or '(none)'}")
    echo(f"  Buildroot  {change.old_version} → {change.new_version}")
    if patches:
        echo(f"  {len(patches)} patch(es) apply cleanly")
    if (project.root / "skiffbuild.lock").is_file() and old_commit != new_commit:
        echo("skiffbuild.lock still records the old commit: build, review, then run "
             "`skiffbuild lock`")
    return change
