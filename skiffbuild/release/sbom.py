"""The bill of materials of a workspace's image: CycloneDX 1.6 JSON.

Written as plain JSON (its bytes depend on the inputs only, never on what is installed),
and checked against CycloneDX 1.6's schema with cyclonedx-python-lib where that optional
library is installed; made from what the pinned Buildroot itself says of the configuration (one
component per ``show-info`` entry, virtual packages included and marked, host packages
with scope ``excluded``), enriched with what skiffbuild knows and Buildroot does not:

- every download with the sha256 skiffbuild verified (the same rows and hashes as
  ``skiffbuild sources <ws> --json``), as the package's source-distribution reference and
  in a generic package URL;
- each package's patches (content, and the CVEs their headers say they resolve);
- the Buildroot pin (URL, commit, tag, its patch series), the layers with their content
  digests, the toolchain, packages built from a local tree (override) with its digest;
- the image: the disk's and every partition's sha256, ``skiffbuild.lock``'s, the
  configuration's (with the project's own path replaced, so that the same configuration
  anywhere has one digest), and a reference to the image's ``build-info.json`` (by name:
  that record also holds facts of the build machine, such as host tool versions, which
  are not inputs and may differ between identical builds).

Identical inputs give identical bytes: no clock (the timestamp is
``SOURCE_DATE_EPOCH``), no path outside the project, the serial number derived from the
content. ``image:<ws>`` writes ``image/sbom.cdx.json``; ``skiffbuild sbom <ws>`` prints
it for any configured workspace, before a build too.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skiffbuild import __version__
from skiffbuild.core.errors import BuildError

__all__ = ["SbomInputs", "remote_url", "sbom_json", "schema_errors", "sha256_of"]

# A fixed namespace: the serial number is uuid5(namespace, digest of the content).
_NAMESPACE = uuid.UUID("0b6c1f0e-5d9a-4f43-a3f1-736b69666662")
_CVE = re.compile(r"^CVE: +(CVE-\d{4}-\d+)", re.MULTILINE)


@dataclass(frozen=True)
class SbomInputs:
    """Everything the document says, gathered by the caller (no I/O here but reading
    the patch files named)."""

    workspace: str
    show_info: Mapping[str, Any]
    sources: list[dict[str, Any]]  # rows of ``skiffbuild sources <ws> --json``
    source_date_epoch: int
    buildroot: dict[str, Any]  # url, commit, tag, patch_digest, patches (paths)
    layers: list[dict[str, str]]  # name, digest
    config_sha256: str
    tree: Path  # the Buildroot tree, to read relative patch paths from
    roots: tuple[tuple[str, Path], ...]  # (shown prefix, directory) for absolute paths
    toolchain: dict[str, Any]
    overrides: Mapping[str, str]  # package built from a local tree -> the tree's digest
    lock_sha256: str | None = None
    image: dict[str, str] | None = None  # name -> sha256 (SHA256SUMS), when built


def _shown(path: str, inputs: SbomInputs) -> tuple[str, Path]:
    """A patch's name in the document (never an absolute path) and where to read it."""
    p = Path(path)
    if not p.is_absolute():
        return path, inputs.tree / p
    for prefix, root in inputs.roots:
        try:
            return f"{prefix}{p.relative_to(root)}", p
        except ValueError:
            continue
    return p.name, p


def sha256_of(row: Mapping[str, Any]) -> str | None:
    """The sha256 of a row of ``skiffbuild sources --json``, if it has one."""
    return next((h["hash"] for h in row.get("hashes", []) if h.get("type") == "sha256"), None)


def remote_url(uris: Iterable[str], file: str) -> str | None:
    """Where ``file`` comes from: its first site (Buildroot's ``backend+base`` form) that
    is not on this machine. A ``file`` or ``local`` site is a path here, which neither
    the SBOM nor the provenance statement may name."""
    for uri in uris:
        backend, plus, base = str(uri).partition("+")
        if plus and backend.split("|")[0] not in ("file", "local"):
            return f"{base.rstrip('/')}/{file}"
    return None


def _licenses(text: str) -> list[dict[str, Any]]:
    """Buildroot's licence list, split where it separates licences (commas outside
    parentheses). Each is given by name, as Buildroot writes it: an SPDX ``id`` must be one
    of the SPDX list's, and no copy of that list is at hand on an offline build machine; a
    document whose form depended on what is installed would not be reproducible."""
    found, depth, current = [], 0, ""
    for char in text + ",":
        if char == "," and depth == 0:
            if current.strip():
                found.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    return [{"license": {"name": name}} for name in found]


def _purl(name: str, version: str | None, qualifiers: Mapping[str, str]) -> str:
    """A generic package URL (purl spec: name and version percent-encoded, qualifiers
    sorted by key, ``:`` and ``/`` kept in their values)."""
    text = f"pkg:generic/{quote(name, safe='')}"
    if version:
        text += f"@{quote(version, safe='')}"
    if qualifiers:
        text += "?" + "&".join(f"{key}={quote(value, safe=':/')}"
                               for key, value in sorted(qualifiers.items()) if value)
    return text


def _sha256(content: str) -> list[dict[str, str]]:
    return [{"alg": "SHA-256", "content": content}]


def _properties(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


def _patches(paths: Iterable[str], inputs: SbomInputs) -> list[dict[str, Any]]:
    patches: list[dict[str, Any]] = []
    for path in paths:
        if "://" in path:  # a <PKG>_PATCH download
            patches.append({"type": "unofficial", "diff": {"url": path}})
            continue
        name, file = _shown(path, inputs)
        try:
            text = file.read_text(errors="replace")
        except OSError:
            raise BuildError(f"{inputs.workspace}: cannot read the patch {name} that "
                             "Buildroot applies") from None
        patch: dict[str, Any] = {"type": "unofficial", "diff": {
            "text": {"contentType": "text/x-diff", "content": text}, "url": name}}
        cves = sorted(set(_CVE.findall(text.split("\n---", 1)[0])))
        if cves:
            patch["resolves"] = [{"type": "security", "id": cve} for cve in cves]
        patches.append(patch)
    return patches


def _package(key: str, entry: Mapping[str, Any], sources: dict[tuple[str, str], dict[str, Any]],
             inputs: SbomInputs) -> dict[str, Any]:
    virtual = bool(entry.get("virtual"))
    name = str(entry.get("name") or key)
    version = None if virtual else str(entry.get("version", "")) or None
    props = [("buildroot:type", str(entry.get("type", ""))),
             ("buildroot:virtual", str(virtual).lower())]
    refs: list[dict[str, Any]] = []
    purl = None
    # A package built from a local tree downloads nothing (its tree's digest is below).
    downloads = [] if virtual or key in inputs.overrides else entry.get("downloads", [])
    for download in downloads:
        row = sources.get((entry.get("dl_dir", ""), download["source"]))
        sha = sha256_of(row) if row else None
        url = remote_url(download.get("uris", []), download["source"]) or download["source"]
        ref: dict[str, Any] = {"url": url, "comment": f"{entry.get('dl_dir', '')}/"
                               f"{download['source']}", "type": "source-distribution"}
        if sha:
            ref["hashes"] = _sha256(sha)
        refs.append(ref)
        if purl is None and not virtual:
            purl = _purl(name, version, {"download_url": url,
                                         "checksum": f"sha256:{sha}" if sha else ""})
    if key in inputs.overrides:
        props.append(("skiffbuild:override", inputs.overrides[key]))
    if not virtual and entry.get("redistributable") is False:
        props.append(("buildroot:redistributable", "false"))
    component: dict[str, Any] = {"type": "library", "bom-ref": key, "name": name}
    if version:
        component["version"] = version
    # Host tools build the image; they are not in it.
    component["scope"] = "excluded" if entry.get("type") == "host" else "required"
    licenses = [] if virtual else _licenses(str(entry.get("licenses", "")))
    if licenses:
        component["licenses"] = licenses
    if entry.get("cpe-id"):
        component["cpe"] = str(entry["cpe-id"])
    if purl:
        component["purl"] = purl
    if refs:
        component["externalReferences"] = refs
    component["properties"] = _properties(sorted(props))
    patches = _patches(entry.get("patches", []), inputs) if not virtual else []
    if patches:
        component["pedigree"] = {"patches": patches}
    return component


def _document(inputs: SbomInputs, serial: uuid.UUID) -> str:
    info = inputs.show_info
    sources = {(row["dl_dir"], row["file"]): row for row in inputs.sources}
    packages = {key: _package(key, info[key], sources, inputs) for key in sorted(info)}
    br = inputs.buildroot
    pedigree: dict[str, Any] = {"commits": [{"uid": br["commit"]}]}
    pin_patches = _patches([str(p) for p in br.get("patches", [])], inputs)
    if pin_patches:
        pedigree["patches"] = pin_patches
    buildroot = {
        "type": "framework", "bom-ref": "pin:buildroot", "name": "buildroot",
        "version": br.get("tag") or br["commit"][:12],
        "externalReferences": [{"url": br["url"], "type": "vcs"}],
        "properties": _properties([("skiffbuild:patch_digest", str(br["patch_digest"]))]),
        "pedigree": pedigree}
    layers = [{"type": "data", "bom-ref": f"layer:{la['name']}", "name": la["name"],
               "version": la["digest"][:12],
               "properties": _properties([("skiffbuild:digest", la["digest"])])}
              for la in inputs.layers]
    facts = {"skiffbuild:config.sha256": inputs.config_sha256,
             "skiffbuild:source_date_epoch": str(inputs.source_date_epoch),
             "skiffbuild:lock.sha256": inputs.lock_sha256,
             **{f"skiffbuild:toolchain.{k}": str(v) for k, v in inputs.toolchain.items()},
             **{f"skiffbuild:image.{name}.sha256": sha
                for name, sha in sorted((inputs.image or {}).items())}}
    disk = (inputs.image or {}).get(f"{inputs.workspace}.img")
    image: dict[str, Any] = {"type": "firmware", "bom-ref": f"image:{inputs.workspace}",
                             "name": inputs.workspace,
                             "version": disk[:12] if disk else "unbuilt"}
    if disk:
        image["hashes"] = _sha256(disk)
        image["externalReferences"] = [{
            "url": "build-info.json", "comment": "the image's build record, in the same "
            "directory", "type": "build-meta"}]
    image["properties"] = _properties((k, v) for k, v in sorted(facts.items()) if v)
    timestamp = datetime.fromtimestamp(inputs.source_date_epoch, tz=timezone.utc)
    dependencies = [{"ref": key, "dependsOn": deps} for key in packages
                    if (deps := sorted({d for d in info[key].get("dependencies", [])
                                        if d in packages}))]
    # The image is made of what is installed for the target, on the layers and the pin.
    dependencies.append({"ref": image["bom-ref"], "dependsOn": [
        "pin:buildroot", *(la["bom-ref"] for la in layers),
        *(k for k in packages if info[k].get("type") != "host")]})
    bom = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": serial.urn,
        "version": 1,
        "metadata": {"timestamp": timestamp.isoformat(),
                     "tools": {"components": [{"type": "application",
                                               "bom-ref": "tool:skiffbuild",
                                               "name": "skiffbuild",
                                               "version": __version__}]},
                     "component": image},
        "components": [buildroot, *layers, *packages.values()],
        "dependencies": dependencies,
    }
    return json.dumps(bom, indent=1, ensure_ascii=False)


def schema_errors(text: str) -> str | None:
    """What CycloneDX 1.6's schema says is wrong with ``text`` (None: nothing), checked
    with cyclonedx-python-lib, which carries the schema. Raises ImportError when that
    optional library (``skiffbuild[sbom-check]``) is not installed."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)


def sbom_json(inputs: SbomInputs) -> str:
    """The document; the serial number is derived from the content. Checked against the
    CycloneDX schema when cyclonedx-python-lib is installed (the check never changes the
    bytes)."""
    draft = _document(inputs, uuid.UUID(int=0))
    serial = uuid.uuid5(_NAMESPACE, hashlib.sha256(draft.encode()).hexdigest())
    text = _document(inputs, serial) + "\n"
    try:
        error = schema_errors(text)
    except ImportError:
        return text
    if error is not None:
        raise BuildError(f"{inputs.workspace}: the SBOM does not validate against "
                         f"CycloneDX 1.6: {error}")
    return text
