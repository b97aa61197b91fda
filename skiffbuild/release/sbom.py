"""The bill of materials of a workspace's image: CycloneDX 1.6 JSON.

Written with cyclonedx-python-lib (the CycloneDX project's own library: its model keeps
the document valid by construction, and it carries the schema the result is checked
against), from what the pinned Buildroot itself says of the configuration (one
component per ``show-info`` entry, as Buildroot's ``utils/generate-cyclonedx`` makes
them, virtual packages included and marked), enriched with what skiffbuild knows and
Buildroot does not:

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
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cyclonedx.model import (
    AttachedText,
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import (
    Commit,
    Component,
    ComponentScope,
    ComponentType,
    Diff,
    Patch,
    PatchClassification,
    Pedigree,
)
from cyclonedx.model.issue import IssueClassification, IssueType
from cyclonedx.model.license import DisjunctiveLicense
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.spdx import is_supported_id
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL

from skiffbuild import __version__
from skiffbuild.core.errors import BuildError

__all__ = ["SbomInputs", "remote_url", "sbom_json", "sha256_of"]

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


def _licenses(text: str) -> list[DisjunctiveLicense]:
    found, depth, current = [], 0, ""
    for char in text + ",":  # Buildroot separates licences with commas outside parentheses
        if char == "," and depth == 0:
            if current.strip():
                found.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    return [DisjunctiveLicense(id=name) if is_supported_id(name) else DisjunctiveLicense(
        name=name) for name in found]


def _patches(paths: Iterable[str], inputs: SbomInputs) -> list[Patch]:
    patches = []
    for path in paths:
        if "://" in path:  # a <PKG>_PATCH download
            patches.append(Patch(type=PatchClassification.UNOFFICIAL,
                                 diff=Diff(url=XsUri(path))))
            continue
        name, file = _shown(path, inputs)
        try:
            text = file.read_text(errors="replace")
        except OSError:
            raise BuildError(f"{inputs.workspace}: cannot read the patch {name} that "
                             "Buildroot applies") from None
        resolves = [IssueType(type=IssueClassification.SECURITY, id=cve)
                    for cve in sorted(set(_CVE.findall(text.split("\n---", 1)[0])))]
        patches.append(Patch(type=PatchClassification.UNOFFICIAL, resolves=resolves,
                             diff=Diff(url=XsUri(name), text=AttachedText(
                                 content=text, content_type="text/x-diff"))))
    return patches


def _package(key: str, entry: Mapping[str, Any], sources: dict[tuple[str, str], dict[str, Any]],
             inputs: SbomInputs) -> Component:
    virtual = bool(entry.get("virtual"))
    props = [Property(name="buildroot:type", value=str(entry.get("type", ""))),
             Property(name="buildroot:virtual", value=str(virtual).lower())]
    refs, purl = [], None
    # A package built from a local tree downloads nothing (its tree's digest is below).
    downloads = [] if virtual or key in inputs.overrides else entry.get("downloads", [])
    for download in downloads:
        row = sources.get((entry.get("dl_dir", ""), download["source"]))
        sha = sha256_of(row) if row else None
        url = remote_url(download.get("uris", []), download["source"]) or download["source"]
        refs.append(ExternalReference(
            type=ExternalReferenceType.SOURCE_DISTRIBUTION, url=XsUri(url),
            comment=f"{entry.get('dl_dir', '')}/{download['source']}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)] if sha else []))
        if purl is None and not virtual:
            qualifiers = {"download_url": url}
            if sha:
                qualifiers["checksum"] = f"sha256:{sha}"
            purl = PackageURL(type="generic", name=str(entry.get("name") or key),
                              version=str(entry.get("version") or "") or None,
                              qualifiers=qualifiers)
    if key in inputs.overrides:
        props.append(Property(name="skiffbuild:override", value=inputs.overrides[key]))
    if not virtual and entry.get("redistributable") is False:
        props.append(Property(name="buildroot:redistributable", value="false"))
    host = str(entry.get("type", "")) == "host"
    patches = _patches(entry.get("patches", []), inputs) if not virtual else []
    return Component(
        bom_ref=key, type=ComponentType.LIBRARY, name=str(entry.get("name") or key),
        version=None if virtual else str(entry.get("version", "")) or None,
        licenses=[] if virtual else _licenses(str(entry.get("licenses", ""))),
        cpe=entry.get("cpe-id"), purl=purl, external_references=refs, properties=props,
        # Host tools build the image; they are not in it.
        scope=ComponentScope.EXCLUDED if host else ComponentScope.REQUIRED,
        pedigree=Pedigree(patches=patches) if patches else None)


def _document(inputs: SbomInputs, serial: uuid.UUID) -> str:
    info = inputs.show_info
    sources = {(row["dl_dir"], row["file"]): row for row in inputs.sources}
    packages = {key: _package(key, info[key], sources, inputs) for key in sorted(info)}
    br = inputs.buildroot
    buildroot = Component(
        bom_ref="pin:buildroot", type=ComponentType.FRAMEWORK, name="buildroot",
        version=br.get("tag") or br["commit"][:12],
        external_references=[ExternalReference(type=ExternalReferenceType.VCS,
                                               url=XsUri(br["url"]))],
        properties=[Property(name="skiffbuild:patch_digest", value=str(br["patch_digest"]))],
        pedigree=Pedigree(commits=[Commit(uid=br["commit"])],
                          patches=_patches([str(p) for p in br.get("patches", [])], inputs)
                          or None))
    layers = [Component(bom_ref=f"layer:{la['name']}", type=ComponentType.DATA,
                        name=la["name"], version=la["digest"][:12],
                        properties=[Property(name="skiffbuild:digest", value=la["digest"])])
              for la in inputs.layers]
    facts = {"skiffbuild:config.sha256": inputs.config_sha256,
             "skiffbuild:source_date_epoch": str(inputs.source_date_epoch),
             "skiffbuild:lock.sha256": inputs.lock_sha256,
             **{f"skiffbuild:toolchain.{k}": str(v) for k, v in inputs.toolchain.items()},
             **{f"skiffbuild:image.{name}.sha256": sha
                for name, sha in sorted((inputs.image or {}).items())}}
    disk = (inputs.image or {}).get(f"{inputs.workspace}.img")
    image = Component(
        bom_ref=f"image:{inputs.workspace}", type=ComponentType.FIRMWARE,
        name=inputs.workspace, version=disk[:12] if disk else "unbuilt",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=disk)] if disk else [],
        external_references=[ExternalReference(
            type=ExternalReferenceType.BUILD_META, url=XsUri("build-info.json"),
            comment="the image's build record, in the same directory")] if disk else [],
        properties=[Property(name=k, value=v) for k, v in sorted(facts.items()) if v])
    tool = Component(type=ComponentType.APPLICATION, name="skiffbuild", version=__version__,
                     bom_ref="tool:skiffbuild")
    meta = BomMetaData(component=image, tools=[], timestamp=datetime.fromtimestamp(
        inputs.source_date_epoch, tz=timezone.utc))
    meta.tools.components.add(tool)
    bom = Bom(serial_number=serial, metadata=meta,
              components=[buildroot, *layers, *packages.values()])
    for key, component in packages.items():
        deps = {d for d in info[key].get("dependencies", []) if d in packages}
        if deps:
            bom.register_dependency(component, [packages[d] for d in sorted(deps)])
    # The image is made of what is installed for the target, on the layers and the pin.
    shipped = [c for k, c in packages.items() if info[k].get("type") != "host"]
    bom.register_dependency(image, [buildroot, *layers, *shipped])
    return JsonV1Dot6(bom).output_as_string(indent=1)


def sbom_json(inputs: SbomInputs) -> str:
    """The document, schema-validated; the serial number is derived from the content."""
    draft = _document(inputs, uuid.UUID(int=0))
    serial = uuid.uuid5(_NAMESPACE, hashlib.sha256(draft.encode()).hexdigest())
    text = _document(inputs, serial) + "\n"
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if error is not None:
        raise BuildError(f"{inputs.workspace}: the SBOM does not validate against "
                         f"CycloneDX 1.6: {error}")
    return text
