"""update:<ws>: a signed RAUC update bundle from the workspace's image build.

The bundle is RAUC's own format, made by ``rauc bundle`` and checked after signing with
``rauc info --keyring``, the field tool's own reader. Its content directory holds
``manifest.raucm`` (``[update]`` compatible, version, a description, ``build`` = the disk
image's sha256; ``[bundle] format``; an ``[image.<slot class>]`` per slot; a
``[meta.skiffbuild]`` section, kept by RAUC >= 1.9 and dropped by 1.8), the slot images
(files of Buildroot's images directory, checked against the digests the image build
recorded; ``partition:<name>``: an assembled partition's image, checked against its
``SHA256SUMS`` digest, e.g. a whole A/B slot) and ``skiffbuild-info.json`` (the image
digests of ``build-info.json``, the Buildroot commit, the layer chain): signed with the
rest whatever RAUC's version.

Reproducible payload: the content directory is normalised (modes 0644/0755, owner 0:0,
every time the build's ``SOURCE_DATE_EPOCH``), ``rauc bundle`` and its mksquashfs run
with that ``SOURCE_DATE_EPOCH`` and fixed compression options, so two builds of the same
inputs give the same squashfs, byte for byte. What stock RAUC appends after it differs
(``bundle_regions`` names every region): the dm-verity hash tree (a random salt per
bundle, no option to fix it), and in the CMS signature the signed manifest's
``verity-hash``/``verity-salt`` values, the signingTime, the messageDigest and the
signature value. The development key is RSA: its signatures have one length, so two
bundles have one size.

Keys: ``update.signing`` names files (read in place, never copied) or PKCS#11 URIs
(passed to rauc as given, the module through ``RAUC_PKCS11_MODULE``). Without it a
development key pair is made once in ``cache/update-keys/dev/``; its certificate's CN
and every bundle signed with it say "DEVELOPMENT KEY — not for production", and each
use prints a warning.

Outputs in ``workspaces/<ws>/update/``: ``<ws>-<version>.raucb``, its ``.sha256`` and
``update-info.json`` (sizes, digests; written last: a directory with it is complete). The
image's ``build-info.json`` gets an ``update`` section (the bundle, its sizes, and each
install ``skiffbuild push`` made: device, slot, seconds); the bundle depends only on the
rest of that file (``image_facts``), so recording an install rebuilds nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write, durable_replace, locked, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.runner import child_environment, query, run
from skiffbuild.core.updatekeys import DEV_MARK, Keys, development_keys
from skiffbuild.image.published import PublishedIntact
from skiffbuild.model.manifest import PARTITION_PREFIX
from skiffbuild.model.model import ImageLayout, Layer, UpdateSpec
from skiffbuild.model.plan import Workspace
from skiffbuild.release.updatehooks import (
    DISPATCHER,
    RAUC_BUNDLE_HOOKS,
    RAUC_SLOT_HOOKS,
    install_hooks,
    run_bundle_hooks,
    stage_install_hooks,
)

__all__ = ["DEV_MARK", "INFO_FILE", "BundleIntact", "BundleRegions", "Keys", "bundle_regions",
           "build_update", "development_keys", "differing_regions", "image_facts",
           "make_bundle", "normalise", "published_bundle", "record_install", "release_keys",
           "resolve_version", "slot_source", "stage_bundle", "verify_bundle"]

INFO_FILE = "update-info.json"
META_FILE = "skiffbuild-info.json"
BUILD_INFO = "build-info.json"
# build-info.json keeps the last installs, not every one a test rig ever made.
_INSTALLS_KEPT = 20
# Pinned, not mksquashfs's defaults: the same payload from another squashfs-tools release.
_MKSQUASHFS_ARGS = "-comp gzip -b 131072 -reproducible"
_PLACEHOLDER = re.compile(r"\{(epoch|date|commit|image)\}")


# ---------------------------------------------------------------------- keys


def release_keys(ws: Workspace, project: Project, spec: UpdateSpec) -> Keys:
    """The board's own key, checked to exist; a key file in the project is named."""
    signing = spec.signing
    assert signing is not None
    where = f"{project.display(ws.board.manifest)}:{spec.line or '?'}: update.signing"
    for name, value in (("key", signing.key), ("cert", signing.cert),
                        ("keyring", signing.keyring)):
        if value and not value.startswith("pkcs11:") and not Path(value).is_file():
            raise SkiffError(f"{where}.{name}: no file {value}")
    keyring = signing.keyring or signing.cert
    return Keys(signing.key, signing.cert, keyring, development=False,
                pkcs11_module=signing.pkcs11_module)


# ------------------------------------------------------------------- staging


def resolve_version(template: str, info: dict[str, Any], ws: str) -> str:
    """``{epoch}``, ``{date}``, ``{commit}`` and ``{image}`` from build-info.json."""
    epoch = int(info["source_date_epoch"])
    values = {
        "epoch": str(epoch),
        "date": datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y%m%d"),
        "commit": str(info["buildroot"]["commit"])[:12],
        "image": str(info["sha256"][f"{ws}.img"])[:12],
    }
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


def _ini(value: str) -> str:
    """A value for RAUC's key file (GLib): one line, no escapes."""
    if any(c in value for c in "\\\n\r") or value != value.strip():
        raise SkiffError(f"cannot write {value!r} into manifest.raucm")
    return value


def slot_source(rel: str, layout: ImageLayout | None, images: Path,
                image_dir: Path) -> tuple[Path, Path, str, str]:
    """Where an ``update.slots`` value's file is: (its directory, the file, the key of
    build-info.json's record that holds its digest, that key's name in the record).
    ``partition:<name>`` is the image of an assembled partition (an A/B entry's: its first
    slot's), any other value a file of Buildroot's images directory."""
    if not rel.startswith(PARTITION_PREFIX):
        return images, images / rel, "buildroot_images", rel
    name = rel[len(PARTITION_PREFIX):]
    part = layout.assembled(name) if layout is not None else None
    if part is None:
        raise SkiffError(f"no partition '{name}' in the image layout")
    return image_dir, image_dir / part.image_file, "sha256", part.image_file


def stage_bundle(spec: UpdateSpec, ws: str, description: str, images: Path,
                 info: dict[str, Any], staging: Path, version: str,
                 development: bool, layout: ImageLayout | None = None,
                 image_dir: Path | None = None,
                 install: Sequence[tuple[Layer, Path]] = ()) -> dict[str, dict[str, str]]:
    """Fill ``staging`` with manifest.raucm, the slot images, skiffbuild-info.json and
    the layers' ``install`` hooks (``release.updatehooks``), normalised for a reproducible
    squashfs. Returns each slot's file and sha256. ``partition:`` slots are read from
    ``image_dir`` (image:<ws>'s output) by ``layout``."""
    staging.mkdir(parents=True)
    hooked = stage_install_hooks(install, staging, ws)
    slots: dict[str, dict[str, str]] = {}
    for slot, rel in spec.slots:
        base, source, record, key = slot_source(rel, layout, images,
                                                image_dir or images.parent)
        real, root = os.path.realpath(source), os.path.realpath(base)
        if not real.startswith(root + os.sep):
            raise SkiffError(f"{ws}: update slot {slot}: {rel} leads outside the "
                             f"{'images' if base == images else 'image'} directory")
        if not source.is_file():
            raise SkiffError(f"{ws}: update slot {slot}: no file {key} in {base}",
                             hint="check update.slots against what the build produced")
        name = source.name
        if any(s["file"] == name for s in slots.values()):
            raise SkiffError(f"{ws}: update slots {slot} and another both take a file "
                             f"named {name}")
        shutil.copyfile(source, staging / name)
        digest = sha256_file(staging / name)
        if info.get(record, {}).get(key) != digest:
            shown = rel if key == rel else f"{rel} ({key})"
            raise SkiffError(f"{ws}: update slot {slot}: {shown} is not the file image:{ws} "
                             "recorded in build-info.json (changed or rebuilt since)",
                             hint=f"run: doit image:{ws} update:{ws}")
        slots[slot] = {"file": name, "image": key, "sha256": digest}
    key = "development" if development else "release"
    text = (f"{DEV_MARK}: " if development else "") + f"skiffbuild {ws}: {description}"
    lines = ["[update]", f"compatible={_ini(spec.compatible)}", f"version={_ini(version)}",
             f"description={_ini(text)}", f"build={info['sha256'][f'{ws}.img']}", "",
             "[bundle]", f"format={spec.format}", ""]
    if hooked:
        lines += ["[hooks]", f"filename={DISPATCHER}", f"hooks={RAUC_BUNDLE_HOOKS}", ""]
    for slot, entry in slots.items():
        lines += [f"[image.{slot}]", f"filename={entry['file']}",
                  *([f"hooks={RAUC_SLOT_HOOKS}"] if hooked else []), ""]
    meta = {"workspace": ws, "key": key, "buildroot-commit": info["buildroot"]["commit"],
            "source-date-epoch": str(info["source_date_epoch"]),
            "layers": " ".join(la["name"] for la in info.get("layers", ())),
            **{f"image-{re.sub(r'[^A-Za-z0-9-]', '-', name)}-sha256": digest
               for name, digest in sorted(info["sha256"].items())}}
    lines += ["[meta.skiffbuild]", *(f"{k}={_ini(v)}" for k, v in meta.items())]
    (staging / "manifest.raucm").write_text("\n".join(lines) + "\n")
    document = {"compatible": spec.compatible, "version": version, "workspace": ws,
                "key": key, "slots": slots, "image_sha256": info["sha256"],
                "buildroot": info["buildroot"], "layers": info.get("layers", []),
                "source_date_epoch": info["source_date_epoch"]}
    if development:
        document["warning"] = DEV_MARK
    (staging / META_FILE).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    normalise(staging, int(info["source_date_epoch"]))
    return slots


def normalise(staging: Path, epoch: int) -> None:
    """Modes 0644, or 0755 for directories and executables; owner 0:0; every time
    ``epoch``: what mksquashfs records is then the same from any build."""
    for path in [*sorted(staging.rglob("*"), reverse=True), staging]:
        if path.is_symlink():
            raise SkiffError(f"the update bundle may not hold a symlink: "
                             f"{path.relative_to(staging)}")
        # The owner's x bit, not os.access: that says no on a noexec build file system.
        executable = path.is_dir() or bool(path.stat().st_mode & stat.S_IXUSR)
        path.chmod(0o755 if executable else 0o644)
        if os.geteuid() == 0:
            os.lchown(path, 0, 0)
        os.utime(path, (epoch, epoch), follow_symlinks=False)


# ------------------------------------------------------------ rauc bundle / info


def _env(epoch: int, keys: Keys) -> dict[str, str]:
    # Inherited (RAUC_PKCS11_PIN, RAUC_KEY_PASSPHRASE, OPENSSL_CONF), with a fixed epoch,
    # locale and time zone.
    extra = {"SOURCE_DATE_EPOCH": str(epoch), "LC_ALL": "C", "TZ": "UTC"}
    if keys.pkcs11_module:
        extra["RAUC_PKCS11_MODULE"] = keys.pkcs11_module
    return child_environment(extra)


def make_bundle(staging: Path, out: Path, keys: Keys, epoch: int, log: Path) -> None:
    """``rauc bundle`` of ``staging`` into ``out`` (which must not exist)."""
    run(["rauc", "bundle", f"--cert={keys.cert}", f"--key={keys.key}",
         f"--mksquashfs-args={_MKSQUASHFS_ARGS}", staging, out],
        log=log, env=_env(epoch, keys), what="rauc bundle")


def verify_bundle(bundle: Path, keyring: str, keys: Keys | None = None) -> dict[str, Any]:
    """``rauc info --keyring``: the signature checked against ``keyring``; its JSON."""
    env = _env(0, keys) if keys else None
    out = query(["rauc", "info", f"--keyring={keyring}", "--output-format=json", bundle],
                env=env, what=f"rauc info --keyring={keyring} {bundle.name}")
    result: dict[str, Any] = json.loads(out)
    return result


# --------------------------------------------------------------- bundle layout


@dataclass(frozen=True)
class BundleRegions:
    """Byte ranges [start, end) of a RAUC bundle: ``payload`` (the squashfs), ``verity``
    (the dm-verity hash tree; empty for plain), ``cms`` (the signature), ``trailer``
    (its size, 8 bytes big-endian), and inside the CMS the ``signed_manifest`` (verity
    format), ``signing_time``, ``message_digest`` and ``signature_value``."""

    size: int
    payload: tuple[int, int]
    verity: tuple[int, int]
    cms: tuple[int, int]
    trailer: tuple[int, int]
    signed_manifest: tuple[int, int] | None
    signing_time: tuple[int, int] | None
    message_digest: tuple[int, int] | None
    signature_value: tuple[int, int] | None

    def named(self) -> list[tuple[str, tuple[int, int]]]:
        """Innermost first, so the first that holds an offset names it."""
        inner = [("signed_manifest", self.signed_manifest), ("signing_time", self.signing_time),
                 ("message_digest", self.message_digest),
                 ("signature_value", self.signature_value)]
        return [*((n, r) for n, r in inner if r is not None), ("payload", self.payload),
                ("verity", self.verity), ("cms", self.cms), ("trailer", self.trailer)]

    def region_of(self, offset: int) -> str:
        return next(name for name, (a, b) in self.named() if a <= offset < b)


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the DER element at ``pos``."""
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length == 0x80:
        raise ValueError("indefinite length: not DER")
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("DER element longer than the signature")
    return tag, pos, pos + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found, pos = [], start
    while pos < end:
        element = _tlv(data, pos)
        found.append(element)
        pos = element[2]
    return found


_SIGNING_TIME = bytes.fromhex("2a864886f70d010905")  # 1.2.840.113549.1.9.5
_MESSAGE_DIGEST = bytes.fromhex("2a864886f70d010904")  # 1.2.840.113549.1.9.4


def bundle_regions(bundle: Path) -> BundleRegions:
    """Where each part of a RAUC bundle lies (its layout: RAUC's docs, "Bundle format")."""
    data = bundle.read_bytes()
    size = len(data)
    cms_size = int.from_bytes(data[-8:], "big")
    cms_start = size - 8 - cms_size
    if cms_size <= 0 or cms_start < 0:
        raise ValueError(f"{bundle}: no RAUC signature trailer")
    _, sd_start, sd_end = _tlv(data, cms_start)  # ContentInfo
    _oid, explicit = _children(data, sd_start, sd_end)[:2]
    signed = _children(data, *_tlv(data, explicit[1])[1:])  # SignedData's fields
    encap = _children(data, signed[2][1], signed[2][2])
    manifest = None
    if len(encap) > 1:  # eContent [0] EXPLICIT OCTET STRING: the signed manifest (verity)
        octets = _tlv(data, encap[1][1])
        manifest = (octets[1], octets[2])
    signer = _children(data, *signed[-1][1:])[0]
    fields = _children(data, signer[1], signer[2])
    times = digest = None
    for _tag, a_start, a_end in (_children(data, fields[3][1], fields[3][2])
                                 if fields[3][0] == 0xA0 else []):
        oid, values = _children(data, a_start, a_end)[:2]
        value = _children(data, values[1], values[2])[0]
        if data[oid[1]:oid[2]] == _SIGNING_TIME:
            times = (value[1], value[2])
        elif data[oid[1]:oid[2]] == _MESSAGE_DIGEST:
            digest = (value[1], value[2])
    signature = (fields[-1][1], fields[-1][2]) if fields[-1][0] == 0x04 else None
    verity_size = 0
    if manifest is not None:
        text = data[manifest[0]:manifest[1]].decode(errors="replace")
        found = re.search(r"^verity-size=(\d+)$", text, re.MULTILINE)
        verity_size = int(found.group(1)) if found else 0
    payload_end = cms_start - verity_size
    return BundleRegions(size, (0, payload_end), (payload_end, cms_start),
                         (cms_start, size - 8), (size - 8, size), manifest, times, digest,
                         signature)


def differing_regions(first: Path, second: Path) -> dict[str, int]:
    """How many bytes differ between two bundles, per region of the first (a size
    difference counts as ``length``)."""
    a, b = first.read_bytes(), second.read_bytes()
    regions = bundle_regions(first)
    counts: dict[str, int] = {}
    if len(a) != len(b):
        counts["length"] = abs(len(a) - len(b))
    for offset in range(min(len(a), len(b))):
        if a[offset] != b[offset]:
            name = regions.region_of(offset)
            counts[name] = counts.get(name, 0) + 1
    return counts


# ------------------------------------------------------------------- the task


def _outputs(directory: Path) -> tuple[str, Path] | None:
    try:
        name = str(json.loads((directory / INFO_FILE).read_text())["bundle"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if "/" in name or name.startswith("."):
        return None
    return name, directory / f"{name}.sha256"


class BundleIntact:
    """update:<ws>'s up-to-date check: the bundle update-info.json names still matches
    its ``.sha256`` (its name holds the version, known only after image:<ws>), and the
    image's build-info.json says what it said when the bundle was made, its ``update``
    section aside (``image_facts``: the section records installs)."""

    KEY = PublishedIntact.KEY
    FACTS = "_image_facts"

    def __init__(self, directory: Path, build_info: Path) -> None:
        self.directory = directory
        self.build_info = build_info

    def configure_task(self, task: Any) -> None:
        task.value_savers.append(self.saved)

    def saved(self) -> dict[str, Any]:
        found = _outputs(self.directory)
        return {self.KEY: PublishedIntact(found[1]).identities() if found else {},
                self.FACTS: image_facts(self.build_info)}

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        found = _outputs(self.directory)
        return found is not None and values.get(self.FACTS) == image_facts(self.build_info) \
            and _names_bundle(self.build_info, found[0]) \
            and PublishedIntact(found[1])(task, values)

    def __repr__(self) -> str:
        return (f"the bundle named in {self.directory / INFO_FILE} matches its .sha256, and "
                f"{self.build_info} is unchanged but for its update section")


def _names_bundle(build_info: Path, name: str) -> bool:
    """Its update section names the bundle (image: rewrote build-info.json without it,
    say, with the same image: update: then writes the section again)."""
    try:
        return bool(json.loads(build_info.read_text())["update"]["bundle"] == name)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def image_facts(build_info: Path) -> str | None:
    """sha256 of build-info.json's content without its ``update`` section (canonical
    JSON), or None when it is missing or unreadable."""
    try:
        info = json.loads(build_info.read_text())
        info.pop("update", None)
    except (OSError, ValueError, AttributeError):
        return None
    return hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()


def published_bundle(ws: Workspace) -> tuple[Path, dict[str, Any]]:
    """The bundle update:<ws> made, checked against its ``.sha256``, and its record."""
    found = _outputs(ws.paths.update_dir)
    hint = f"run: doit update:{ws.name}"
    if found is None:
        raise SkiffError(f"workspace '{ws.name}' has no update bundle", hint=hint)
    bundle = ws.paths.update_dir / found[0]
    record = json.loads((ws.paths.update_dir / INFO_FILE).read_text())
    if not PublishedIntact(found[1])(None, {}):
        raise SkiffError(f"{bundle} does not match {found[1].name} (changed or removed "
                         "since update: made it)", hint=hint)
    return bundle, record


def _edit_build_info(ws: Workspace, change: Callable[[dict[str, Any]], None]) -> str | None:
    """Apply ``change`` to build-info.json's ``update`` section, under a lock (two pushes,
    or a push and update:, each read and rewrite it). Returns why it could not, or None:
    the update itself happened either way, so this never fails the command."""
    path = ws.paths.image_dir / BUILD_INFO
    with locked(ws.paths.image_dir.parent / ".build-info.lock"):
        try:
            info = json.loads(path.read_text())
            if not isinstance(info, dict):
                raise ValueError("not a JSON object")
            if not isinstance(info.get("update"), dict):
                info["update"] = {}
            change(info)
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            return f"cannot record it in {path}: {exc}"
        atomic_write(path, json.dumps(info, indent=1) + "\n")
    return None


def record_install(ws: Workspace, install: dict[str, Any], *,
                   replace_last: bool = False) -> str | None:
    """Add one ``skiffbuild push`` install to build-info.json's ``update.installs`` (the
    last ``_INSTALLS_KEPT``); ``replace_last``: the same install, now with what the reboot
    showed. Returns why it could not be recorded, or None."""
    def change(info: dict[str, Any]) -> None:
        section = info["update"]
        installs = section.get("installs")
        installs = [i for i in installs if isinstance(i, dict)] \
            if isinstance(installs, list) else []
        if replace_last and installs and installs[-1].get("date") == install.get("date"):
            installs.pop()
        section["installs"] = [*installs, install][-_INSTALLS_KEPT:]
    return _edit_build_info(ws, change)


def build_update(ws: Workspace, project: Project, echo: Callable[[str], None]) -> Path:
    """The update:<ws> action. Returns the bundle's path."""
    spec = ws.board.update
    if spec is None:
        raise SkiffError(f"{ws.name} has no update: section in "
                         f"{project.display(ws.board.manifest)}")
    try:
        info = json.loads((ws.paths.image_dir / BUILD_INFO).read_text())
        info.pop("update", None)
    except (OSError, ValueError, AttributeError):
        raise SkiffError(f"workspace '{ws.name}' has no image build-info.json",
                         hint=f"run: doit image:{ws.name}") from None
    epoch = int(info["source_date_epoch"])
    version = resolve_version(spec.version, info, ws.name)
    if spec.signing is None:
        keys = development_keys(project.cache, echo)
        echo(f"warning: update:{ws.name}: signed with the {DEV_MARK} "
             f"({project.display(Path(keys.key).parent)}); give the board an update.signing "
             "key for bundles that leave this machine")
    else:
        keys = release_keys(ws, project, spec)
    out_dir = ws.paths.update_dir
    tmp = out_dir / ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log = ws.paths.logs / "update.log"
    name = f"{ws.name}-{version}.raucb"
    try:
        slots = stage_bundle(spec, ws.name, ws.board.description, ws.paths.images, info,
                             tmp / "content", version, keys.development,
                             getattr(ws.board, "image", None), ws.paths.image_dir,
                             install_hooks(ws.chain))
        added = run_bundle_hooks(
            [(layer, script) for layer in ws.chain for script in layer.update_bundle],
            tmp / "content", {"SKIFFBUILD_WORKSPACE": ws.name,
                              "SKIFFBUILD_IMAGES_DIR": str(ws.paths.images),
                              "SKIFFBUILD_IMAGE_DIR": str(ws.paths.image_dir),
                              "SKIFFBUILD_BUNDLE_VERSION": version,
                              "SOURCE_DATE_EPOCH": str(epoch)}, log, echo)
        normalise(tmp / "content", epoch)
        make_bundle(tmp / "content", tmp / name, keys, epoch, log)
        shown = verify_bundle(tmp / name, keys.keyring, keys)
        images = {k: v for image in shown.get("images", []) for k, v in image.items()}
        if shown.get("compatible") != spec.compatible or shown.get("version") != version or \
                {k: v.get("checksum") for k, v in images.items()} != \
                {k: v["sha256"] for k, v in slots.items()}:
            raise BuildError(f"update:{ws.name}: rauc info shows another bundle than the one "
                             f"made: {json.dumps(shown)}")
        regions = bundle_regions(tmp / name)
        record = {
            "workspace": ws.name, "bundle": name, "format": spec.format,
            "compatible": spec.compatible, "version": version,
            "sha256": sha256_file(tmp / name), "size": regions.size,
            "payload_size": regions.payload[1],
            "verity_size": regions.verity[1] - regions.verity[0],
            "signature_size": regions.cms[1] - regions.cms[0], "slots": slots,
            "hooks": {"install": [f"{la.name}: {sc.name}" for la, sc in install_hooks(ws.chain)],
                      "bundle_files_added": added},
            "key": {"development": keys.development,
                    "cert": keys.cert if keys.cert.startswith("pkcs11:")
                    else project.display(Path(keys.cert))},
            "image_facts_sha256": image_facts(ws.paths.image_dir / BUILD_INFO),
            "source_date_epoch": epoch,
        }
        _publish(out_dir, tmp / name, record)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def change(info: dict[str, Any]) -> None:
        installs = info["update"].get("installs", [])
        info["update"] = {k: record[k] for k in ("bundle", "sha256", "size", "payload_size",
                                                 "compatible", "version")}
        info["update"]["installs"] = installs if isinstance(installs, list) else []
    problem = _edit_build_info(ws, change)
    if problem:
        raise BuildError(f"update:{ws.name}: the bundle is made, but {problem}")
    final = out_dir / name
    echo(f"update:{ws.name}: {project.display(final)} ({record['size']} bytes, payload "
         f"{record['payload_size']} bytes){' — ' + DEV_MARK if keys.development else ''}")
    return final


def _publish(out_dir: Path, bundle: Path, record: dict[str, Any]) -> None:
    """update-info.json goes first and comes back last; older bundles are removed."""
    (out_dir / INFO_FILE).unlink(missing_ok=True)
    for stale in out_dir.glob(f"{record['workspace']}-*.raucb*"):
        if stale.name not in (bundle.name, f"{bundle.name}.sha256"):
            stale.unlink()
    durable_replace(bundle, out_dir / bundle.name)
    atomic_write(out_dir / f"{bundle.name}.sha256", f"{record['sha256']}  {bundle.name}\n")
    atomic_write(out_dir / INFO_FILE, json.dumps(record, indent=1) + "\n")
