"""Safe YAML loading that remembers where every key and item came from.

Errors must name ``file:line`` and the key path, so the loader builds plain
Python data from PyYAML's node tree (safe constructors only) and records the
line of each mapping key and sequence item under its path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

__all__ = ["Document", "format_path", "load_yaml"]

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


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc_name: str) -> None:
        self.loader = loader
        self.doc_name = doc_name
        self.lines: dict[PathKey, int] = {}
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in _PLAIN:
            # Only plain mappings and lists: a tag like !!python/... is refused, not ignored.
            raise yaml.constructor.ConstructorError(
                None, None, f"unsupported tag {node.tag!r}", node.start_mark)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    self.problems.append(
                        Problem(self.doc_name, key_node.start_mark.line + 1,
                                format_path(path) or None, "keys must be plain scalars")
                    )
                    continue
                key = self.loader.construct_object(key_node)
                key = key if isinstance(key, str) else str(key)
                child = (*path, key)
                if key in result:
                    self.problems.append(
                        Problem(self.doc_name, key_node.start_mark.line + 1, format_path(child),
                                f"duplicate key (first given on line {self.lines[child]})")
                    )
                    continue
                self.lines[child] = key_node.start_mark.line + 1
                result[key] = self.build(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                child = (*path, index)
                self.lines[child] = item.start_mark.line + 1
                items.append(self.build(item, child))
            return items
        return self.loader.construct_object(node)


def load_yaml(file: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Load one YAML document safely; on a syntax error return no document and the problem."""
    name = display or str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(name, None, None, f"cannot read: {exc}")]
    try:
        # libyaml when present: several times faster on big trees of manifests.
        return _load(text, file, name, _FAST)
    except yaml.YAMLError:
        pass
    try:
        # Errors come from the pure-Python parser, whose messages are the same everywhere.
        return _load(text, file, name, yaml.SafeLoader)
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
        node = loader.get_single_node()
        if node is None:
            return Document(file, name, None, {}), []
        builder = _Builder(loader, name)
        data = builder.build(node, ())
        builder.lines.setdefault((), node.start_mark.line + 1)
    finally:
        loader.dispose()
    return Document(file, name, data, builder.lines), builder.problems
