"""HTTPS for the clinic LAN: a self-signed certificate made once with openssl and kept in the instance."""

from __future__ import annotations

import subprocess
from pathlib import Path

import click


def self_signed_pair(instance: Path, host: str) -> tuple[str, str]:
    """A self-signed certificate for the clinic LAN, made once with openssl and kept."""
    folder = instance / "tls"
    cert, key = folder / "cert.pem", folder / "key.pem"
    if cert.exists() and key.exists():
        return str(cert), str(key)
    folder.mkdir(parents=True, exist_ok=True)
    names = ["DNS:localhost", "IP:127.0.0.1"]
    if host not in ("0.0.0.0", "::", "127.0.0.1", "localhost"):
        names.append(("IP:" if host.replace(".", "").isdigit() else "DNS:") + host)
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825", "-subj", "/CN=tracker",
             "-addext", "subjectAltName=" + ",".join(names), "-keyout", str(key), "-out", str(cert)],
            check=True, capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as e:
        raise click.ClickException(f"could not make a self-signed certificate with openssl: {e}") from e
    key.chmod(0o600)
    click.echo(f"Made a self-signed certificate in {folder} (accept it once on each tablet).")
    return str(cert), str(key)
