"""The user-level mirror map: upstream URL -> alternatives tried first.

``SKIFFBUILD_MIRRORS`` names a YAML file such as::

    https://gitlab.com/buildroot.org/buildroot.git:
      - /srv/mirrors/buildroot
      - https://git.example.com/buildroot.git

It belongs to the user's machine, not to the project: manifests keep naming
the real upstream, and a site with a local copy or an offline bundle points
the map at it. Nothing here is git-specific, so the download cache can use the
same map for tarball URLs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from skiffbuild.core.errors import Problem, ProblemsError, SkiffError
from skiffbuild.core.settings import ENV_MIRRORS

__all__ = ["ENV_VAR", "MirrorMap", "is_url", "load_mirror_map", "normalise_url"]

ENV_VAR = ENV_MIRRORS

_STR_TAG = "tag:yaml.org,2002:str"
# scheme://... or git's scp-like user@host:path; everything else is a local path.
_URL_RE = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|[^/\s:@]+@[^/\s:]+:)")


def is_url(text: str) -> bool:
    """True for a URL (``scheme://`` or ``user@host:path``), False for a local path."""
    return bool(_URL_RE.match(text))


def normalise_url(url: str) -> str:
    """The form URLs are compared in: ``https://x/y.git`` == ``https://x/y`` == ``https://x/y/``."""
    text = url.strip().rstrip("/")
    if text.endswith(".git"):
        text = text[: -len(".git")].rstrip("/")
    return text


@dataclass(frozen=True)
class MirrorMap:
    """Alternatives per upstream URL, keyed by ``normalise_url`` of the upstream."""

    entries: tuple[tuple[str, tuple[str, ...]], ...] = ()
    source: Path | None = None  # the YAML file it came from, for messages

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MirrorMap:
        """The map named by ``SKIFFBUILD_MIRRORS``; empty when it is unset or empty."""
        value = environ.get(ENV_VAR, "").strip()
        if not value:
            return cls()
        return load_mirror_map(Path(value).expanduser(), from_env=True)

    def alternatives(self, url: str) -> tuple[str, ...]:
        key = normalise_url(url)
        for upstream, alts in self.entries:
            if upstream == key:
                return alts
        return ()

    def candidates(self, url: str) -> tuple[str, ...]:
        """Where to look for ``url``, in order: its alternatives, then ``url`` itself."""
        key = normalise_url(url)
        seen = {key}
        out: list[str] = []
        for alt in self.alternatives(url):
            norm = normalise_url(alt)
            if norm not in seen:
                seen.add(norm)
                out.append(alt)
        out.append(url)
        return tuple(out)

    def rewrite(self, url: str) -> tuple[str, ...]:
        """Alternatives for a file URL (downloads): every entry whose upstream is
        ``url`` itself or a directory above it stands in for that part, longest
        upstream first; local paths become ``file://`` URLs."""
        text = url.strip()
        out: list[str] = []
        for upstream, alts in sorted(self.entries, key=lambda e: -len(e[0])):
            if text == upstream or text.startswith(upstream + "/"):
                rest = text[len(upstream):]
                for alt in alts:
                    base = alt if is_url(alt) else f"file://{alt}"
                    out.append(base.rstrip("/") + rest)
        return tuple(dict.fromkeys(out))

    def __bool__(self) -> bool:
        return bool(self.entries)


def _resolve_alternative(text: str, base: Path) -> str:
    if is_url(text):
        return text
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        path = base / path
    # normpath rather than resolve(): keep the user's symlinks, drop "a/../".
    return os.path.normpath(path)


def load_mirror_map(path: Path, *, from_env: bool = False) -> MirrorMap:
    """Load and validate a mirror map file; every problem is reported with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        where = f"{ENV_VAR} names {path}" if from_env else f"mirror map {path}"
        raise SkiffError(
            f"{where}, which does not exist",
            hint=f"create it, or unset {ENV_VAR}" if from_env else None,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SkiffError(f"cannot read mirror map {path}: {exc}") from None

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or str(exc)
        raise SkiffError(f"{path}{line}: invalid YAML: {reason}") from None

    if root is None:  # an empty file is an empty map
        return MirrorMap(source=path)
    if not isinstance(root, yaml.MappingNode):
        raise SkiffError(
            f"{path}:{root.start_mark.line + 1}: the top level must be a mapping "
            "of upstream URL to a list of alternatives"
        )

    problems: list[Problem] = []
    entries: list[tuple[str, tuple[str, ...]]] = []
    first_line: dict[str, int] = {}
    base = path.parent
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode) or not str(key_node.value).strip():
            problems.append(Problem(str(path), line, None, "a key must be an upstream URL"))
            continue
        key = str(key_node.value)
        norm = normalise_url(key)
        if norm in first_line:
            problems.append(
                Problem(str(path), line, key, f"duplicate of the entry on line {first_line[norm]}")
            )
            continue
        first_line[norm] = line
        if not isinstance(value_node, yaml.SequenceNode):
            problems.append(
                Problem(
                    str(path),
                    value_node.start_mark.line + 1,
                    key,
                    "must be a list of alternatives (local paths or URLs)",
                )
            )
            continue
        alts: list[str] = []
        for index, item in enumerate(value_node.value):
            if (
                not isinstance(item, yaml.ScalarNode)
                or item.tag != _STR_TAG
                or not item.value.strip()
            ):
                problems.append(
                    Problem(
                        str(path),
                        item.start_mark.line + 1,
                        f"{key}[{index}]",
                        "must be a string (a local path or a URL)",
                    )
                )
                continue
            alts.append(_resolve_alternative(item.value.strip(), base))
        entries.append((norm, tuple(alts)))

    if len(problems) == 1:
        raise SkiffError(str(problems[0]))
    if problems:
        raise ProblemsError(problems)
    return MirrorMap(entries=tuple(entries), source=path)
