"""Altering an export bundle the way a forger would, for the verify-export tests."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from tracker.cli import main


def rezip(data: bytes, replace: dict[str, bytes]) -> bytes:
    """The same ZIP with some members' bytes replaced."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, replace.get(info.filename, src.read(info)))
    return buf.getvalue()


def tamper(png: bytes) -> bytes:
    """A PNG with one pixel changed: invisible to a person, not to a hash."""
    with Image.open(io.BytesIO(png)) as im:
        im = im.convert("RGB")
        im.putpixel((5, 5), (0, 255, 0))
        out = io.BytesIO()
        im.save(out, "PNG")
    return out.getvalue()


def cli_verifier(instance: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[bytes], Result]:
    """``tracker verify-export`` on the given bundle bytes, against the server in ``instance``."""
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(instance))
    for name in ("TRACKER_DATABASE_URL", "TRACKER_STORAGE_PATH", "TRACKER_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)

    def verify(data: bytes) -> Result:
        path = tmp_path / "bundle.zip"
        path.write_bytes(data)
        return CliRunner().invoke(main, ["verify-export", str(path)], catch_exceptions=False)

    return verify
