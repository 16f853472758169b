"""`tracker serve --self-signed`: a clinic LAN gets HTTPS, which tablets need for the camera."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

TRACKER = [sys.executable, "-c", "from tracker.cli import main; main()"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_self_signed_serve_answers_over_https(tmp_path: Path):
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(tmp_path / "instance")}
    subprocess.run([*TRACKER, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    server = subprocess.Popen(
        [*TRACKER, "serve", "--port", str(port), "--self-signed", "--queue-workers", "0", "--workers", "1"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE  # a self-signed certificate: accepted once per tablet
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/login", context=insecure, timeout=5) as r:
                    status = r.status
            except OSError:
                time.sleep(0.5)
        assert status == 200
        assert (tmp_path / "instance" / "tls" / "cert.pem").is_file()
        assert oct((tmp_path / "instance" / "tls" / "key.pem").stat().st_mode & 0o777) == "0o600"
        # Plain HTTP on the same port is not served: the session cookie never travels in the clear.
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5)
            plain_ok = True
        except OSError:
            plain_ok = False
        assert not plain_ok
    finally:
        server.terminate()
        server.wait(timeout=30)
