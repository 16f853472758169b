"""Nothing altered: re-hash every stored original and derivative against the database.

Originals are named by their SHA-256 and written once; derived files (thumbnail,
display image, analysis overlays) and drawn region masks have their SHA-256 recorded
when written. A
file whose bytes no longer hash to the recorded value is *altered*; a file a row
points at that storage does not have is *missing*; a stored file no row points
at is an *orphan* (left by a crash mid-upload; safe to remove).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, Photo, RegionRevision
from tracker.storage import Storage, StorageError

from .analysis import parse_overlay_json

_CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    key: str
    #: The SHA-256 the database recorded, or None for files written before hashes were kept.
    sha256: str | None
    what: str


@dataclass
class IntegrityReport:
    checked: int = 0
    missing: list[StoredFile] = field(default_factory=list)
    altered: list[StoredFile] = field(default_factory=list)
    #: Derived files written before their hash was recorded (present, not checkable).
    unhashed: list[StoredFile] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered


def expected_files(session: Session) -> list[StoredFile]:
    """Every file the database points at, with the hash it should have."""
    files: list[StoredFile] = []
    rows = session.execute(select(Photo.id, Photo.sha256, Photo.original_key, Photo.thumb_key,
                                  Photo.thumb_sha256, Photo.display_key, Photo.display_sha256))
    for photo_id, sha, original, thumb, thumb_sha, display, display_sha in rows:
        files.append(StoredFile(original, sha, f"original of photo {photo_id}"))
        if thumb:
            files.append(StoredFile(thumb, thumb_sha, f"thumbnail of photo {photo_id}"))
        if display:
            files.append(StoredFile(display, display_sha, f"display image of photo {photo_id}"))
    for analysis_id, keys_json, hashes_json in session.execute(
            select(Analysis.id, Analysis.overlay_keys, Analysis.overlay_sha256)
            .where(Analysis.overlay_keys.is_not(None))):
        hashes = parse_overlay_json(hashes_json)
        for key in parse_overlay_json(keys_json).values():
            files.append(StoredFile(key, hashes.get(key), f"overlay of analysis {analysis_id}"))
    for revision_id, mask, mask_sha in session.execute(
            select(RegionRevision.id, RegionRevision.mask_key, RegionRevision.mask_sha256)
            .where(RegionRevision.mask_key.is_not(None))):
        if mask is not None:  # never None here: selected where set
            files.append(StoredFile(mask, mask_sha, f"measurement region of revision {revision_id}"))
    unique: dict[str, StoredFile] = {}
    for f in files:  # the same original can serve two patients' photos: check it once
        unique.setdefault(f.key, f)
    return sorted(unique.values(), key=lambda f: f.key)


def file_sha256(storage: Storage, key: str) -> str:
    digest = hashlib.sha256()
    with storage.open(key) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_integrity(session: Session, storage: Storage) -> IntegrityReport:
    """Re-hash every stored original and derivative; report missing, altered and orphan files."""
    report = IntegrityReport()
    expected = expected_files(session)
    for f in expected:
        report.checked += 1
        try:
            actual = file_sha256(storage, f.key)
        except StorageError:
            report.missing.append(f)
            continue
        if f.sha256 is None:
            report.unhashed.append(f)
        elif actual != f.sha256:
            report.altered.append(f)
    referenced = {f.key for f in expected}
    report.orphans = [k for k in storage.iter_keys() if k not in referenced]
    return report

