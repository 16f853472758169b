"""Encrypted backups: every file of a backup folder sealed with AES-256-GCM under a key
the clinic keeps (a key file made by ``tracker backup-key``), streamed in 1 MiB chunks.

Each sealed file is ``MAGIC | 8-byte random prefix | chunks``; a chunk is its 4-byte
length and its ciphertext with the 16-byte tag. The nonce is the prefix and the chunk's
number; the associated data binds the file's name, the chunk's number and whether it
is the last, so chunks cannot be reordered, swapped between files or cut off. Restore
opens (and so authenticates) every file into a private staging folder, then checks the
manifest's hashes, before anything of the instance is touched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import shutil
import struct
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tracker.private_files import private_dir, private_file

from .manifest import BackupError

MAGIC = b"TRKENC1\n"
CHUNK = 1 << 20
SUFFIX = ".enc"
#: Written in the clear beside the sealed files: how they were sealed and with which key.
HEADER = "encryption.json"


def new_key_file(path: str | os.PathLike[str]) -> Path:
    """Write a new random 256-bit key (base64, mode 0600) to ``path``, which must not exist."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"{target} already exists: a key is never overwritten.")
    private_dir(target.parent)
    private_file(target).write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode() + "\n")
    return target


def read_key(path: str | os.PathLike[str]) -> bytes:
    try:
        key = base64.urlsafe_b64decode(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError, binascii.Error) as e:
        raise BackupError(f"Cannot read the backup key {path}: {e}") from e
    if len(key) != 32:
        raise BackupError(f"{path} is not a tracker backup key (256 bits, base64).")
    return key


def key_id(key: bytes) -> str:
    """A fingerprint that names the key without revealing it."""
    return hashlib.sha256(b"tracker backup key id" + key).hexdigest()[:16]


def _aad(name: str, index: int, last: bool) -> bytes:
    return name.encode() + b"\0" + struct.pack(">I?", index, last)


def seal_file(key: bytes, name: str, src: Path, dst: Path) -> None:
    aead, prefix = AESGCM(key), secrets.token_bytes(8)
    size = src.stat().st_size
    with open(src, "rb") as fin, open(private_file(dst), "wb") as fout:
        fout.write(MAGIC + prefix)
        index = 0
        while True:
            chunk = fin.read(CHUNK)
            last = fin.tell() >= size
            sealed = aead.encrypt(prefix + struct.pack(">I", index), chunk, _aad(name, index, last))
            fout.write(struct.pack(">I", len(sealed)) + sealed)
            index += 1
            if last:
                break


def open_file(key: bytes, name: str, src: Path, dst: Path) -> None:
    aead = AESGCM(key)
    with open(src, "rb") as fin, open(private_file(dst), "wb") as fout:
        if fin.read(len(MAGIC)) != MAGIC:
            raise BackupError(f"{name} is not a sealed backup file; nothing was restored.")
        prefix, index = fin.read(8), 0
        while True:
            head = fin.read(4)
            if len(head) != 4:
                raise BackupError(f"{name} is cut short; nothing was restored.")
            (length,) = struct.unpack(">I", head)
            if length > CHUNK + 16:
                raise BackupError(f"{name} is damaged; nothing was restored.")
            sealed = fin.read(length)
            last = fin.peek(1) == b""
            try:
                fout.write(aead.decrypt(prefix + struct.pack(">I", index), sealed, _aad(name, index, last)))
            except InvalidTag as e:
                raise BackupError(f"{name} was altered, or the key is not the one it was sealed with; "
                                  "nothing was restored.") from e
            index += 1
            if last:
                return


def seal_folder(plain: Path, sealed: Path, key: bytes) -> int:
    """Seal every file below ``plain`` into ``sealed`` (same names + ``.enc``); returns the count."""
    private_dir(sealed)
    count = 0
    for src in sorted(p for p in plain.rglob("*") if p.is_file()):
        name = src.relative_to(plain).as_posix()
        dst = sealed / (name + SUFFIX)
        private_dir(dst.parent)
        seal_file(key, name, src, dst)
        count += 1
    header = {"format": 1, "cipher": "AES-256-GCM", "chunk_bytes": CHUNK, "key_id": key_id(key)}
    private_file(sealed / HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")
    return count


def is_sealed(folder: Path) -> bool:
    return (folder / HEADER).is_file()


def open_folder(sealed: Path, plain: Path, key: bytes) -> None:
    """Open every sealed file of ``sealed`` into ``plain`` (authenticating each chunk)."""
    try:
        header = json.loads((sealed / HEADER).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BackupError(f"The backup's {HEADER} cannot be read: {e}") from e
    if header.get("cipher") != "AES-256-GCM" or header.get("format") != 1:
        raise BackupError(f"The backup's {HEADER} names an unknown format.")
    if header.get("key_id") != key_id(key):
        raise BackupError("This backup was sealed with another key; nothing was restored.")
    private_dir(plain)
    for src in sorted(p for p in sealed.rglob("*" + SUFFIX) if p.is_file()):
        name = src.relative_to(sealed).as_posix()[:-len(SUFFIX)]
        if ".." in name.split("/"):
            raise BackupError(f"The backup names an unusable file {name!r}; nothing was restored.")
        dst = plain / name
        private_dir(dst.parent)
        open_file(key, name, src, dst)


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
