"""The code digest is a fact of every task: a changed line of skiffbuild's code makes the
next ``doit image:<ws>`` make the image again (the version string did not)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, PinnedTree, make_doit_project, ran
from httpserver import FaultyServer

from skiffbuild.core.codedigest import code_digest


def test_digest_covers_every_shipped_file_and_only_those(tmp_path: Path) -> None:
    digest = code_digest()
    assert len(digest) == 64
    assert code_digest() == digest  # one computation per process


@pytest.mark.slow
def test_a_changed_line_of_the_image_code_makes_the_image_again(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    code = tmp_path / "code"
    shutil.copytree(ROOT / "skiffbuild", code / "skiffbuild",
                    ignore=shutil.ignore_patterns("__pycache__"))
    project = make_doit_project(tmp_path / "p", testtree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    project.env["PYTHONPATH"] = str(code)  # this copy of the code, not the installed one
    which = subprocess.run([sys.executable, "-c", "import skiffbuild; print(skiffbuild.__file__)"],
                           env=project.env, cwd=project.root, capture_output=True, text=True,
                           check=True)
    assert which.stdout.strip() == str(code / "skiffbuild" / "__init__.py")
    project.doit("image:qemu-x86_64")
    assert ran(project.doit("image:qemu-x86_64").stdout)["image:qemu-x86_64"] is False
    image = code / "skiffbuild" / "image" / "assemble.py"
    image.write_text(image.read_text() + "\n# a changed line\n")
    again = project.doit("image:qemu-x86_64")
    assert ran(again.stdout)["image:qemu-x86_64"] is True
    assert ran(project.doit("image:qemu-x86_64").stdout)["image:qemu-x86_64"] is False
