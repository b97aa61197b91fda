"""skiffbuild pin: resolving tags and SHAs in the mirror, rewriting the pin file in place."""

from __future__ import annotations

from pathlib import Path

import pytest
from gitrepo import commit, git, make_repo, tag
from projectfiles import write_project

from skiffbuild.buildroot import checkout
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.model.manifest import load_pin
from skiffbuild.release.pin import near_tags, pin, rewrite_pin_text

MAKEFILE = "export BR2_VERSION := {}\nall:\n\techo {}\n"

ADD_DOC = """\
diff --git a/docs/notes.txt b/docs/notes.txt
new file mode 100644
--- /dev/null
+++ b/docs/notes.txt
@@ -0,0 +1 @@
+one
"""
# Applies only after ADD_DOC: the series is applied in order, not each alone.
EDIT_DOC = """\
diff --git a/docs/notes.txt b/docs/notes.txt
--- a/docs/notes.txt
+++ b/docs/notes.txt
@@ -1 +1,2 @@
 one
+two
"""
EDIT_FOO = """\
diff --git a/package/foo/foo.mk b/package/foo/foo.mk
--- a/package/foo/foo.mk
+++ b/package/foo/foo.mk
@@ -1 +1 @@
-FOO_VERSION = 1.0
+FOO_VERSION = 1.0-patched
"""

PIN_FILE = """\
# The Buildroot pin.
#
# `skiffbuild pin` rewrites the values below and keeps these comments.
format: 1
url: {url}   # upstream
commit: {commit}  # the one we test
tag: "2024.02"
# patches live next to the project
patches: buildroot/patches
"""


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("SKIFFBUILD_MIRRORS", raising=False)


class Upstream:
    """v1 (annotated tag 2024.02) → v2 (tag 2024.02.1, branch 2024.02.x) → v3 (main, no tag)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.v1 = make_repo(path, {"Makefile": MAKEFILE.format("2024.02", 1),
                                   "package/foo/foo.mk": "FOO_VERSION = 1.0\n"}, "2024.02")
        tag(path, "2024.02", self.v1, message="2024.02")
        tag(path, "2023.11.3", self.v1)
        self.v2 = commit(path, {"Makefile": MAKEFILE.format("2024.02.1", 2)}, "2024.02.1",
                         date="2024-02-01T00:00:00+00:00")
        tag(path, "2024.02.1", self.v2)
        git(path, "branch", "2024.02.x", self.v2)
        self.v3 = commit(path, {"Makefile": MAKEFILE.format("2024.05-git", 3),
                                "package/foo/foo.mk": "FOO_VERSION = 2.0\n"}, "next",
                         date="2024-03-01T00:00:00+00:00")
        tag(path, "2024.05-rc1", self.v3)
        self.v4 = commit(path, {"README": "untagged\n"}, "untagged",
                         date="2024-04-01T00:00:00+00:00")


@pytest.fixture
def upstream(tmp_path: Path) -> Upstream:
    return Upstream(tmp_path / "upstream" / "buildroot")


def make_project(root: Path, url: str, sha: str, text: str | None = None,
                 patches: dict[str, str] | None = None) -> Project:
    write_project(root, {}, url=url, commit=sha, tag=None)
    pin_file = root / "manifests" / "buildroot.yaml"
    pin_file.write_text(text if text is not None else PIN_FILE.format(url=url, commit=sha))
    series = patches if patches is not None else {"0001-add-doc.patch": ADD_DOC,
                                                  "0002-edit-doc.patch": EDIT_DOC}
    for name, body in series.items():
        path = root / "buildroot" / "patches" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (root / "buildroot" / "patches").mkdir(parents=True, exist_ok=True)
    return Project(root)


def pin_bytes(project: Project) -> bytes:
    return (project.manifests / "buildroot.yaml").read_bytes()


def test_tag_writes_its_sha_and_keeps_every_other_byte(tmp_path: Path,
                                                       upstream: Upstream) -> None:
    url = str(upstream.path)
    project = make_project(tmp_path / "p", url, upstream.v1)
    lines: list[str] = []
    change = pin(project, "2024.02.1", echo=lines.append)
    assert pin_bytes(project) == PIN_FILE.format(url=url, commit=upstream.v2).replace(
        'tag: "2024.02"', "tag: 2024.02.1").encode()
    assert (change.old_commit, change.new_commit) == (upstream.v1, upstream.v2)
    assert (change.old_tag, change.new_tag) == ("2024.02", "2024.02.1")
    assert (change.old_version, change.new_version) == ("2024.02", "2024.02.1")
    assert change.changed
    assert lines == [
        "manifests/buildroot.yaml:",
        f"  commit     {upstream.v1} → {upstream.v2}",
        "  tag        2024.02 → 2024.02.1",
        "  Buildroot  2024.02 → 2024.02.1",
        "  2 patch(es) apply cleanly",
    ]
    loaded, problems = load_pin(project, "buildroot")
    assert problems == [] and loaded is not None
    assert (loaded.commit, loaded.tag) == (upstream.v2, "2024.02.1")
    # The same mirror checkout uses, holding every tag and branch.
    mirror = checkout.mirror_dir(project.cache, url)
    assert git(mirror, "rev-parse", "refs/heads/2024.02.x") == upstream.v2
    assert not list((project.cache / "buildroot").glob(".tmp-*"))

    # Again: nothing to change, and the file is not rewritten.
    mtime = (project.manifests / "buildroot.yaml").stat().st_mtime_ns
    lines.clear()
    assert not pin(project, "2024.02.1", echo=lines.append).changed
    assert lines == [f"manifests/buildroot.yaml: already at 2024.02.1 ({upstream.v2[:12]}) "
                     "(Buildroot 2024.02.1); unchanged"]
    assert (project.manifests / "buildroot.yaml").stat().st_mtime_ns == mtime


def test_abbreviated_sha_resolves_and_picks_up_its_tag(tmp_path: Path,
                                                       upstream: Upstream) -> None:
    url = str(upstream.path)
    text = f"format: 1\nurl: {url}\ncommit: {upstream.v2}\ntag: 2024.02.1\n"
    project = make_project(tmp_path / "p", url, upstream.v2, text, patches={})
    change = pin(project, upstream.v1[:9].upper(), echo=[].append)
    # Two tags point at v1: the annotated one wins; 2024.02 is quoted (plain,
    # YAML would read it as a float).
    assert change.new_commit == upstream.v1
    assert pin_bytes(project) == f'format: 1\nurl: {url}\ncommit: {upstream.v1}\n' \
                                 'tag: "2024.02"\n'.encode()
    assert load_pin(project, "buildroot")[0].tag == "2024.02"

    # The current tag is kept when it is one of those at the commit.
    (project.manifests / "buildroot.yaml").write_text(
        f"format: 1\nurl: {url}\ncommit: {upstream.v1}\ntag: 2023.11.3\n")
    assert not pin(project, upstream.v1, echo=[].append).changed
    assert pin_bytes(project).endswith(b"tag: 2023.11.3\n")

    # No tag at the commit: the tag line goes.
    lines: list[str] = []
    change = pin(project, upstream.v4[:7], echo=lines.append)
    assert (change.new_commit, change.new_tag, change.new_version) == (upstream.v4, None,
                                                                        "2024.05-git")
    assert pin_bytes(project) == f"format: 1\nurl: {url}\ncommit: {upstream.v4}\n".encode()
    assert "  tag        2023.11.3 → (none)" in lines

    # Back to a tag: the tag line is inserted right after commit.
    (project.manifests / "buildroot.yaml").write_text(
        f"format: 1\ncommit: {upstream.v4}\nurl: {url}\n")
    pin(project, "2024.05-rc1", echo=[].append)
    assert pin_bytes(project) == (f"format: 1\ncommit: {upstream.v3}\ntag: 2024.05-rc1\n"
                                  f"url: {url}\n").encode()


def test_branch_is_refused_unless_allowed(tmp_path: Path, upstream: Upstream) -> None:
    url = str(upstream.path)
    project = make_project(tmp_path / "p", url, upstream.v1)
    before = pin_bytes(project)
    with pytest.raises(SkiffError) as caught:
        pin(project, "2024.02.x", echo=[].append)
    assert caught.value.message == (
        f"'2024.02.x' is a branch of {url}, not a tag or commit: a branch moves, "
        "so the pin would not say which Buildroot was tested")
    assert "--allow-branch" in (caught.value.hint or "")
    assert pin_bytes(project) == before

    change = pin(project, "2024.02.x", allow_branch=True, echo=[].append)
    assert (change.new_commit, change.new_tag) == (upstream.v2, "2024.02.1")
    change = pin(project, "main", allow_branch=True, echo=[].append)
    assert (change.new_commit, change.new_tag) == (upstream.v4, None)


def test_unknown_tag_lists_the_nearest(tmp_path: Path, upstream: Upstream) -> None:
    url = str(upstream.path)
    project = make_project(tmp_path / "p", url, upstream.v1)
    before = pin_bytes(project)
    with pytest.raises(SkiffError) as caught:
        pin(project, "2024.02.3", echo=[].append)
    assert caught.value.message == (
        f"unknown tag '2024.02.3' in {url}; nearest tags: 2024.02.1, 2024.02, 2023.11.3, "
        "2024.05-rc1")
    assert pin_bytes(project) == before
    with pytest.raises(SkiffError, match=r"^unknown tag 'zzz' in [^;]*$"):
        pin(project, "zzz", echo=[].append)
    with pytest.raises(SkiffError, match="no commit deadbeef99"):
        pin(project, "deadbeef99", echo=[].append)


def test_near_tags() -> None:
    tags = ["2023.02", "2024.02", "2024.02.1", "2024.02.10", "2024.02.2", "2024.02.9",
            "2024.05", "v1.0"]
    # Same prefix, newest first, then difflib's closest.
    assert near_tags("2024.02.11", tags) == ["2024.02.10", "2024.02.9", "2024.02.2",
                                             "2024.02.1", "2024.02"]
    assert near_tags("2024.20.1", tags) == ["2024.02.1", "2024.02.10", "2024.02.9",
                                            "2024.02.2", "2024.05"]
    assert near_tags("nothing", tags) == []


def test_patch_that_no_longer_applies_is_named_and_nothing_changes(
        tmp_path: Path, upstream: Upstream) -> None:
    url = str(upstream.path)
    project = make_project(tmp_path / "p", url, upstream.v1,
                           patches={"0001-add-doc.patch": ADD_DOC,
                                    "0002-edit-doc.patch": EDIT_DOC,
                                    "0003-foo.patch": EDIT_FOO})
    pin(project, "2024.02.1", echo=[].append)  # all three apply there
    before = pin_bytes(project)
    with pytest.raises(SkiffError) as caught:
        pin(project, "2024.05-rc1", echo=[].append)
    first = caught.value.message.splitlines()[0]
    assert first == ("Buildroot patch buildroot/patches/0003-foo.patch does not apply to "
                     f"package/foo/foo.mk at 2024.05-rc1 ({upstream.v3[:12]}):")
    assert caught.value.hint == ("refresh the patch against 2024.05-rc1 "
                                 f"({upstream.v3[:12]}) or drop it from the series; "
                                 "manifests/buildroot.yaml was not changed")
    assert pin_bytes(project) == before
    assert not list((project.cache / "buildroot").glob(".tmp-*"))


def test_mirror_map_alternative_is_used(tmp_path: Path, upstream: Upstream) -> None:
    url = "https://gitlab.invalid/buildroot.org/buildroot.git"
    mirrors = tmp_path / "mirrors.yaml"
    mirrors.write_text(f"{url}:\n  - {upstream.path}\n")
    project = make_project(tmp_path / "p", url, upstream.v1)
    change = pin(project, "2024.02.1", echo=[].append,
                 environ={"SKIFFBUILD_MIRRORS": str(mirrors)})
    assert change.new_commit == upstream.v2
    assert f"url: {url}   # upstream\n".encode() in pin_bytes(project)
    mirror = checkout.mirror_dir(project.cache, url)
    assert git(mirror, "rev-parse", "refs/tags/2024.02.1") == upstream.v2
    # The checkout then finds the commit without any network.
    loaded = load_pin(project, "buildroot")[0]
    tree = checkout.checkout(loaded, project.cache, checkout.MirrorMap(), log=[].append)
    assert (tree / "docs" / "notes.txt").read_text() == "one\ntwo\n"


def test_an_unreachable_url_names_every_candidate(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    project = make_project(tmp_path / "p", str(missing), "0" * 40)
    with pytest.raises(SkiffError, match=f"cannot fetch the branches and tags of {missing}"):
        pin(project, "2024.02", echo=[].append)


def test_bad_commit_value_is_what_pin_repairs(tmp_path: Path, upstream: Upstream) -> None:
    url = str(upstream.path)
    project = make_project(tmp_path / "p", url, "",
                           f"format: 1\nurl: {url}\ncommit: 2024.02.1\ntag: 2024.02\n",
                           patches={})
    assert load_pin(project, "buildroot")[0] is None  # invalid before
    change = pin(project, "2024.02.1", echo=[].append)
    assert change.old_version == "unknown"
    assert load_pin(project, "buildroot")[0].commit == upstream.v2


@pytest.mark.parametrize(("text", "expected"), [
    ("commit: x\n", "commit: {c}\ntag: v1\n"),
    ("commit: x", "commit: {c}\ntag: v1"),
    ("a: 1\r\ncommit: x  # note\r\nb: 2\r\n", "a: 1\r\ncommit: {c}  # note\r\ntag: v1\r\nb: 2\r\n"),
    ("commit:\ntag: old # was\n", "commit: {c}\ntag: v1 # was\n"),
    ("commit: 'x'\n  tag: nested\ntag: t\n", "commit: {c}\n  tag: nested\ntag: v1\n"),
])
def test_rewrite_pin_text(text: str, expected: str) -> None:
    sha = "ab" * 20
    assert rewrite_pin_text(text, sha, "v1") == expected.format(c=sha)


def test_rewrite_pin_text_quotes_what_yaml_would_not_read_as_a_string() -> None:
    digits = "1" * 40
    assert rewrite_pin_text("commit: x\ntag: y\n", digits, "2024.02") == (
        f'commit: "{digits}"\ntag: "2024.02"\n')
    assert rewrite_pin_text("commit: x\ntag: y\n", digits, None) == f'commit: "{digits}"\n'
