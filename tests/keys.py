"""Throw-away signing keys for update bundles in tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["make_key"]


def make_key(where: Path, cn: str) -> tuple[Path, Path]:
    """A self-signed RSA key and certificate with common name ``cn`` in ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    key, cert = where / "key.pem", where / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN={cn}"],
                   check=True, capture_output=True)
    return key, cert
