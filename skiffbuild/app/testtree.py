"""The Buildroot-compatible test tree as a git repository.

``tests/buildroot-tree`` implements the parts of Buildroot's interface that
skiffbuild drives (see its README.md). Pinning and fetching work on git
repositories, so tests and the offline try-out turn the tree into one: a
single commit on ``main`` with a fixed author, committer, date and message,
tagged like a release. The commit SHA therefore depends only on the tree's
content and is the same on every machine, which lets a pin name it.

``python -m skiffbuild.app.testtree PATH`` does the same from the command line
and prints the SHA and a ``SKIFFBUILD_MIRRORS`` map entry for PATH.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import yaml

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.runner import git

__all__ = ["TESTTREE_TAG", "create_testtree_repo", "find_testtree", "main"]

TESTTREE_TAG = "2026.02.3-test"

# Fixed identity and date (the release time of Buildroot 2026.02.3), so that
# the commit SHA is reproducible.
_IDENTITY = {
    "GIT_AUTHOR_NAME": "skiffbuild",
    "GIT_AUTHOR_EMAIL": "skiffbuild@invalid",
    "GIT_AUTHOR_DATE": "1781643700 +0000",
    "GIT_COMMITTER_NAME": "skiffbuild",
    "GIT_COMMITTER_EMAIL": "skiffbuild@invalid",
    "GIT_COMMITTER_DATE": "1781643700 +0000",
}
_MESSAGE = "skiffbuild Buildroot-compatible test tree (Buildroot 2026.02.3 interface)\n"
# Written into .git of repositories made here: such a destination may be replaced.
_MARKER = "skiffbuild-testtree"

# Things a make run inside the source tree may have left behind.
_IGNORED = shutil.ignore_patterns(
    ".config", ".config.old", "output", "dl", "__pycache__", "*.pyc", ".git"
)

# No user or system configuration may change what is committed (filters,
# line endings, excludes, signing, templates, hooks).
_GIT_CONFIG = (
    "-c", "core.autocrlf=false",
    "-c", "core.fileMode=true",
    "-c", "core.excludesFile=/dev/null",
    "-c", "core.attributesFile=/dev/null",
    "-c", "core.hooksPath=/dev/null",
    "-c", "commit.gpgSign=false",
    "-c", "tag.gpgSign=false",
    "-c", "i18n.commitEncoding=UTF-8",
)


def find_testtree(start: Path | None = None) -> Path:
    """``tests/buildroot-tree`` of the project this package belongs to."""
    here = (start or Path(__file__)).resolve()
    for parent in here.parents:
        candidate = parent / "tests" / "buildroot-tree"
        if (candidate / "Makefile").is_file() and (candidate / "Config.in").is_file():
            return candidate
    # An installed wheel has no tests/: the user's setup, not a bug.
    raise SkiffError(f"tests/buildroot-tree not found above {here.parent}: the test tree "
                     "ships with the skiffbuild source checkout only",
                     hint="install skiffbuild from its source checkout (pip install -e .) to "
                     "use the try-out and the test tree")


def _git(repo: Path, *args: str) -> str:
    return git(repo, *_GIT_CONFIG, *args, extra_env=_IDENTITY).out.strip()


def _prepare_destination(dest: Path) -> None:
    if dest.is_symlink() or dest.is_file():
        raise FileExistsError(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        if not (dest / ".git" / _MARKER).is_file():
            raise FileExistsError(
                f"{dest} is not empty and was not made by create_testtree_repo; "
                "refusing to replace it"
            )
        shutil.rmtree(dest)  # an earlier test repository: make it afresh


def create_testtree_repo(dest: Path, *, tag: str = TESTTREE_TAG, source: Path | None = None) -> str:
    """Copy the test tree to ``dest``, commit it on ``main``, tag it; return the commit SHA.

    ``dest`` must not exist, be empty, or be an earlier repository made by
    this function (which is replaced). ``source`` defaults to the project's
    ``tests/buildroot-tree``. File modes are kept (the scripts are executable).
    """
    dest = Path(dest)
    src = Path(source) if source is not None else find_testtree()
    _prepare_destination(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest, symlinks=True, ignore=_IGNORED, dirs_exist_ok=True)
    # No template: no sample hooks, no info/exclude from the system.
    _git(dest, "init", "-q", "--template=")
    _git(dest, "symbolic-ref", "HEAD", "refs/heads/main")
    (dest / ".git" / _MARKER).write_text("made by skiffbuild.testtree.create_testtree_repo\n")
    _git(dest, "add", "--all", "--force", ".")
    _git(dest, "commit", "-q", "--no-verify", "-m", _MESSAGE)
    # Annotated, like Buildroot's release tags, so `git describe` names it.
    _git(dest, "tag", "-a", "-m", tag, tag)
    return _git(dest, "rev-parse", "HEAD")


def _buildroot_url(tree: Path) -> str:
    pin = tree.parents[1] / "manifests" / "buildroot.yaml"
    try:
        data = yaml.safe_load(pin.read_text())
        return str(data["url"])
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return "https://gitlab.com/buildroot.org/buildroot.git"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m skiffbuild.app.testtree",
        description="Create the Buildroot-compatible test tree as a git repository.",
    )
    parser.add_argument("path", type=Path, help="where to create the repository")
    parser.add_argument("--tag", default=TESTTREE_TAG, help=f"tag name (default {TESTTREE_TAG})")
    args = parser.parse_args(argv)
    try:
        tree = find_testtree()
        sha = create_testtree_repo(args.path, tag=args.tag, source=tree)
    except (OSError, SkiffError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    path = args.path.resolve()
    print(sha)
    print(f"# Test tree at {path}: commit {sha}, tag {args.tag}.")
    print("# Save these lines as a YAML file and set SKIFFBUILD_MIRRORS to its path;")
    print(f"# pin manifests/buildroot.yaml to commit {sha} (tag {args.tag}).")
    print(yaml.safe_dump({_buildroot_url(tree): [str(path)]}, default_flow_style=False), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
