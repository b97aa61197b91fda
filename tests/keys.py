"""Throw-away signing keys for tests: RSA for update bundles, Ed25519 for export archives
and the stage cache."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["ed25519_keypair", "make_key"]


def make_key(where: Path, cn: str) -> tuple[Path, Path]:
    """A self-signed RSA key and certificate with common name ``cn`` in ``where``."""
    where.mkdir(parents=True, exist_ok=True)
    key, cert = where / "key.pem", where / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(key), "-out", str(cert), "-days", "30", "-subj", f"/CN={cn}"],
                   check=True, capture_output=True)
    return key, cert


def ed25519_keypair(where: Path, name: str) -> tuple[Path, Path]:
    """``<name>.pem`` (PKCS#8 private key) and ``<name>.pub`` (its public key) in ``where``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    where.mkdir(parents=True, exist_ok=True)
    private, public = where / f"{name}.pem", where / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public
