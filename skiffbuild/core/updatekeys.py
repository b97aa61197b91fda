"""The keys of update bundles that lower layers need too: the development key pair,
made on demand in ``cache/update-keys/dev/`` (``update:<ws>`` signs with it; config:<ws>
puts its certificate into the device's RAUC keyring)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.runner import run

__all__ = ["DEV_MARK", "Keys", "development_keys"]

DEV_MARK = "DEVELOPMENT KEY — not for production"


@dataclass(frozen=True)
class Keys:
    """What ``rauc bundle`` signs with and ``rauc info`` verifies against."""

    key: str  # a file or a pkcs11: URI
    cert: str  # a file or a pkcs11: URI
    keyring: str  # a file
    development: bool
    pkcs11_module: str | None = None


def development_keys(cache: Path, echo: Callable[[str], None]) -> Keys:
    """The development key pair, made on first use in ``cache/update-keys/dev/``
    (RSA-3072, self-signed, 100 years; the directory appears complete or not at all)."""
    home = cache / "update-keys"
    final = home / "dev"
    key, cert = final / "key.pem", final / "cert.pem"
    if not (key.is_file() and cert.is_file()):
        home.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix=".dev-", dir=home))
        try:
            run(["openssl", "req", "-x509", "-newkey", "rsa:3072", "-nodes", "-utf8",
                 "-keyout", new / "key.pem", "-out", new / "cert.pem", "-days", "36500",
                 "-subj", f"/O=skiffbuild/CN=skiffbuild {DEV_MARK}"],
                log=home / "openssl.log", what="openssl req (development key)", umask=0o077)
            (new / "README").write_text(
                f"{DEV_MARK}.\nMade by skiffbuild to sign update bundles of boards without "
                "update.signing. Anyone with this directory can sign updates: never ship "
                "its cert.pem in a device's keyring.\n")
            shutil.rmtree(final, ignore_errors=True)  # a half-made pair from an old version
            try:
                os.rename(new, final)
                echo(f"made a development signing key: {final} ({DEV_MARK})")
            except OSError:
                pass  # another task made it first: use that one
        finally:
            shutil.rmtree(new, ignore_errors=True)
    return Keys(str(key), str(cert), str(cert), development=True)
