"""The verifiable ZIP bundle, and its check against the server's record and the stored originals."""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from sqlalchemy.orm import Session

from tracker.models import ExportRecord, Photo, User
from tracker.models.base import new_id, utcnow
from tracker.models.exports import EXPORT_BUNDLE
from tracker.storage import Storage, StorageError

from .. import bundle_zip
from ..access import get_series
from ..errors import Conflict, DomainError
from ..integrity import file_sha256
from .composition import aligned_image, comparison_picture, encode
from .content import (
    ProgressPair,
    chart_points,
    measure_rows,
    measures_csv,
    progress_pairs,
    views_without_baseline,
)
from .naming import aligned_filename, bundle_filename, comparison_filename, view_slug
from .original_copy import export_copy, same_png_pixels
from .policy import require_export
from .records import ExportFile, record_export, sha256

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "tracker-export-bundle/1"
ORIGINALS_NOTE = ("originals/ holds each original photo's pixels with camera, location and other metadata removed "
                  "(JPEG and PNG: the compressed image data copied byte for byte; HEIC: a lossless PNG). "
                  "'sha256' is the stored original's hash on the server, 'export_sha256' the hash of its copy here; "
                  "tracker verify-export makes the copy again from the stored original and compares.")


def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # no local clock in the archive
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def export_bundle(session: Session, storage: Storage, actor: User, series_id: str,
                  chosen: Mapping[str, str] | None = None, *, include_originals: bool = False,
                  include_report: bool = False) -> ExportFile:
    """The ZIP bundle: comparison and aligned images, the measures (CSV, JSON) and a manifest of
    SHA-256 hashes; with ``include_originals`` a copy of each original photo without its
    metadata (:mod:`.original_copy`), with ``include_report`` the PDF report. A photo whose images cannot be made is skipped and
    ``skipped.txt`` says why; the bundle itself is still made."""
    from .pdf import (  # the report builds on the same content
        comparison_images,
        render_report,
    )

    require_export(session, actor)
    series = get_series(session, actor, series_id)
    all_pairs = progress_pairs(session, series, chosen)
    pairs = [p for p in all_pairs if p.later is not None]
    if not pairs:
        raise Conflict("Nothing to export yet: no view has a comparable measured photo to compare with its baseline.")
    export_id = new_id()
    clinic = actor.clinic.name
    files: dict[str, bytes] = {}
    derived: dict[str, list[str]] = {}
    originals: dict[str, dict[str, Any]] = {}
    skipped = [f"{p.label}: {line}" for p in all_pairs for line in p.skipped]
    for pair in pairs:
        assert pair.later is not None
        comp = f"comparisons/{comparison_filename(pair)}"
        aligned = f"aligned/{aligned_filename(pair)}"
        try:
            images = {comp: encode(comparison_picture(storage, pair, clinic_name=clinic)),
                      aligned: encode(aligned_image(storage, pair))}
        except (DomainError, StorageError, OSError, ValueError) as e:
            skipped.append(f"{pair.label}: no comparison image ({e})")
            images = {}
        for name, data in images.items():
            files[name] = data
            derived[name] = [pair.baseline.id, pair.later.id]
        for photo, role in ((pair.baseline, "baseline"), (pair.later, "compared")):
            originals[photo.id] = {"sha256": photo.sha256, "role": role, "view": pair.label,
                                   "visit": photo.visit.label, "visit_date": photo.visit.visit_date.isoformat(),
                                   "time_point": photo.time_point_label}
            if include_originals:
                try:
                    files.update(_original_copy(storage, photo, pair, role, originals[photo.id]))
                    derived[originals[photo.id]["file"]] = [photo.id]
                except (StorageError, OSError, ValueError, RuntimeError) as e:
                    skipped.append(f"{pair.label}: original {photo.id} not exported ({e})")
    if include_report:
        report = render_report(series, all_pairs, comparison_images(storage, all_pairs, clinic),
                               chart_points(session, actor, series, all_pairs), clinic_name=clinic,
                               export_id=export_id, prepared_by=actor.full_name,
                               unmeasured_views=views_without_baseline(session, series))
        files["report.pdf"] = report
        derived["report.pdf"] = sorted(originals)
    if skipped:
        files["skipped.txt"] = ("\n".join(skipped) + "\n").encode()
    rows = measure_rows(pairs)
    files["measures.csv"] = measures_csv(rows)
    files["measures.json"] = json.dumps({"series_id": series.id, "measures": rows}, indent=2).encode()
    for name in ("measures.csv", "measures.json"):
        derived[name] = sorted(originals)
    created = utcnow()
    manifest = {
        "format": MANIFEST_FORMAT,
        "export_id": export_id,
        "created_at": created.isoformat(),
        "created_by": actor.full_name,
        "clinic": clinic,
        "patient": series.patient.full_name,
        "series": series.title,
        "series_id": series.id,
        "files": [{"name": n, "sha256": sha256(d), "bytes": len(d), "derived_from": derived.get(n, [])}
                  for n, d in files.items()],
        "originals": [{"photo_id": pid, **info} for pid, info in originals.items()],
        **({"originals_note": ORIGINALS_NOTE} if include_originals else {}),
        "how_to_verify": "tracker verify-export THIS.zip (on the clinic's server)",
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    all_files = {**files, MANIFEST: manifest_bytes}
    data = _zip_bytes(all_files)
    name = bundle_filename(series, created.date())
    row = record_export(session, actor, series, kind=EXPORT_BUNDLE, filename=name, data=data, export_id=export_id,
                        files={n: sha256(d) for n, d in files.items()}, manifest_sha256=sha256(manifest_bytes),
                        originals={pid: info["sha256"] for pid, info in originals.items()})
    row.created_at = created
    return ExportFile(name, "application/zip", data, row)


def _original_copy(storage: Storage, photo: Photo, pair: ProgressPair, role: str, entry: dict[str, Any]
                   ) -> dict[str, bytes]:
    """The original's export copy under its file name; ``entry`` (its manifest entry) says what was done."""
    copy = export_copy(storage.read(photo.original_key), photo.content_type)
    name = f"originals/{view_slug(pair)}_{role}_{photo.visit.visit_date:%Y-%m-%d}_{photo.id}.{copy.extension}"
    entry.update(file=name, export_sha256=sha256(copy.data), metadata_removed=list(copy.removed),
                 converted_to_png=copy.converted, how=copy.how)
    return {name: copy.data}


@dataclass
class VerifyReport:
    export_id: str | None = None
    #: (file name, ok, what was found) for every file of the bundle.
    files: list[tuple[str, bool, str]] = field(default_factory=list)
    originals: list[tuple[str, bool, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(ok for _, ok, _ in self.files + self.originals)


def verify_bundle(session: Session, storage: Storage, source: bytes | str | os.PathLike[str] | BinaryIO
                  ) -> VerifyReport:
    """Check a bundle (its bytes, path or open file) against the server's record of the
    export and the stored originals. The manifest and export id come first; members are
    hashed as streams under the caps of :mod:`tracker.services.bundle_zip`."""
    report = VerifyReport()
    try:
        zf = bundle_zip.open_bundle(source)
    except bundle_zip.BundleRefused as e:
        report.problems.append(str(e))
        return report
    with zf:
        try:
            return _verify_open_bundle(session, storage, zf, report)
        except bundle_zip.BundleRefused as e:
            report.problems.append(str(e))
            return report


def _verify_open_bundle(session: Session, storage: Storage, zf: zipfile.ZipFile, report: VerifyReport
                        ) -> VerifyReport:
    manifest_bytes = bundle_zip.read_member(zf, MANIFEST)
    if manifest_bytes is None:
        report.problems.append("the bundle has no manifest.json")
        return report
    try:
        manifest = json.loads(manifest_bytes)
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
        listed_originals = {o["photo_id"]: o["sha256"] for o in manifest["originals"]}
        report.export_id = str(manifest["export_id"])
    except (ValueError, KeyError, TypeError) as e:
        report.problems.append(f"the manifest cannot be read: {e}")
        return report
    record = session.get(ExportRecord, report.export_id)
    if record is None or record.kind != EXPORT_BUNDLE:
        report.problems.append(f"this server has no record of export {report.export_id}")
        return report
    if sha256(manifest_bytes) != record.manifest_sha256:
        report.problems.append("manifest.json differs from the manifest the server produced")
    contents = dict(bundle_zip.member_hashes(zf, skip=frozenset({MANIFEST})))
    for name in sorted(set(contents) | set(record.files) | set(listed)):
        actual = contents.get(name)
        server = record.files.get(name)
        if actual is None:
            report.files.append((name, False, "missing from the bundle"))
        elif server is None:
            report.files.append((name, False, "not produced by the server (added to the bundle)"))
        elif actual != server:
            also = " (its manifest entry was changed to match)" if listed.get(name) == actual else ""
            report.files.append((name, False, f"MODIFIED: not what the server produced{also}"))
        elif listed.get(name) != actual:
            report.files.append((name, False, "what the server produced, but its manifest entry was changed"))
        else:
            report.files.append((name, True, "what the server produced"))
    for photo_id in sorted(set(record.originals) | set(listed_originals)):
        expected = record.originals.get(photo_id)
        photo = session.get(Photo, photo_id)
        if expected is None:
            report.originals.append((photo_id, False, "not an original of this export"))
        elif listed_originals.get(photo_id) != expected:
            report.originals.append((photo_id, False, "the manifest's hash differs from the server's record"))
        elif photo is None:
            report.originals.append((photo_id, False, "the original photo is no longer stored"))
        else:
            report.originals.append(_check_original(storage, photo, expected, record.files, contents, zf))
    return report


def _check_original(storage: Storage, photo: Photo, expected: str, produced: Mapping[str, str],
                    contents: Mapping[str, str], zf: zipfile.ZipFile) -> tuple[str, bool, str]:
    """The stored original against its hash and, when the bundle has its copy, that copy
    made again from the stored original against what the server produced and the bundle holds."""
    if file_sha256(storage, photo.original_key) != expected:
        return photo.id, False, "the stored original no longer matches its hash"
    name = next((n for n in sorted(produced) if n.startswith("originals/") and f"_{photo.id}." in n), None)
    if name is None:
        return photo.id, True, "the stored original matches"
    if produced[name] == expected:  # a bundle made before originals lost their metadata
        return photo.id, True, f"the stored original matches ({name} is byte for byte the stored original)"
    try:
        again = export_copy(storage.read(photo.original_key), photo.content_type)
    except (StorageError, OSError, ValueError, RuntimeError) as e:
        return photo.id, False, f"{name} cannot be made again from the stored original ({e})"
    in_bundle = contents.get(name)
    if in_bundle is None:
        return photo.id, False, f"{name} is missing from the bundle"
    if in_bundle != produced[name]:
        return photo.id, False, f"{name} in the bundle is not the copy made from the stored original"
    if sha256(again.data) == produced[name]:
        return photo.id, True, f"the stored original matches, and {name} is its copy without metadata"
    member = bundle_zip.read_member(zf, name, bundle_zip.MAX_MEMBER_BYTES) if again.converted else None
    if member is not None and same_png_pixels(member, again.data):  # this server's zlib compresses differently
        return photo.id, True, f"the stored original matches, and {name} holds its pixels (PNG compressed differently)"
    return photo.id, False, f"{name} cannot be made again from the stored original"
