"""Reading an export bundle someone hands back, without trusting it: member count and
sizes are capped before anything is decompressed, members are hashed as streams, and
the manifest is read (small) first so an unknown export stops before the rest is read.
A ZIP bomb therefore costs neither memory nor minutes."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

#: More members than any real bundle has (a series has at most a few hundred photos).
MAX_MEMBERS = 2000
MAX_MANIFEST_BYTES = 1 << 20
#: Per member, as its header declares (zipfile never returns more than declared).
MAX_MEMBER_BYTES = 256 << 20
MAX_TOTAL_BYTES = 4 << 30
#: Photos and PDFs barely compress; a large member shrunk more than this is a bomb.
MAX_RATIO = 200
_CHUNK = 1 << 20


class BundleRefused(ValueError):
    """The file is not a bundle this server will read; the message says why."""


def open_bundle(source: bytes | str | os.PathLike[str] | BinaryIO) -> zipfile.ZipFile:
    """The ZIP, after checking its directory against the caps (nothing decompressed yet)."""
    import io

    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise BundleRefused(f"not a readable ZIP file: {e}") from e
    infos = zf.infolist()
    problem = None
    if len(infos) > MAX_MEMBERS:
        problem = f"the ZIP has {len(infos)} members; a bundle has at most {MAX_MEMBERS}"
    elif sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        problem = f"the ZIP would expand to more than {MAX_TOTAL_BYTES >> 30} GB"
    for info in infos:
        if problem:
            break
        if info.file_size > MAX_MEMBER_BYTES:
            problem = f"{info.filename} would expand to {info.file_size >> 20} MB (limit {MAX_MEMBER_BYTES >> 20} MB)"
        elif info.file_size > _CHUNK and info.file_size > MAX_RATIO * max(1, info.compress_size):
            problem = f"{info.filename} is compressed {info.file_size // max(1, info.compress_size)}:1 (a ZIP bomb)"
    if problem:
        zf.close()
        raise BundleRefused(problem)
    return zf


def read_member(zf: zipfile.ZipFile, name: str, limit: int = MAX_MANIFEST_BYTES) -> bytes | None:
    """A small member's bytes (None when absent); refused when it is larger than ``limit``."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise BundleRefused(f"{name} is larger than {limit >> 10} KB")
    with zf.open(info) as f:
        return f.read(limit + 1)[:limit]


def member_hashes(zf: zipfile.ZipFile, *, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    """``(name, SHA-256)`` of every file member, read as a stream."""
    for info in zf.infolist():
        if info.is_dir() or info.filename in skip:
            continue
        digest = hashlib.sha256()
        try:
            with zf.open(info) as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:  # CRC errors, truncation
            raise BundleRefused(f"{info.filename} cannot be read: {e}") from e
        yield info.filename, digest.hexdigest()
