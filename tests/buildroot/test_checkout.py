from __future__ import annotations

import json
import shutil
import subprocess
import threading
from pathlib import Path

import git as gitpython
import pytest
from gitrepo import commit, diff, git, git_env, make_repo, tag

from skiffbuild.buildroot import checkout as co
from skiffbuild.buildroot.mirrors import MirrorMap, load_mirror_map
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import digest_files
from skiffbuild.model.model import BuildrootPin

MAKEFILE_V1 = "export BR2_VERSION := 2024.02\nall:\n\techo v1\n"
MAKEFILE_V2 = "export BR2_VERSION := 2024.02.1\nall:\n\techo v2\n"


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    # update_mirror deliberately keeps the user's git config for network
    # fetches; the tests must not depend on whoever runs them.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


class Upstream:
    """A tiny Buildroot-like origin repository with a tag and a later commit."""

    def __init__(self, root: Path) -> None:
        self.path = root / "origin" / "buildroot"
        self.v1 = make_repo(
            self.path,
            {"Makefile": MAKEFILE_V1, "package/foo/foo.mk": "FOO_VERSION = 1.0\n"},
            "2024.02",
        )
        tag(self.path, "2024.02", self.v1, message="2024.02")
        self.v2 = commit(
            self.path, {"Makefile": MAKEFILE_V2}, "next", date="2024-02-01T00:00:00+00:00"
        )


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path)


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def make_pin(
    url: str | Path,
    commit_sha: str,
    tag_name: str | None = "2024.02",
    patches: tuple[Path, ...] = (),
    manifest: Path = Path("/project/manifests/buildroot.yaml"),
) -> BuildrootPin:
    return BuildrootPin("buildroot", manifest, str(url), commit_sha, tag_name, patches)


def write_patch(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def head(tree: Path) -> str:
    return gitpython.Repo(tree).head.commit.hexsha


def leftovers(cache: Path) -> list[str]:
    root = cache / "buildroot"
    return (
        sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-"))
        if root.exists()
        else []
    )


# ------------------------------------------------------------------- names


def test_keys_and_paths(tmp_path: Path, cache: Path) -> None:
    sha = "679b9ead7620bbf193620d1ebf56f53c1764d37a"
    pin = make_pin("https://gitlab.com/buildroot.org/buildroot.git", sha)
    empty = digest_files([])
    assert co.patch_digest(pin) == empty
    assert co.tree_key(pin) == f"679b9ead7620-{empty[:12]}"
    assert co.tree_dir(cache, pin) == cache / "buildroot" / co.tree_key(pin)
    assert co.stamp_path(cache, pin) == co.tree_dir(cache, pin) / ".skiffbuild-tree.json"
    mirror = co.mirror_dir(cache, pin.url)
    assert mirror.parent == cache / "git"
    assert mirror.name.startswith("gitlab.com-buildroot.org-buildroot-")
    assert mirror.name.endswith(".git")
    assert co.mirror_dir(cache, "https://gitlab.com/buildroot.org/buildroot/") == mirror
    assert co.mirror_dir(cache, "https://github.com/buildroot/buildroot") != mirror


def test_patch_digest_depends_on_names_contents_and_order(tmp_path: Path) -> None:
    a = write_patch(tmp_path / "p", "0001-a.patch", "A\n")
    b = write_patch(tmp_path / "p", "0002-b.patch", "B\n")
    sha = "0" * 40
    d_ab = co.patch_digest(make_pin("u", sha, patches=(a, b)))
    assert d_ab != co.patch_digest(make_pin("u", sha, patches=(b, a)))
    assert d_ab != co.patch_digest(make_pin("u", sha, patches=(a,)))
    # Moving the project keeps the digest: only names and bytes count.
    moved = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "p", moved)
    pin_moved = make_pin("u", sha, patches=(moved / a.name, moved / b.name))
    assert co.patch_digest(pin_moved) == d_ab
    b.write_text("B changed\n", encoding="utf-8")
    assert co.patch_digest(make_pin("u", sha, patches=(a, b))) != d_ab


# ---------------------------------------------------------------- checkout


def test_fresh_checkout_is_at_the_pinned_commit(upstream: Upstream, cache: Path) -> None:
    pin = make_pin(upstream.path, upstream.v1)
    tree = co.checkout(pin, cache, MirrorMap(), log=[].append)
    assert tree == co.tree_dir(cache, pin)
    assert head(tree) == upstream.v1
    assert (tree / "Makefile").read_text() == MAKEFILE_V1
    assert (tree / "package/foo/foo.mk").read_text() == "FOO_VERSION = 1.0\n"
    stamp = json.loads(co.stamp_path(cache, pin).read_text())
    assert stamp["commit"] == upstream.v1
    assert stamp["tag"] == "2024.02"
    assert stamp["url"] == str(upstream.path)
    assert stamp["patch_digest"] == co.patch_digest(pin)
    assert stamp["patches"] == []
    # The stamp does not show up as a change in the tree.
    assert git(tree, "status", "--porcelain") == ""
    # The mirror holds all branches and tags.
    mirror = co.mirror_dir(cache, pin.url)
    assert git(mirror, "rev-parse", "refs/heads/main") == upstream.v2
    assert git(mirror, "rev-parse", "refs/tags/2024.02^{commit}") == upstream.v1
    assert leftovers(cache) == []


def test_second_call_does_no_git_work_and_works_offline(
    upstream: Upstream, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin = make_pin(upstream.path, upstream.v1)
    tree = co.checkout(pin, cache, MirrorMap(), log=[].append)
    mirror = co.mirror_dir(cache, pin.url)
    before = (mirror.stat().st_mtime_ns, (mirror / "FETCH_HEAD").stat().st_mtime_ns)
    shutil.rmtree(upstream.path)

    def no_git(*args: object, **kwargs: object) -> None:
        raise AssertionError("git was run")

    monkeypatch.setattr(co, "git", no_git)
    monkeypatch.setattr(co, "update_mirror", no_git)
    assert co.checkout(pin, cache, MirrorMap()) == tree
    assert (mirror.stat().st_mtime_ns, (mirror / "FETCH_HEAD").stat().st_mtime_ns) == before


def test_new_tree_from_existing_mirror_needs_no_network(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    co.checkout(make_pin(upstream.path, upstream.v1), cache, MirrorMap(), log=[].append)
    shutil.rmtree(upstream.path)
    # Same commit, different patch series: a new tree, made from the mirror alone.
    patch = write_patch(
        tmp_path / "patches",
        "0001-add.patch",
        "--- /dev/null\n+++ b/NEW\n@@ -0,0 +1 @@\n+new\n",
    )
    pin = make_pin(upstream.path, upstream.v1, patches=(patch,))
    tree = co.checkout(pin, cache, MirrorMap(), log=[].append)
    assert (tree / "NEW").read_text() == "new\n"
    assert head(tree) == upstream.v1


def test_patch_series_is_applied_in_order(upstream: Upstream, cache: Path, tmp_path: Path) -> None:
    # 0002 only applies on top of 0001, so the order is observable.
    scratch = tmp_path / "scratch"
    shutil.copytree(upstream.path, scratch)
    git(scratch, "checkout", "--quiet", upstream.v1)
    c1 = commit(scratch, {"package/foo/foo.mk": "FOO_VERSION = 1.1\n"}, "p1")
    c2 = commit(scratch, {"package/foo/foo.mk": "FOO_VERSION = 1.2\n", "bin.dat": b"\0\1\2"}, "p2")
    patches = tmp_path / "project" / "buildroot" / "patches"
    p1 = write_patch(patches, "0001-foo-1.1.patch", diff(scratch, upstream.v1, c1))
    p2 = write_patch(patches, "0002-foo-1.2.patch", diff(scratch, c1, c2))
    pin = make_pin(upstream.path, upstream.v1, patches=(p1, p2))

    tree = co.checkout(pin, cache, MirrorMap(), log=[].append)
    assert (tree / "package/foo/foo.mk").read_bytes() == b"FOO_VERSION = 1.2\n"
    assert (tree / "bin.dat").read_bytes() == b"\0\1\2"
    assert head(tree) == upstream.v1
    stamp = json.loads(co.stamp_path(cache, pin).read_text())
    assert stamp["patches"] == ["0001-foo-1.1.patch", "0002-foo-1.2.patch"]

    swapped = make_pin(upstream.path, upstream.v1, patches=(p2, p1))
    with pytest.raises(BuildError) as info:
        co.checkout(swapped, cache, MirrorMap(), log=[].append)
    assert "0002-foo-1.2.patch" in info.value.message


def test_failing_patch_names_patch_and_file_and_leaves_nothing(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    good = write_patch(
        tmp_path / "patches",
        "0001-good.patch",
        "--- /dev/null\n+++ b/GOOD\n@@ -0,0 +1 @@\n+good\n",
    )
    bad = write_patch(
        tmp_path / "patches",
        "0002-bad.patch",
        "--- a/package/foo/foo.mk\n+++ b/package/foo/foo.mk\n"
        "@@ -1 +1 @@\n-FOO_VERSION = 9.9\n+FOO_VERSION = 10.0\n"
        "--- a/package/gone/gone.mk\n+++ b/package/gone/gone.mk\n"
        "@@ -1 +1 @@\n-x\n+y\n",
    )
    pin = make_pin(upstream.path, upstream.v1, patches=(good, bad))
    with pytest.raises(BuildError) as info:
        co.checkout(pin, cache, MirrorMap(), log=[].append)
    message = info.value.message
    assert str(bad) in message
    assert "package/foo/foo.mk" in message
    assert "package/gone/gone.mk" in message
    assert not co.tree_dir(cache, pin).exists()
    assert leftovers(cache) == []


def test_moved_tag_does_not_move_the_checkout(upstream: Upstream, cache: Path) -> None:
    pin = make_pin(upstream.path, upstream.v1)
    # Fetch once so the mirror knows the tag at v1.
    co.update_mirror(pin.url, MirrorMap(), cache, upstream.v1)
    tag(upstream.path, "2024.02", upstream.v2, message="moved")
    # The commit is already local, so a plain checkout would not fetch: force
    # a fetch by asking for a commit the mirror lacks.
    v3 = commit(upstream.path, {"README": "3\n"}, "v3", date="2024-03-01T00:00:00+00:00")
    co.update_mirror(pin.url, MirrorMap(), cache, v3)
    mirror = co.mirror_dir(cache, pin.url)
    assert git(mirror, "rev-parse", "refs/tags/2024.02^{commit}") == upstream.v2

    logged: list[str] = []
    tree = co.checkout(pin, cache, MirrorMap(), log=logged.append)
    assert head(tree) == upstream.v1
    assert (tree / "Makefile").read_text() == MAKEFILE_V1
    assert logged == [
        f"warning: tag 2024.02 now points to {upstream.v2}; the pin stays at {upstream.v1}"
    ]


def test_absent_tag_is_only_a_warning(upstream: Upstream, cache: Path) -> None:
    logged: list[str] = []
    pin = make_pin(upstream.path, upstream.v1, tag_name="no-such-tag")
    tree = co.checkout(pin, cache, MirrorMap(), log=logged.append)
    assert head(tree) == upstream.v1
    assert len(logged) == 1 and "no-such-tag" in logged[0]


def test_missing_commit_lists_every_candidate(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    missing = "1234567890abcdef1234567890abcdef12345678"
    nowhere = tmp_path / "nowhere"
    map_file = tmp_path / "mirrors.yaml"
    map_file.write_text(f"{upstream.path}:\n  - {nowhere}\n", encoding="utf-8")
    pin = make_pin(upstream.path, missing)
    with pytest.raises(SkiffError) as info:
        co.checkout(pin, cache, load_mirror_map(map_file), log=[].append)
    message = info.value.message
    assert missing in message
    assert f"{nowhere}: fatal:" in message
    assert f"{upstream.path}: fetched, but it has no commit {missing}" in message
    assert "Traceback" not in message
    assert not co.tree_dir(cache, pin).exists()


@pytest.mark.parametrize("bad", ["main", "2024.02", "679b9ead7620", "A" * 40])
def test_non_sha_commit_is_refused_with_hint(upstream: Upstream, cache: Path, bad: str) -> None:
    with pytest.raises(SkiffError) as info:
        co.checkout(make_pin(upstream.path, bad), cache, MirrorMap(), log=[].append)
    assert bad in info.value.message
    assert info.value.hint == "pin a full commit SHA (skiffbuild pin <tag>)"


def test_sha_of_a_non_commit_is_refused(upstream: Upstream, cache: Path) -> None:
    tree_sha = git(upstream.path, "rev-parse", f"{upstream.v1}^{{tree}}")
    git(upstream.path, "tag", "tree-tag", tree_sha)  # so the fetch brings it along
    with pytest.raises(SkiffError) as info:
        co.checkout(make_pin(upstream.path, tree_sha), cache, MirrorMap(), log=[].append)
    assert "not a commit" in info.value.message
    assert info.value.hint == "pin a full commit SHA (skiffbuild pin <tag>)"


def test_local_alternative_is_used_before_unreachable_upstream(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    url = "https://gitlab.invalid/buildroot.org/buildroot.git"
    map_file = tmp_path / "conf" / "mirrors.yaml"
    map_file.parent.mkdir()
    # Relative to the map file, and written without ".git" / with a slash.
    map_file.write_text(
        "https://gitlab.invalid/buildroot.org/buildroot/:\n  - ../origin/buildroot\n",
        encoding="utf-8",
    )
    mirrors = load_mirror_map(map_file)
    tree = co.checkout(make_pin(url, upstream.v1), cache, mirrors, log=[].append)
    assert head(tree) == upstream.v1
    assert co.mirror_dir(cache, url).exists()


def test_alternative_lacking_the_commit_falls_through(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    # A stale mirror that only has v1; the pin wants v2.
    stale = tmp_path / "stale"
    gitpython.Repo.clone_from(str(upstream.path), str(stale), bare=True, branch="main")
    git(stale, "update-ref", "refs/heads/main", upstream.v1)
    git(stale, "reflog", "expire", "--expire=now", "--all")
    git(stale, "tag", "--delete", "2024.02")
    git(stale, "gc", "--quiet", "--prune=now")
    assert git(stale, "cat-file", "-t", upstream.v1) == "commit"
    with pytest.raises(RuntimeError):
        git(stale, "cat-file", "-e", upstream.v2)

    map_file = tmp_path / "mirrors.yaml"
    map_file.write_text(f"{upstream.path}.git:\n  - {stale}\n", encoding="utf-8")
    mirrors = load_mirror_map(map_file)
    assert mirrors.candidates(str(upstream.path)) == (str(stale), str(upstream.path))
    pin = make_pin(upstream.path, upstream.v2, tag_name=None)
    tree = co.checkout(pin, cache, mirrors, log=[].append)
    assert head(tree) == upstream.v2
    assert (tree / "Makefile").read_text() == MAKEFILE_V2


def test_shallow_alternative_gives_a_mirror_with_tags_and_readable_history(
    upstream: Upstream, cache: Path, tmp_path: Path
) -> None:
    # What CI caches hold: a shallow bare copy, its history cut below v2 (a tag
    # on v1 would pull v1 in).
    git(upstream.path, "tag", "--delete", "2024.02")
    tag(upstream.path, "2024.03", upstream.v2, message="2024.03")
    v3 = commit(upstream.path, {"NEWS": "v3\n"}, "v3", date="2024-03-01T00:00:00+00:00")
    shallow = tmp_path / "shallow.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", "--depth=1", "--no-single-branch",
                    f"file://{upstream.path}", str(shallow)], check=True, env=git_env())
    assert (shallow / "shallow").is_file()
    with pytest.raises(RuntimeError):  # the cut: v1 is not there
        git(shallow, "cat-file", "-e", upstream.v1)
    url = "https://gitlab.invalid/buildroot.git"
    map_file = tmp_path / "mirrors.yaml"
    map_file.write_text(f"{url}:\n  - {shallow}\n", encoding="utf-8")
    mirrors = load_mirror_map(map_file)
    warnings: list[str] = []
    tree = co.checkout(make_pin(url, v3, tag_name="2024.03"), cache, mirrors,
                       log=warnings.append)
    assert head(tree) == v3
    # git used to reject every ref ending at a shallow root, exit 0, and leave a
    # mirror without tags whose commits' parents could not be read.
    assert warnings == [f"warning: tag 2024.03 now points to {upstream.v2}; "
                        f"the pin stays at {v3}"]
    mirror = co.mirror_dir(cache, url)
    assert git(mirror, "rev-parse", "refs/heads/main") == v3
    assert git(mirror, "log", "--format=%H", v3).splitlines()[0] == v3
    # pin's tag lookups refresh the same mirror from the same shallow copy.
    assert co.fetch_refs(url, mirrors, cache) == mirror
    assert git(mirror, "rev-parse", "refs/tags/2024.03^{commit}") == upstream.v2


def test_damaged_tree_without_stamp_is_rebuilt(upstream: Upstream, cache: Path) -> None:
    pin = make_pin(upstream.path, upstream.v1)
    tree = co.checkout(pin, cache, MirrorMap(), log=[].append)
    co.stamp_path(cache, pin).unlink()
    (tree / "Makefile").write_text("garbage\n")
    assert co.checkout(pin, cache, MirrorMap(), log=[].append) == tree
    assert (tree / "Makefile").read_text() == MAKEFILE_V1
    assert leftovers(cache) == []


def test_concurrent_checkouts_agree(upstream: Upstream, cache: Path) -> None:
    pin = make_pin(upstream.path, upstream.v1)
    results: list[Path] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(co.checkout(pin, cache, MirrorMap(), log=[].append))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert results == [co.tree_dir(cache, pin)] * 4
    assert head(results[0]) == upstream.v1
    assert leftovers(cache) == []
