"""The pinned Buildroot tree: a shared bare mirror, then a patched checkout.

Layout under the cache directory::

    git/<slug>-<sha1>.git          bare mirror of one upstream URL (+ .lock)
    buildroot/<commit12>-<patch12>/ checked-out, patched tree (+ .lock)
    buildroot/.tmp-<key>-XXXX/     a checkout in progress; renamed when complete

A tree appears under its final name only once it is complete and verified
(its stamp is written before the rename), so a killed process leaves at most a
``.tmp-`` directory behind. When the pinned commit is already in the mirror no
network access happens, which is what makes offline rebuilds work.

The tree keeps its own ``.git`` so its HEAD stays verifiable; Buildroot's
``setlocalversion`` therefore describes this repository (never an enclosing
project), with ``-dirty`` when patches were applied. That is intended.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from skiffbuild.buildroot.mirrors import MirrorMap, normalise_url
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write, locked, sha256_file
from skiffbuild.core.runner import Completed, git
from skiffbuild.model.model import BuildrootPin

__all__ = [
    "SHA_RE",
    "STAMP_NAME",
    "apply_series",
    "checkout",
    "fetch_refs",
    "git_in",
    "has_object",
    "locked",
    "mirror_dir",
    "patch_digest",
    "run_git",
    "short_error",
    "stamp_path",
    "tree_dir",
    "tree_key",
    "tree_lock",
    "update_mirror",
]

STAMP_NAME = ".skiffbuild-tree.json"
_STAMP_FORMAT = 1
SHA_RE = re.compile(r"^[0-9a-f]{40}$")
_PIN_HINT = "pin a full commit SHA (skiffbuild pin <tag>)"
# Keeps a fetched pinned commit reachable even if upstream drops its branch.
_PIN_REF = "refs/skiffbuild/pins/"
_FETCH_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
# A shallow source (a CI cache, a `--depth` clone) makes the mirror shallow
# too. Without --update-shallow git rejects every ref whose history ends at a
# shallow root ("shallow roots are not allowed to be updated") and still
# exits 0, leaving a mirror with objects but no tags and a commit whose
# parents it cannot read. Harmless when the source is complete.
_FETCH = ("fetch", "--force", "--quiet", "--update-shallow")

# --------------------------------------------------------------------- names


def patch_digest(pin: BuildrootPin) -> str:
    """sha256 over the patch series: each patch's file name and content, in order.

    Names, not paths, so moving the project does not invalidate the tree. The
    byte format matches ``fsutil.digest_files``, so an empty series digests to
    ``digest_files([])``.
    """
    h = hashlib.sha256()
    for patch in pin.patches:
        try:
            content = sha256_file(patch)
        except OSError as exc:
            raise SkiffError(
                f"{pin.manifest}: Buildroot patch {patch} cannot be read: {exc.strerror}"
            ) from None
        h.update(patch.name.encode() + b"\0")
        h.update(bytes.fromhex(content))
        h.update(b"\0")
    return h.hexdigest()


def tree_key(pin: BuildrootPin) -> str:
    return f"{pin.commit[:12]}-{patch_digest(pin)[:12]}"


def _slug(url: str) -> str:
    text = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", url)
    text = re.sub(r"^[^/@]*@", "", text)  # user names (and scp-style git@)
    text = re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-.")
    # The tail (the repository name) is the informative part of a long URL.
    return text[-48:].strip("-.") or "repo"


def mirror_dir(cache: Path, url: str) -> Path:
    norm = normalise_url(url)
    digest = hashlib.sha1(norm.encode()).hexdigest()[:10]
    return cache / "git" / f"{_slug(norm)}-{digest}.git"


def tree_dir(cache: Path, pin: BuildrootPin) -> Path:
    return cache / "buildroot" / tree_key(pin)


def stamp_path(cache: Path, pin: BuildrootPin) -> Path:
    return tree_dir(cache, pin) / STAMP_NAME


def tree_lock(cache: Path, key: str) -> Path:
    """The lock of tree ``key``: held exclusively while it is checked out (here) or
    removed (``treecache.collect_unused``), shared while a build uses it (``treecache.using``)."""
    return cache / "buildroot" / f"{key}.lock"


# ----------------------------------------------------------------- plumbing


def run_git(args: Sequence[str], *, network: bool = False) -> Completed:
    """git in the runner's clean environment: local operations (clone from the mirror,
    checkout, apply) read no user config, network fetches keep it (credentials,
    proxies, insteadOf) but never prompt for a password."""
    # No working directory: every call names its repository with -C or
    # --git-dir, so a broken cache can never make git find the project's repo.
    return git(None, *args, network=network, check=False)


def git_in(repo: Path, *args: str, network: bool = False) -> Completed:
    """git on a bare repository (the mirror), named explicitly."""
    return run_git(["--git-dir", str(repo), *args], network=network)


def short_error(err: str) -> str:
    """The line of git's stderr that says what went wrong, without the noise."""
    lines = [line.strip() for line in err.splitlines() if line.strip()]
    picked = [ln for ln in lines if ln.startswith(("fatal:", "error:"))] or lines[-1:]
    text = "; ".join(picked) or "git failed without a message"
    return text if len(text) <= 300 else text[:297] + "..."



def _require_full_sha(commit: str, where: str) -> None:
    if not SHA_RE.match(commit):
        raise SkiffError(f"{where}: commit {commit!r} is not a full 40-hex commit SHA", _PIN_HINT)


def _unreachable(what: str, failures: list[str], mirrors: MirrorMap, check: str) -> SkiffError:
    """Every candidate of the mirror map failed: say what each one answered."""
    return SkiffError(f"{what}; tried:\n" + "\n".join(failures),
                      hint=f"{check}, or add a reachable copy to the mirror map "
                           f"({mirrors.source or '$SKIFFBUILD_MIRRORS'})")


def has_object(mirror: Path, sha: str) -> bool:
    return git_in(mirror, "cat-file", "-e", sha).ok


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------- mirror


def _init_mirror(mirror: Path) -> None:
    """Create an empty bare repository at ``mirror``, atomically."""
    mirror.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{mirror.name}-", dir=mirror.parent))
    try:
        made = run_git(["init", "--quiet", "--bare", str(tmp)])
        if not made.ok:
            raise BuildError(f"cannot create git mirror {mirror}: {short_error(made.err)}")
        os.rename(tmp, mirror)
    except BaseException:
        _remove_tree(tmp)
        raise


def _mirror_is_valid(mirror: Path) -> bool:
    result = git_in(mirror, "rev-parse", "--is-bare-repository")
    return result.ok and result.out.strip() == "true"


def _open_mirror(mirror: Path) -> None:
    """Create the bare mirror if needed (call with its lock held)."""
    if mirror.exists() and not _mirror_is_valid(mirror):
        # Only damage from outside can cause this (we create it atomically).
        _remove_tree(mirror)
    if not mirror.exists():
        _init_mirror(mirror)


def update_mirror(url: str, mirrors: MirrorMap, cache: Path, commit: str) -> Path:
    """Make the bare mirror of ``url`` hold ``commit``; return the mirror's path.

    Tries ``mirrors.candidates(url)`` in order and stops at the first that
    provides the commit. Touches no network when the commit is already there.
    """
    _require_full_sha(commit, url)
    mirror = mirror_dir(cache, url)
    with locked(mirror.with_name(mirror.name + ".lock")):
        _open_mirror(mirror)
        if has_object(mirror, commit):
            _keep_pinned(mirror, commit)
            return mirror

        failures: list[str] = []
        for candidate in mirrors.candidates(url):
            fetched = git_in(mirror, *_FETCH, candidate, *_FETCH_REFSPECS, network=True)
            if not fetched.ok:
                failures.append(f"  {candidate}: {short_error(fetched.err)}")
                continue
            if not has_object(mirror, commit):
                # Not on any branch or tag: ask for it by name, which servers
                # that allow fetching any reachable SHA will honour.
                git_in(mirror, *_FETCH, candidate, commit, network=True)
            if has_object(mirror, commit):
                _keep_pinned(mirror, commit)
                return mirror
            failures.append(f"  {candidate}: fetched, but it has no commit {commit}")

    raise _unreachable(f"cannot get commit {commit} of {url}", failures, mirrors,
                       "check the pinned commit")


def _keep_pinned(mirror: Path, commit: str) -> None:
    git_in(mirror, "update-ref", _PIN_REF + commit, commit)


# ----------------------------------------------------------------- checkout


def _stamp_matches(stamp: Path, pin: BuildrootPin, digest: str) -> bool:
    try:
        data = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(data, dict)
        and data.get("format") == _STAMP_FORMAT
        and data.get("commit") == pin.commit
        and data.get("patch_digest") == digest
    )


def _stamp_text(pin: BuildrootPin, digest: str) -> str:
    data = {
        "format": _STAMP_FORMAT,
        "commit": pin.commit,
        "tag": pin.tag,
        "url": pin.url,
        "patch_digest": digest,
        "patches": [p.name for p in pin.patches],
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _check_tag(mirror: Path, pin: BuildrootPin, log: Callable[[str], None]) -> None:
    if not pin.tag:
        return
    found = git_in(mirror, "rev-parse", "--verify", "--quiet", f"refs/tags/{pin.tag}^{{commit}}")
    if not found.ok:
        log(f"warning: tag {pin.tag} is not in {pin.url}; the pin stays at {pin.commit}")
    elif found.out.strip() != pin.commit:
        log(
            f"warning: tag {pin.tag} now points to {found.out.strip()}; "
            f"the pin stays at {pin.commit}"
        )


_FAILED_FILE_RES = (
    re.compile(r"^error: patch failed: (.+):\d+$"),
    re.compile(
        r"^error: (.+?): (?:does not exist in index|No such file or directory|"
        r"already exists in (?:index|working directory)|does not match index|wrong type|"
        r"patch does not apply)$"
    ),
)


def _failed_files(err: str) -> list[str]:
    files: list[str] = []
    for line in err.splitlines():
        for pattern in _FAILED_FILE_RES:
            match = pattern.match(line.strip())
            if match and match.group(1) not in files:
                files.append(match.group(1))
                break
    return files


def apply_series(work: Path, patches: Sequence[Path], at: str, hint: str,
                 display: Callable[[Path], str] = str) -> None:
    """Apply ``patches`` in order in the work tree ``work``; the first that fails is
    named with the files it failed on."""
    for patch in patches:
        applied = run_git(["-C", str(work), "apply", "--whitespace=nowarn", str(patch.resolve())])
        if applied.ok:
            continue
        files = _failed_files(applied.err)
        where = f" to {', '.join(files)}" if files else ""
        raise BuildError(
            f"Buildroot patch {display(patch)} does not apply{where} at {at}:\n"
            + "\n".join(f"  {ln}" for ln in applied.err.strip().splitlines()[:20]),
            hint=hint,
        )


def _apply_patches(work: Path, pin: BuildrootPin) -> None:
    apply_series(work, pin.patches, f"commit {pin.commit[:12]}",
                 f"refresh the patch against the pinned commit, or drop it from {pin.manifest}")


def _build_tree(work: Path, mirror: Path, pin: BuildrootPin, digest: str) -> None:
    """Clone, check out, patch and stamp ``work``; raise on any failure."""
    # --local hard-links objects instead of borrowing them (no alternates),
    # so the tree stays valid when renamed or when the mirror is pruned.
    cloned = run_git(["clone", "--quiet", "--no-checkout", "--local", str(mirror), str(work)])
    if not cloned.ok:
        raise BuildError(f"cannot clone {mirror}: {short_error(cloned.err)}")
    done = run_git(["-C", str(work), "checkout", "--quiet", "--detach", pin.commit])
    if not done.ok:
        raise BuildError(f"cannot check out {pin.commit} from {mirror}: {short_error(done.err)}")
    _apply_patches(work, pin)
    head = run_git(["-C", str(work), "rev-parse", "HEAD"])
    if not head.ok or head.out.strip() != pin.commit:
        raise BuildError(
            f"checkout of {pin.url} ended at {head.out.strip() or '?'}, not {pin.commit}"
        )
    # Keep the stamp out of `git status`; Buildroot's version string only
    # looks at tracked changes, but people inspecting the tree do not.
    exclude = work / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    with open(exclude, "a", encoding="utf-8") as handle:
        handle.write(f"/{STAMP_NAME}\n")
    atomic_write(work / STAMP_NAME, _stamp_text(pin, digest))


def _default_log(message: str) -> None:
    print(message, file=sys.stderr)


def checkout(
    pin: BuildrootPin,
    cache: Path,
    mirrors: MirrorMap,
    log: Callable[[str], None] | None = None,
) -> Path:
    """The checked-out, patched tree for ``pin`` under ``cache``; made if needed."""
    log = log or _default_log
    _require_full_sha(pin.commit, str(pin.manifest))
    digest = patch_digest(pin)
    final = tree_dir(cache, pin)
    if _stamp_matches(final / STAMP_NAME, pin, digest):
        return final

    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    with locked(tree_lock(cache, final.name)):
        if _stamp_matches(final / STAMP_NAME, pin, digest):
            return final  # another process finished it while we waited
        mirror = update_mirror(pin.url, mirrors, cache, pin.commit)
        kind = git_in(mirror, "cat-file", "-t", pin.commit)
        if kind.out.strip() != "commit":
            raise SkiffError(
                f"{pin.manifest}: {pin.commit} in {pin.url} is a {kind.out.strip() or 'missing'}"
                " object, not a commit",
                _PIN_HINT,
            )
        _check_tag(mirror, pin, log)

        if final.exists():
            # Damaged or from an older stamp format: move it out of the final
            # name first so no half-deleted tree is ever visible there.
            stale = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-stale-", dir=root))
            os.rename(final, stale / "tree")
            _remove_tree(stale)

        work = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
        try:
            _build_tree(work, mirror, pin, digest)
            try:
                os.rename(work, final)
            except OSError:
                # Someone without our lock (another host on a shared cache)
                # won the race; theirs is as good as ours if it is complete.
                if not _stamp_matches(final / STAMP_NAME, pin, digest):
                    raise
                _remove_tree(work)
        except BaseException:
            _remove_tree(work)
            raise
    return final


def fetch_refs(url: str, mirrors: MirrorMap, cache: Path) -> Path:
    """Refresh every head and tag of ``url`` into its bare mirror (the one
    ``checkout`` uses); the first candidate of the mirror map that answers wins."""
    mirror = mirror_dir(cache, url)
    with locked(mirror.with_name(mirror.name + ".lock")):
        _open_mirror(mirror)
        failures: list[str] = []
        for candidate in mirrors.candidates(url):
            fetched = git_in(mirror, *_FETCH, candidate, *_FETCH_REFSPECS, network=True)
            if fetched.ok:
                return mirror
            failures.append(f"  {candidate}: {short_error(fetched.err)}")
    raise _unreachable(f"cannot fetch the branches and tags of {url}", failures, mirrors,
                       "check the URL")
