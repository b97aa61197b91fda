"""Ed25519 signatures of offline bundles' manifests.

The manifest lists every member's sha256 and size, so signing its exact bytes
covers the whole bundle. Keys are PEM files: a PKCS#8 private key to sign
(``export --sign KEY``), its SubjectPublicKeyInfo public key to trust
(``import --trust KEY``); ``openssl genpkey -algorithm ed25519`` and
``openssl pkey -pubout`` make them.

Why ``cryptography``: it is the well-kept, widely audited Python binding to
OpenSSL's primitives (the PyCA project), already a dependency of most Python
tool stacks; hand-rolled or pure-Python Ed25519 code is not something a
firmware supply chain should trust.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from skiffbuild.core.errors import SkiffError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["SIGNATURE_SIZE", "public_key", "sign", "verify"]

SIGNATURE_SIZE = 64  # an Ed25519 signature


_KEY_MAX = 64 << 10  # a PEM key is a few hundred bytes


def _read_key(path: Path, what: str) -> bytes:
    # A regular file of bounded size, opened without blocking: `--trust /dev/zero`
    # must not fill the memory, nor a FIFO hang the import.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise SkiffError(f"{path}: cannot read the {what}: not a regular file")
            data = f.read(_KEY_MAX + 1)
    except OSError as exc:
        raise SkiffError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > _KEY_MAX:
        raise SkiffError(f"{path}: cannot read the {what}: larger than {_KEY_MAX} bytes")
    return data


def sign(data: bytes, key_file: Path) -> bytes:
    """The Ed25519 signature of ``data`` with the private key in ``key_file``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(_read_key(key_file, "signing key"), password=None)
    except (ValueError, TypeError) as exc:
        raise SkiffError(f"{key_file}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SkiffError(f"{key_file}: not an Ed25519 private key",
                         hint="make one with: openssl genpkey -algorithm ed25519 -out KEY")
    return key.sign(data)


def verify(data: bytes, signature: bytes, key_file: Path) -> bool:
    """Whether ``signature`` is the Ed25519 signature of ``data`` by the public key
    in ``key_file`` (a user error when the file holds no such key)."""
    from cryptography.exceptions import InvalidSignature

    key = public_key(key_file)
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def public_key(key_file: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``key_file``; a user error when it holds none."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(_read_key(key_file, "trusted key"))
    except (ValueError, TypeError) as exc:
        raise SkiffError(f"{key_file}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SkiffError(f"{key_file}: not an Ed25519 public key",
                         hint="export it from the signing key: openssl pkey -in KEY -pubout")
    return key
