"""Altering an export bundle the way a forger would, for the verify-export tests."""

from __future__ import annotations

import io
import zipfile

from PIL import Image


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
