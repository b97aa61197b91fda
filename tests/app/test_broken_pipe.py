"""`skiffbuild layers | head -1`: a reader that goes away early ends the listing quietly,
with the status of a command killed by SIGPIPE, and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from projectfiles import board_yaml, layer_yaml, write_project

# 128 + SIGPIPE, as a shell reports `ls | head -1`'s ls.
EXIT_SIGPIPE = 141
# Well beyond a pipe's buffer (64 KiB on Linux) plus Python's (8 KiB): the command is
# still writing when the reader closes the pipe, so the write fails with EPIPE.
LISTING_BYTES = 4 * 64 * 1024


@pytest.fixture(scope="module")
def many_layers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("many")
    files: dict[str, str | None] = {}
    for number in range(1000):
        files[f"layers/g{number % 10}/l{number}/layer.yaml"] = layer_yaml(
            f"layer {number} " + "d" * 300)
    for number in range(400):
        files[f"manifests/boards/b{number}.yaml"] = board_yaml(
            [f"g{n % 10}/l{n}" for n in range(number, number + 10)],
            description=f"board {number} " + "d" * 600)
    return write_project(root, files)


def _environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}


def _full_length(project: Path, args: list[str]) -> int:
    done = subprocess.run([sys.executable, "-m", "skiffbuild", *args], cwd=project,
                          env=_environment(), capture_output=True, check=True)
    return len(done.stdout)


@pytest.mark.slow  # 600 layers, three times
@pytest.mark.parametrize("args", [["layers"], ["layers", "--json"], ["boards"]])
def test_reader_gone_after_one_line(many_layers: Path, args: list[str]) -> None:
    assert _full_length(many_layers, args) > LISTING_BYTES  # or the test proves nothing
    proc = subprocess.Popen([sys.executable, "-m", "skiffbuild", *args], cwd=many_layers,
                            env=_environment(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` exits
    stderr = proc.stderr.read().decode()
    status = proc.wait(timeout=60)
    assert first.strip()
    assert "Traceback" not in stderr
    assert "BrokenPipeError" not in stderr
    assert "Exception ignored" not in stderr
    assert stderr == ""
    assert status == EXIT_SIGPIPE


def test_reader_gone_before_anything(many_layers: Path) -> None:
    """A pipe closed before the first write (`skiffbuild layers | true`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "skiffbuild", "layers"], cwd=many_layers,
                              env=_environment(), stdout=write, stderr=subprocess.PIPE,
                              timeout=60)
    finally:
        os.close(write)
    assert b"Traceback" not in done.stderr and b"BrokenPipeError" not in done.stderr
    assert done.returncode == EXIT_SIGPIPE


def test_a_broken_pipe_that_is_not_stdout_stays_a_bug(many_layers: Path) -> None:
    """E.g. writing to a child process that died: stdout itself is a pipe still read."""
    script = ("import sys\n"
              "from skiffbuild.app import cli, commands_info\n"
              "def broken(*_):\n"
              "    print('some output')\n"
              "    raise BrokenPipeError(32, 'Broken pipe')\n"
              "commands_info.cmd_layers = broken\n"
              "sys.exit(cli.main(['layers']))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=many_layers, env=_environment(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "some output\n"
    assert "BrokenPipeError" in done.stderr and "internal error" in done.stderr
