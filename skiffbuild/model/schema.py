"""JSON Schema validation of manifests, with located, human-sized messages.

The schemas are files in the package (``skiffbuild/schemas/*.schema.json``) so
editors can use them too. A schema may carry ``x-message`` (replaces
jsonschema's wording for a failing value) and ``x-hint``.

``ValidMemo`` remembers (in ``cache/state/valid-manifests.json``) digests of
documents that passed, keyed on the schema text and the parsed content, so a
run over unchanged manifests neither validates them again nor imports
jsonschema: that import alone is a fifth of a no-op ``doit image:<ws>``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from skiffbuild.core.errors import Problem, closest
from skiffbuild.core.fsutil import atomic_write, digest_text
from skiffbuild.core.yamlload import Document

if TYPE_CHECKING:
    import jsonschema

__all__ = ["SCHEMAS", "ValidMemo", "schema", "valid_memo", "validate"]

SCHEMAS = ("board", "layer", "buildroot")


@cache
def _schema_text(kind: str) -> str:
    return resources.files("skiffbuild").joinpath(f"schemas/{kind}.schema.json").read_text()


@cache
def schema(kind: str) -> dict[str, Any]:
    return json.loads(_schema_text(kind))


@cache
def _validator(kind: str) -> jsonschema.protocols.Validator:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema(kind))
    return cls(schema(kind))


class ValidMemo:
    """Digests of documents known to pass their schema."""

    _LIMIT = 4096  # beyond this, keep only what the last run saw

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.known = set(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            self.known = set()
        self.seen: set[str] = set()

    @staticmethod
    def digest(kind: str, doc: Document) -> str:
        return digest_text(kind, _schema_text(kind),
                           json.dumps(doc.data, sort_keys=True, default=repr))

    def save(self) -> None:
        keep = self.known | self.seen
        if len(keep) > self._LIMIT:
            keep = self.seen
        if keep == self.known:
            return
        try:
            atomic_write(self.path, json.dumps(sorted(keep)) + "\n")
        except OSError:
            return  # a read-only checkout: validate every time
        self.known = keep


@cache
def valid_memo(state_dir: Path) -> ValidMemo:
    return ValidMemo(state_dir / "valid-manifests.json")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return str(value)


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string",
               "integer": "an integer", "boolean": "true or false", "number": "a number"}


def _messages(error: jsonschema.ValidationError, doc: Document) -> list[Problem]:
    path = tuple(error.absolute_path)
    subschema = error.schema if isinstance(error.schema, dict) else {}
    hint = subschema.get("x-hint")
    suffix = f" (hint: {hint})" if hint else ""

    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(subschema.get("properties", {}))
        extra = [k for k in error.instance if k not in subschema.get("properties", {})]
        problems = []
        for key in extra:
            guess = closest(key, known)
            text = f"unknown key '{key}'"
            if guess:
                text += f" (did you mean '{guess}'?)"
            elif known:
                text += f"; known keys: {', '.join(known)}"
            problems.append(doc.problem((*path, key), text))
        return problems
    if error.validator == "required":
        match = re.match(r"'(.*)' is a required property", error.message)
        missing = match.group(1) if match else error.message
        return [doc.problem(path, f"missing required key '{missing}'")]
    if "x-message" in subschema:
        return [doc.problem(path, f"{subschema['x-message']}, got {_describe(error.instance)}"
                            + suffix)]
    if error.validator == "type":
        wanted: Any = error.validator_value
        names = [_TYPE_NAMES.get(t, t) for t in ([wanted] if isinstance(wanted, str) else wanted)]
        return [doc.problem(path, f"must be {' or '.join(names)}, got {_describe(error.instance)}")]
    if error.validator == "enum":
        values: Any = error.validator_value
        options = ", ".join(str(v) for v in values)
        return [doc.problem(path, f"must be one of {options}, got {_describe(error.instance)}")]
    if error.validator == "propertyNames":
        return [doc.problem(path, f"invalid name {_describe(error.instance)}")]
    if error.validator in ("minItems", "minLength"):
        return [doc.problem(path, "must not be empty")]
    if error.validator == "not" and isinstance(error.instance, dict):
        return [doc.problem(path, "this combination of keys is not allowed for this filesystem "
                                  "(raw partitions take 'image', the others 'contents')")]
    return [doc.problem(path, error.message + suffix)]


def _misspelt(error: jsonschema.ValidationError) -> set[str]:
    """The known keys an ``additionalProperties`` error's unknown keys are near misses of,
    when the mapping lacks them (``layer:`` for a missing ``layers:``)."""
    subschema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return set()
    known = list(subschema.get("properties", {}))
    guesses = {closest(key, known) for key in error.instance if key not in known}
    return {g for g in guesses if g is not None and g not in error.instance}


_CONDITIONAL = {"if", "then", "else", "not"}


def _without_consequences(errors: list[jsonschema.ValidationError],
                          ) -> list[jsonschema.ValidationError]:
    """One misspelt key is one error: where a mapping has an unknown key that is a near
    miss of a key it lacks, the "missing required key" for that key and the conditional
    rules (``if``/``then``, ``not``) evaluated without it are consequences, not left."""
    misspelt: dict[tuple[Any, ...], set[str]] = {}
    for error in errors:
        keys = _misspelt(error)
        if keys:
            misspelt.setdefault(tuple(error.absolute_path), set()).update(keys)
    kept = []
    for error in errors:
        near = misspelt.get(tuple(error.absolute_path))
        if near is not None and error.validator != "additionalProperties":
            if error.validator == "required":
                match = re.match(r"'(.*)' is a required property", error.message)
                if match and match.group(1) in near:
                    continue
            if _CONDITIONAL & {str(p) for p in error.absolute_schema_path}:
                continue
        kept.append(error)
    return kept


def validate(kind: str, doc: Document, memo: ValidMemo | None = None) -> list[Problem]:
    """All schema problems of ``doc``, each with file, line and key path."""
    if doc.data is None:
        return [Problem(doc.display, 1, None, "the file is empty")]
    digest = ValidMemo.digest(kind, doc) if memo is not None else ""
    if memo is not None and digest in memo.known:
        memo.seen.add(digest)
        return []
    problems: list[Problem] = []
    errors = sorted(_validator(kind).iter_errors(doc.data), key=lambda e: list(map(str, e.path)))
    for error in _without_consequences(errors):
        problems.extend(_messages(error, doc))
    if memo is not None and not problems:
        memo.seen.add(digest)
    return problems
