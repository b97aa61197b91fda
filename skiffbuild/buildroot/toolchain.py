"""What Buildroot takes from the build machine: a preinstalled toolchain, host tools.

A preinstalled external toolchain (``BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED``, at
``BR2_TOOLCHAIN_EXTERNAL_PATH`` or found on ``PATH``) is neither a source
Buildroot downloads and verifies nor part of the pinned tree: it is a directory
of this machine whose compiler builds every package and whose C library is
copied into every image. Replacing it under the same path changes the output,
yet Buildroot's stamps say everything is done. Two digests describe it:

- ``quick_key``: what changes when anything in it is replaced, from ``stat``
  alone (no file is read). It is checked on every run of ``doit`` (the compile
  task's up-to-date check), so it must stay cheap: it lists every directory
  (names and types come free with ``scandir``) and stats the directories, the
  files of every ``bin/`` directory and the C library, loader and kernel-header
  files. An extracted or copied toolchain has new directories or new entries;
  a compiler or C library overwritten in place has a new ctime. About 15 ms for
  a toolchain of 9000 files, not the 45 ms of stat'ing every file.
- ``content_digest``: what decides a full rebuild, computed once per compile:
  every entry's path, type, mode, size and mtime, symlink targets, and the
  sha256 of the ``bin/`` programs and of the same C library and header files.
  A toolchain copied with its times (``cp -a``, ``tar``) to the same path gives
  the same digest, so it is not rebuilt for nothing.

Host tools (make, gcc, tar, ...) are recorded with their ``--version`` line in
``state/compile.json``, as information: they are not inputs of the build.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.buildroot.kconfig import externals_of
from skiffbuild.core.errors import BuildError
from skiffbuild.core.fsutil import sha256_file
from skiffbuild.core.runner import capture

__all__ = ["HOST_TOOLS", "ExternalToolchain", "content_digest", "external_toolchain",
           "host_tool_versions", "preinstalled", "quick_key"]

# The tools Buildroot's support/dependencies checks or runs from the machine.
HOST_TOOLS = ("make", "gcc", "g++", "ld", "tar", "cpio", "fakeroot", "python3", "perl",
              "patch", "gzip", "bzip2", "xz", "unzip", "rsync", "file", "bc", "wget", "git",
              "sed", "bash", "find", "flock")
_VERSION_OPTION = {"unzip": "-v"}  # unzip has no --version
# Key files of a sysroot: the C library, its loader, the kernel headers' version.
_KEY_FILE = re.compile(r"^(libc[.-].*|ld-linux.*|ld-musl.*|ld64\.so.*|ld\.so.*|libgcc_s\.so.*"
                       r"|version\.h|libc-version\.h)$")
_VARIABLE = re.compile(r"\$[({]([A-Za-z0-9_]+)[)}]")
_PREINSTALLED = re.compile(r"^BR2_TOOLCHAIN_EXTERNAL_PREINSTALLED=y$", re.M)


@dataclass(frozen=True)
class ExternalToolchain:
    """A preinstalled external toolchain as the ``.config`` names it."""

    path: Path | None  # None: the setting could not be resolved to a directory
    setting: str  # what .config says (BR2_TOOLCHAIN_EXTERNAL_PATH, or the prefix searched)


def _values(text: str, names: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for name in names:
        match = re.search(rf"^{name}=(.*)$", text, re.M)
        if match:
            value = match.group(1)
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            found[name] = value
    return found


def preinstalled(text: str) -> bool:
    """Whether a ``.config`` (its text) selects a preinstalled external toolchain: the
    quick test of every no-op run."""
    return _PREINSTALLED.search(text) is not None


def external_toolchain(text: str, tree: Path, output: Path,
                       environ: Mapping[str, str]) -> ExternalToolchain | None:
    """The preinstalled external toolchain a ``.config`` (its text) selects, if any.

    The path is expanded as Buildroot's make does (``$(HOME)``, ``$(TOPDIR)``,
    ``$(BR2_EXTERNAL_<NAME>_PATH)``; relative to the tree); an empty path means
    the toolchain is found on ``PATH`` by its prefix, as Buildroot does.
    """
    if not preinstalled(text):
        return None
    values = _values(text, ("BR2_TOOLCHAIN_EXTERNAL_PATH", "BR2_TOOLCHAIN_EXTERNAL_PREFIX",
                            "BR2_ARCH"))
    variables = {**environ, "TOPDIR": str(tree), "BASE_DIR": str(output), "O": str(output),
                 "CONFIG_DIR": str(output), "ARCH": values.get("BR2_ARCH", ""),
                 **externals_of(output)}

    def expand(value: str) -> str:
        return _VARIABLE.sub(lambda m: variables.get(m.group(1), ""), value)

    setting = values.get("BR2_TOOLCHAIN_EXTERNAL_PATH", "")
    if setting:
        path = Path(expand(setting))
        path = path if path.is_absolute() else tree / path
        return ExternalToolchain(Path(os.path.normpath(path)), setting)
    prefix = expand(values.get("BR2_TOOLCHAIN_EXTERNAL_PREFIX", ""))
    found = shutil.which(f"{prefix}-gcc", path=environ.get("PATH")) if prefix else None
    # <dir>/bin/<prefix>-gcc: the toolchain is <dir>.
    return ExternalToolchain(Path(found).resolve().parent.parent if found else None,
                             f"{prefix}-gcc on PATH")


def _entries(root: Path) -> Iterator[tuple[str, os.DirEntry[str]]]:
    """(path relative to root, entry) of everything under root, directories first."""
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as found:
                entries = sorted(found, key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            yield path, entry
            if entry.is_dir(follow_symlinks=False):
                stack.append(path)


def _key_file(rel: str, entry: os.DirEntry[str]) -> bool:
    parent = rel.rsplit("/", 2)
    in_bin = len(parent) >= 2 and parent[-2] == "bin"
    return in_bin or bool(_KEY_FILE.match(entry.name))


def _stat_text(st: os.stat_result) -> str:
    return f"{st.st_mode:o} {st.st_size} {st.st_mtime_ns} {st.st_ctime_ns} {st.st_ino}"


def quick_key(root: Path) -> str:
    """Changes when anything in the toolchain is replaced; reads no file (see above)."""
    parts: list[str] = []
    stack = [str(root)]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as found:
                entries = sorted(found, key=lambda e: e.name)
            parts.append(f"{directory}\0{_stat_text(os.stat(directory))}")
        except OSError:
            parts.append(f"{directory}\0missing")
            continue
        in_bin = directory.endswith("/bin")
        names = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
                names.append(entry.name + "/")
                continue
            names.append(entry.name)
            if (in_bin or _KEY_FILE.match(entry.name)) and not entry.is_symlink():
                try:
                    parts.append(f"{entry.path}\0{_stat_text(entry.stat(follow_symlinks=False))}")
                except OSError:
                    parts.append(f"{entry.path}\0gone")
        parts.append("\0".join(names))
    return hashlib.sha256("\n".join(parts).encode(errors="surrogateescape")).hexdigest()


def content_digest(root: Path) -> tuple[str, int]:
    """The toolchain's identity for rebuild decisions, and its number of entries."""
    h = hashlib.sha256()
    count = 0
    for rel, entry in _entries(root):
        count += 1
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            h.update(f"{rel}\0l\0{os.readlink(entry.path)}\n".encode())
        elif stat.S_ISDIR(st.st_mode):
            h.update(f"{rel}\0d\0{st.st_mode & 0o7777:o}\n".encode())
        else:
            content = sha256_file(Path(entry.path)) if _key_file(rel, entry) else ""
            h.update(f"{rel}\0f\0{st.st_mode & 0o7777:o} {st.st_size} {st.st_mtime_ns} "
                     f"{content}\n".encode())
    return h.hexdigest(), count


def _version(tool: str, env: Mapping[str, str]) -> str:
    found = shutil.which(tool, path=env.get("PATH"))
    if found is None:
        return "not found"
    try:
        proc = capture([found, _VERSION_OPTION.get(tool, "--version")], env=env, timeout=20,
                       what=found)
    except BuildError as exc:
        return exc.message
    lines = [line.strip() for line in (proc.out + "\n" + proc.err).splitlines()]
    return next((line for line in lines if line), f"{found}: no version")


def host_tool_versions(env: Mapping[str, str]) -> dict[str, str]:
    """The first line of ``<tool> --version`` of each host tool, side by side."""
    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = list(pool.map(lambda tool: _version(tool, env), HOST_TOOLS))
    return dict(zip(HOST_TOOLS, versions, strict=True))
