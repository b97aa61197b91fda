"""Safe YAML loading that remembers where every key and item came from.

Errors must name ``file:line`` and the key path, so the loader builds plain
Python data from PyYAML's node tree (safe constructors only) and records the
line of each mapping key and sequence item under its path.

Manifests come from other teams: a file is read only if it is a regular file
of at most ``MAX_BYTES``, and built from the parser's events without recursion,
at most ``MAX_DEPTH`` levels deep and ``MAX_NODES`` values with aliases
expanded, so an alias bomb or 100,000 nested lists is a located error.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from skiffbuild.core.errors import Problem

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "MAX_NUMBER_CHARS", "Document", "format_path",
           "load_yaml", "read_text_bounded", "size_text"]

PathKey = tuple[str | int, ...]
_PLAIN = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def format_path(path: PathKey) -> str:
    """``("image", "partitions", 0, "size")`` → ``image.partitions[0].size``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Document:
    """Loaded YAML data plus the line of every key path."""

    file: Path
    display: str  # the file name used in messages (relative to the project when possible)
    data: Any
    lines: dict[PathKey, int]

    def line(self, path: PathKey) -> int | None:
        """Line of ``path``, or of its nearest parent that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: PathKey, message: str) -> Problem:
        return Problem(self.display, self.line(path), format_path(path) or None, message)


# Limits on one manifest. Real manifests are a few KiB, a few hundred nodes and
# under ten levels deep; the limits stop hostile input (an alias bomb, 100,000
# nested lists) long before it costs memory, time or the C stack.
MAX_BYTES = 1 << 20  # 1 MiB of text
MAX_DEPTH = 100  # nested mappings and lists, aliases expanded
MAX_NUMBER_CHARS = 40  # an int or float: every real one (sizes, versions) is far shorter
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
MAX_NODES = 250_000  # scalars and collections, every alias counted as its expansion


def _line(event: yaml.Event) -> int:
    """The 1-based line an event starts on (0 when the parser gave no position)."""
    return event.start_mark.line + 1 if event.start_mark is not None else 0


class _Limit(Exception):
    """A manifest over one of the limits: reported, not raised to the user."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass  # not frozen: a work item updated as the events of its children arrive
class _Frame:
    """One open mapping or list while the event stream is walked."""

    value: dict[Any, Any] | list[Any]
    path: PathKey
    anchor: str | None
    line: int
    size: int = 1  # nodes, aliases expanded
    height: int = 1  # levels of nesting below and including this one
    key: Any = None  # a mapping's pending key, when has_key
    has_key: bool = False  # False: the next value is a key
    skip: bool = False  # the pending key was refused: drop its value
    quiet: bool = False  # inside a key or a refused value: record no lines


_Anchored = tuple[Any, int, int]  # value, size, height


class _Builder:
    """Builds plain data from the parser's events, without recursion.

    PyYAML's composer (C or Python) recurses once per nesting level: 5,000
    levels give RecursionError, 100,000 crash libyaml. Walking the events with
    an explicit stack bounds depth and, counting every alias as the size of
    what it repeats, the expanded size, before anything is built.
    """

    def __init__(self, loader: yaml.SafeLoader, doc_name: str) -> None:
        self.loader = loader
        self.doc_name = doc_name
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []
        self.anchors: dict[str, _Anchored] = {}
        self.nodes = 0
        self.root_line = 1

    def _count(self, line: int, size: int, height: int, depth: int) -> None:
        self.nodes += size
        if depth + height - 1 > MAX_DEPTH:
            raise _Limit(line, f"nested more than {MAX_DEPTH} levels deep")
        if self.nodes > MAX_NODES:
            raise _Limit(line, f"more than {MAX_NODES} values (aliases expanded)")

    def _scalar(self, event: yaml.ScalarEvent) -> Any:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        if (tag in (_INT_TAG, _FLOAT_TAG) and len(event.value) > MAX_NUMBER_CHARS):
            # Python's int() refuses more than 4300 digits (a traceback) and YAML 1.1's
            # base-60 ints (1:59:59:...) take quadratic time: refused before converting.
            raise _Limit(_line(event), f"a number longer than {MAX_NUMBER_CHARS} characters")
        # (PyYAML's stubs type libyaml's marks apart from its own; they are the same.)
        node = yaml.ScalarNode(tag, event.value, event.start_mark,  # type: ignore[arg-type]
                               event.end_mark, event.style)  # type: ignore[arg-type]
        try:
            return self.loader.construct_object(node)
        except (ValueError, OverflowError) as exc:
            raise _Limit(_line(event), f"invalid value: {exc}") from None

    def _child_path(self, stack: list[_Frame], line: int) -> PathKey:
        """Key path of the next value in the innermost open collection."""
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.value, list):
            child = (*frame.path, len(frame.value))
            if not frame.quiet:
                self.lines[child] = line
            return child
        # A key, or the value of a refused key: lines under it are not recorded.
        return (*frame.path, frame.key) if frame.has_key else frame.path

    def build(self) -> Any:
        loader = self.loader
        stack: list[_Frame] = []
        result: Any = None
        done = False
        while not done:
            event = loader.get_event()
            line = _line(event)
            if not stack:
                self.root_line = line
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", *_PLAIN):
                    # Only plain mappings and lists: a tag like !!python/... is refused.
                    raise yaml.constructor.ConstructorError(
                        None, None, f"unsupported tag {event.tag!r}",
                        event.start_mark)  # type: ignore[arg-type]
                path = self._child_path(stack, line)
                self._count(line, 1, 1, len(stack) + 1)
                collection: dict[Any, Any] | list[Any] = \
                    {} if isinstance(event, yaml.MappingStartEvent) else []
                parent = stack[-1] if stack else None
                quiet = parent is not None and (parent.quiet or parent.skip or (
                    isinstance(parent.value, dict) and not parent.has_key))
                stack.append(_Frame(collection, path, event.anchor, line, quiet=quiet))
                continue
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.anchor is not None:
                    self.anchors[frame.anchor] = (frame.value, frame.size, frame.height)
                done, result = self._add(stack, frame.value, frame.size, frame.height,
                                         frame.line)
                continue
            if isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    if any(f.anchor == event.anchor for f in stack):
                        raise _Limit(line, f"alias *{event.anchor} refers to itself")
                    raise yaml.composer.ComposerError(
                        None, None, f"found undefined alias {event.anchor!r}",
                        event.start_mark)  # type: ignore[arg-type]
                value, size, height = self.anchors[event.anchor]
                self._child_path(stack, line)
                self._count(line, size, height, len(stack) + 1)
                done, result = self._add(stack, value, size, height, line)
                continue
            if isinstance(event, yaml.ScalarEvent):
                self._child_path(stack, line)
                self._count(line, 1, 1, len(stack) + 1)
                value = self._scalar(event)
                if event.anchor is not None:
                    self.anchors[event.anchor] = (value, 1, 1)
                done, result = self._add(stack, value, 1, 1, line)
                continue
            # stream/document start and end events carry no data
        return result

    def _add(self, stack: list[_Frame], value: Any, size: int, height: int,
             key_line: int) -> tuple[bool, Any]:
        """Put a finished value into the open collection; (True, value) at the top."""
        if not stack:
            return True, value
        frame = stack[-1]
        frame.size += size
        frame.height = max(frame.height, height + 1)
        if isinstance(frame.value, list):
            frame.value.append(value)
            return False, None
        if not frame.has_key:
            frame.has_key = True
            if isinstance(value, (dict, list)):
                self.problems.append(Problem(self.doc_name, key_line,
                                             format_path(frame.path) or None,
                                             "keys must be plain scalars"))
                frame.skip = True
                return False, None
            key = value if isinstance(value, str) else str(value)
            child = (*frame.path, key)
            frame.key = key
            if key in frame.value:
                self.problems.append(
                    Problem(self.doc_name, key_line, format_path(child),
                            f"duplicate key (first given on line {self.lines[child]})"))
                frame.skip = True
            elif not frame.quiet:
                self.lines[child] = key_line
            return False, None
        if not frame.skip:
            frame.value[frame.key] = value
        frame.has_key, frame.key, frame.skip = False, None, False
        return False, None


def read_text_bounded(file: Path, limit: int, within: Path | None = None) -> str:
    """The text of a regular file of at most ``limit`` bytes (inside ``within``, when
    given, wherever its symlinks lead).

    Opened without blocking and checked on the open descriptor, so a FIFO
    cannot hang the run, a device (/dev/zero) cannot fill the memory, and a file
    swapped for a symlink after it was checked cannot be read from outside;
    raises OSError (with a message fit for the user) or UnicodeDecodeError.
    """
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if within is not None:
            opened = os.readlink(f"/proc/self/fd/{fd}")  # what was opened, not a name
            if not opened.startswith(os.path.realpath(within) + os.sep):
                raise OSError(errno.EACCES, "it resolves outside its layer")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than the limit of {size_text(limit)}")
    return data.decode("utf-8")


def size_text(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} bytes"


def load_yaml(file: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Load one YAML document safely; on a syntax error return no document and the problem."""
    name = display or str(file)
    try:
        text = read_text_bounded(file, MAX_BYTES)
    except OSError as exc:
        return None, [Problem(name, None, None, f"cannot read: {exc.strerror or exc}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, None, f"cannot read: {exc}")]
    try:
        # libyaml when present: several times faster on big trees of manifests.
        return _load(text, file, name, _FAST)
    except _Limit as exc:
        return None, [Problem(name, exc.line, None, exc.message)]
    except yaml.YAMLError:
        pass
    try:
        # Errors come from the pure-Python parser, whose messages are the same everywhere.
        return _load(text, file, name, yaml.SafeLoader)
    except _Limit as exc:
        return None, [Problem(name, exc.line, None, exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = exc.problem or str(exc)
        return None, [Problem(name, line, None, f"invalid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, None, None, f"invalid YAML: {exc}")]


_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(text: str, file: Path, name: str,
          loader_class: type[yaml.SafeLoader]) -> tuple[Document | None, list[Problem]]:
    loader = loader_class(text)
    try:
        loader.get_event()  # the stream's start
        if loader.check_event(yaml.StreamEndEvent):
            return Document(file, name, None, {}), []
        first = loader.get_event()  # the document's start
        builder = _Builder(loader, name)
        data = builder.build()
        loader.get_event()  # the document's end
        if not loader.check_event(yaml.StreamEndEvent):
            event = loader.get_event()
            raise yaml.composer.ComposerError("expected a single document in the stream",
                                              first.start_mark, "but found another document",
                                              event.start_mark)
        builder.lines.setdefault((), builder.root_line)
    finally:
        loader.dispose()
    return Document(file, name, data, builder.lines), builder.problems
