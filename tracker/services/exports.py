"""Exports: comparison images, the PDF report, the verifiable ZIP bundle, marketing images.

Photos leave the system only through here. Every export is checked (clinic admin, or a
technician where the clinic allows it; marketing only with the patient's marketing
consent), recorded with the SHA-256 of what was handed out, and audited. Exported
images are made fresh from pixels: they carry no EXIF, GPS or device metadata.

``verify_bundle`` checks a ZIP bundle against the stored originals and against the
server's own record of that export: a file whose bytes differ from what the server
produced is reported even when the bundle's manifest was edited to match it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Analysis, ExportRecord, ExportSettings, Photo, TreatmentSeries, User, Visit
from tracker.models.base import new_id, utcnow
from tracker.models.exports import EXPORT_BUNDLE, EXPORT_COMPARISON, EXPORT_MARKETING, EXPORT_REPORT
from tracker.models.vocabulary import (
    CLINIC_ADMIN,
    CONSENT_MARKETING,
    TECHNICIAN,
    TIME_FOLLOW_UP,
    VISIT_TREATMENT,
    view_label,
)
from tracker.storage import Storage

from . import audit, progress
from .access import get_series, require_admin
from .analysis_queue import result_of
from .errors import Conflict, ConsentRequired, Forbidden, ValidationFailed

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "tracker-export-bundle/1"

#: Measures shown in exports, in order, with the words people read and how to print them.
MEASURES: tuple[tuple[str, str, str], ...] = (
    ("erythema_index_mean", "Redness (erythema index)", "{:.1f}"),
    ("red_area_pct", "Red area (% of skin)", "{:.1f}"),
    ("spot_count", "Pigment spots (count)", "{:.0f}"),
    ("spot_area_pct", "Spot area (% of skin)", "{:.2f}"),
    ("pigment_load", "Pigment load", "{:.2f}"),
    ("melanin_index_mean", "Pigment (melanin index)", "{:.1f}"),
    ("roughness", "Roughness", "{:.3f}"),
    ("line_density", "Fine lines (density)", "{:.4f}"),
)
MEASURE_LABELS = {key: label for key, label, _ in MEASURES}


def fmt_measure(measure: str, value: float | None, *, signed: bool = False) -> str:
    """A measure's value as printed in exports ("12.3", "+0.42"; "-" when unknown)."""
    if value is None:
        return "-"
    pattern = next((f for k, _, f in MEASURES if k == measure), "{:.2f}")
    text = pattern.format(value)
    return f"+{text}" if signed and value > 0 else text


# Who may export ------------------------------------------------------------------------
def settings_for(session: Session, clinic_id: str) -> ExportSettings:
    row = session.get(ExportSettings, clinic_id)
    return row if row is not None else ExportSettings(clinic_id=clinic_id, technicians_may_export=False)


def can_export(session: Session, actor: User) -> bool:
    if not actor.active:
        return False
    if actor.role == CLINIC_ADMIN:
        return True
    return actor.role == TECHNICIAN and settings_for(session, actor.clinic_id).technicians_may_export


def require_export(session: Session, actor: User) -> None:
    if not can_export(session, actor):
        raise Forbidden("Only clinic admins can export photos and reports here. Your clinic admin can allow "
                        "technicians to export on the Exports page.")


def set_technicians_may_export(session: Session, actor: User, allowed: bool) -> ExportSettings:
    require_admin(actor)
    row = session.get(ExportSettings, actor.clinic_id)
    if row is None:
        row = ExportSettings(clinic_id=actor.clinic_id)
        session.add(row)
    row.technicians_may_export = bool(allowed)
    row.updated_at = utcnow()
    row.updated_by_id = actor.id
    audit.record(session, actor, "exports.setting_changed", "clinic", actor.clinic_id,
                 technicians_may_export=bool(allowed))
    return row


# Which photos are compared -------------------------------------------------------------
@dataclass(frozen=True)
class ProgressPair:
    """A view's baseline and the latest later "before treatment" or "follow-up" photo."""

    view: str
    region: str
    baseline: Photo
    later: Photo | None
    analysis: Analysis | None

    @property
    def label(self) -> str:
        return view_label(self.view, self.region)

    @property
    def key(self) -> str:
        return f"{self.view}:{self.region}" if self.region else self.view

    @property
    def result(self) -> dict[str, Any] | None:
        return result_of(self.analysis) if self.analysis is not None else None

    @property
    def delta(self) -> dict[str, dict[str, Any]]:
        comparison = (self.result or {}).get("comparison") or {}
        return comparison.get("delta") or {}

    @property
    def notes(self) -> list[str]:
        comparison = (self.result or {}).get("comparison") or {}
        return list(comparison.get("notes") or [])


def progress_pairs(session: Session, series: TreatmentSeries) -> list[ProgressPair]:
    """One pair per view with a baseline (the rule of :mod:`tracker.services.progress`): the latest later
    "before treatment" or "follow-up" photo outside the healing window whose analysis against the
    baseline is done. ``later`` is None until there is one."""
    pairs = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        base = next((pt for pt in points if pt.kind == "baseline"), None)
        if base is None:
            continue
        chosen = progress.progress_pair(points)
        candidates = chosen.candidates if chosen is not None else []
        done = [pt for pt in candidates if pt.analysis is not None and pt.analysis.state == "done"]
        later = done[-1] if done else None
        pairs.append(ProgressPair(view, region, base.photo, later.photo if later else None,
                                  later.analysis if later else None))
    return pairs


def views_without_baseline(session: Session, series: TreatmentSeries) -> list[str]:
    """Labels of the views that have photos but no usable baseline yet (e.g. every "before" photo refused)."""
    out = []
    for view, region in progress.views_of(session, series):
        points = progress.view_points(session, series, view, region)
        if not any(pt.kind == "baseline" for pt in points):
            out.append(view_label(view, region))
    return out


def find_pair(session: Session, series: TreatmentSeries, view_key: str) -> ProgressPair:
    for pair in progress_pairs(session, series):
        if pair.key == view_key:
            if pair.later is None or pair.analysis is None:
                raise Conflict(f"{pair.label}: there is no measured later photo to compare with the baseline yet.")
            return pair
    raise ValidationFailed("Choose a view that has a baseline in this series.", field="view")


# Labels and file names -----------------------------------------------------------------
def sessions_before(visit: Visit) -> int:
    """Treatment sessions done before this visit's day (a session's own "before" photo excludes it)."""
    return sum(1 for v in visit.series.visits if v.kind == VISIT_TREATMENT and v.visit_date < visit.visit_date)


def stage_label(photo: Photo) -> str:
    """"Baseline"-free description of when a photo stands in the series: "After 2 sessions"."""
    n = sessions_before(photo.visit)
    if n == 0:
        return "Before treatment"
    return f"After {n} session{'s' if n != 1 else ''}"


def photo_caption(photo: Photo) -> str:
    """"Session 3, before treatment, 10 Jul 2024" or "Follow-up visit, 10 Jul 2025"."""
    if photo.time_point == TIME_FOLLOW_UP:
        return f"Follow-up visit, {photo.visit.visit_date:%d %b %Y}"
    return f"{photo.visit.label}, {photo.time_point_label.lower()}, {photo.visit.visit_date:%d %b %Y}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "photo"


def _visit_slug(visit: Visit) -> str:
    if visit.kind == VISIT_TREATMENT and visit.session_number:
        return f"session{visit.session_number}"
    return "follow-up"


def view_slug(pair: ProgressPair) -> str:
    return _slug(pair.label)


def comparison_filename(pair: ProgressPair, ext: str = "png") -> str:
    """``front_baseline-vs-session3_2026-05-01.png``."""
    assert pair.later is not None
    return f"{view_slug(pair)}_baseline-vs-{_visit_slug(pair.later.visit)}_{pair.later.visit.visit_date:%Y-%m-%d}.{ext}"


def aligned_filename(pair: ProgressPair) -> str:
    """``front_session3_2026-05-01_aligned-to-baseline.png``."""
    assert pair.later is not None
    return (f"{view_slug(pair)}_{_visit_slug(pair.later.visit)}_{pair.later.visit.visit_date:%Y-%m-%d}"
            "_aligned-to-baseline.png")


def report_filename(series: TreatmentSeries, when: dt.date) -> str:
    return f"progress-report_{_slug(series.patient.full_name)}_{_slug(series.treatment_type)}_{when:%Y-%m-%d}.pdf"


def bundle_filename(series: TreatmentSeries, when: dt.date) -> str:
    return f"export-bundle_{_slug(series.patient.full_name)}_{_slug(series.treatment_type)}_{when:%Y-%m-%d}.zip"


def marketing_filename(pair: ProgressPair) -> str:
    """No patient name, no id: ``front_before-after_2026-05-01_marketing.png``."""
    assert pair.later is not None
    return f"{view_slug(pair)}_before-after_{pair.later.visit.visit_date:%Y-%m-%d}_marketing.png"


# Images --------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    import reportlab

    path = Path(reportlab.__file__).parent / "fonts" / ("VeraBd.ttf" if bold else "Vera.ttf")
    return ImageFont.truetype(str(path), size)


def _upright_rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as im:
        return ImageOps.exif_transpose(im).convert("RGB")


def aligned_image(storage: Storage, pair: ProgressPair) -> Image.Image:
    """The later photo warped into the baseline frame (the analysis' stored "aligned" image)."""
    assert pair.analysis is not None and pair.later is not None
    keys = json.loads(pair.analysis.overlay_keys or "{}")
    if keys.get("aligned"):
        return _upright_rgb(storage.read(keys["aligned"]))
    alignment = (pair.result or {}).get("alignment") or {}
    if not alignment.get("ok") or not alignment.get("matrix"):
        raise ValidationFailed(f"{pair.label}: the later photo could not be aligned to the baseline, so no "
                               "aligned comparison can be made. Retake the photo.")
    import cv2
    import numpy as np

    moving = np.asarray(_upright_rgb(storage.read(pair.later.original_key)))
    size = (pair.baseline.width, pair.baseline.height)
    warped = cv2.warpAffine(moving, np.asarray(alignment["matrix"], dtype=np.float64), size,
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    return Image.fromarray(warped)


def baseline_image(storage: Storage, pair: ProgressPair, size: tuple[int, int]) -> Image.Image:
    key = pair.baseline.display_key or pair.baseline.original_key
    return _upright_rgb(storage.read(key)).resize(size, Image.Resampling.LANCZOS)


def _fit(im: Image.Image, max_side: int) -> Image.Image:
    if max(im.size) <= max_side:
        return im
    out = im.copy()
    out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return out


def treated_region_box(storage: Storage, pair: ProgressPair, size: tuple[int, int], *,
                       margin: float = 0.08) -> tuple[int, int, int, int]:
    """Bounding box of the skin the analysis measured (the treated region), in the aligned frame.

    The stored redness overlay is grey outside the measured region and coloured inside it.
    """
    import numpy as np

    assert pair.analysis is not None
    keys = json.loads(pair.analysis.overlay_keys or "{}")
    if not keys.get("redness"):
        return (0, 0, *size)
    overlay = np.asarray(_upright_rgb(storage.read(keys["redness"])).resize(size), dtype=np.int16)
    region = (overlay.max(axis=2) - overlay.min(axis=2)) > 12
    rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
    if rows.size == 0 or cols.size == 0:
        return (0, 0, *size)
    dy, dx = margin * (rows[-1] - rows[0]), margin * (cols[-1] - cols[0])
    return (max(0, int(cols[0] - dx)), max(0, int(rows[0] - dy)),
            min(size[0], int(cols[-1] + dx) + 1), min(size[1], int(rows[-1] + dy) + 1))


@dataclass(frozen=True)
class Panel:
    image: Image.Image
    caption: str
    sub: str


def compose(panels: list[Panel], *, title: str, footer: str, watermark: str | None = None,
            panel_side: int = 760) -> Image.Image:
    """Panels side by side under a title, each with a caption; a footer line; optional watermark."""
    ims = [_fit(p.image, panel_side) for p in panels]
    pad, head, cap, foot = 24, 64, 62, 40
    width = sum(im.width for im in ims) + pad * (len(ims) + 1)
    height = head + max(im.height for im in ims) + cap + foot
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    draw.text((pad, 20), title, font=_font(24, True), fill=(30, 41, 59))
    x = pad
    for im, panel in zip(ims, panels):
        canvas.paste(im, (x, head))
        y = head + im.height + 10
        draw.text((x, y), panel.caption, font=_font(18, True), fill=(30, 41, 59))
        draw.text((x, y + 24), panel.sub, font=_font(15), fill=(71, 85, 105))
        x += im.width + pad
    draw.line((pad, height - foot + 6, width - pad, height - foot + 6), fill=(226, 232, 240), width=1)
    draw.text((pad, height - foot + 14), footer, font=_font(13), fill=(100, 116, 139))
    if watermark:
        canvas = _watermark(canvas, watermark)
    return canvas


def _watermark(canvas: Image.Image, text: str) -> Image.Image:
    layer = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    size = max(28, canvas.width // 22)
    font = _font(size, True)
    box = draw.textbbox((0, 0), text, font=font)
    tw, th = box[2] - box[0], box[3] - box[1]
    for i, frac in enumerate((0.3, 0.7)):
        y = int(canvas.height * frac)
        for x in range(-tw // 2 + (i * tw // 2), canvas.width, tw + size * 2):
            draw.text((x, y), text, font=font, fill=(255, 255, 255, 110), stroke_width=2, stroke_fill=(0, 0, 0, 70))
    corner = _font(max(16, canvas.width // 60), True)
    draw.text((canvas.width - 24, canvas.height - 14), text, font=corner, fill=(30, 41, 59, 255), anchor="rs")
    return Image.alpha_composite(canvas.convert("RGBA"), layer).convert("RGB")


def encode(im: Image.Image, fmt: str = "PNG") -> bytes:
    """Encode fresh pixels: no EXIF, GPS, ICC or text chunks are written."""
    clean = Image.new("RGB", im.size)
    clean.paste(im.convert("RGB"))
    buf = io.BytesIO()
    if fmt == "JPEG":
        clean.save(buf, "JPEG", quality=90, optimize=True)
    else:
        clean.save(buf, "PNG", compress_level=6)
    return buf.getvalue()


def comparison_picture(storage: Storage, pair: ProgressPair, *, clinic_name: str, crop: bool = False,
                       watermark: bool = False) -> Image.Image:
    assert pair.later is not None
    moving = aligned_image(storage, pair)
    fixed = baseline_image(storage, pair, moving.size)
    if crop:
        box = treated_region_box(storage, pair, moving.size)
        moving, fixed = moving.crop(box), fixed.crop(box)
    later = pair.later
    if watermark:  # marketing: no dates that could identify a visit, no names
        panels = [Panel(fixed, "Before", pair.label), Panel(moving, stage_label(later), pair.label)]
        return compose(panels, title=f"{pair.label}: before and after", footer="",
                       watermark=clinic_name)
    panels = [
        Panel(fixed, f"Baseline: {pair.baseline.visit.visit_date:%d %b %Y}", photo_caption(pair.baseline)),
        Panel(moving, f"{stage_label(later)}: {later.visit.visit_date:%d %b %Y}",
              f"{photo_caption(later)}; aligned to the baseline"),
    ]
    return compose(panels, title=f"{pair.label}: baseline vs {stage_label(later).lower()}",
                   footer=f"{clinic_name} · exported {dt.date.today():%d %b %Y} · clinical record, not for publication")


# Recording -----------------------------------------------------------------------------
def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _record(session: Session, actor: User, series: TreatmentSeries, *, kind: str, filename: str, data: bytes,
            files: dict[str, str], originals: dict[str, str], view: str = "", export_id: str | None = None,
            manifest_sha256: str | None = None, **detail: Any) -> ExportRecord:
    row = ExportRecord(id=export_id or new_id(), clinic_id=series.clinic_id, patient_id=series.patient_id,
                       series_id=series.id, created_by_id=actor.id, kind=kind, view=view, filename=filename,
                       sha256=sha256(data), manifest_sha256=manifest_sha256, files=files, originals=originals,
                       detail=detail)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"export.{kind}", "export", row.id, series_id=series.id,
                 patient_id=series.patient_id, filename=filename, sha256=row.sha256)
    return row


def _originals(pair: ProgressPair) -> dict[str, str]:
    out = {pair.baseline.id: pair.baseline.sha256}
    if pair.later is not None:
        out[pair.later.id] = pair.later.sha256
    return out


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    data: bytes
    record: ExportRecord


def export_comparison(session: Session, storage: Storage, actor: User, series_id: str, view_key: str, *,
                      fmt: str = "png") -> ExportFile:
    require_export(session, actor)
    series = get_series(session, actor, series_id)
    if fmt not in ("png", "jpeg"):
        raise ValidationFailed("Choose PNG or JPEG.", field="format")
    pair = find_pair(session, series, view_key)
    picture = comparison_picture(storage, pair, clinic_name=actor.clinic.name)
    data = encode(picture, "JPEG" if fmt == "jpeg" else "PNG")
    name = comparison_filename(pair, "jpg" if fmt == "jpeg" else "png")
    row = _record(session, actor, series, kind=EXPORT_COMPARISON, filename=name, data=data, view=pair.key,
                  files={name: sha256(data)}, originals=_originals(pair))
    return ExportFile(name, "image/jpeg" if fmt == "jpeg" else "image/png", data, row)


def export_marketing(session: Session, storage: Storage, actor: User, series_id: str, view_key: str, *,
                     crop: bool = False) -> ExportFile:
    """Watermarked before/after without names, dates of birth or metadata; needs marketing consent."""
    from .patients import active_consent

    require_export(session, actor)
    series = get_series(session, actor, series_id)
    if active_consent(series.patient, CONSENT_MARKETING) is None:
        audit.record(session, actor, "export.marketing_refused", "series", series.id, patient_id=series.patient_id,
                     reason="no marketing consent")
        raise ConsentRequired("No marketing image was made: this patient has not given marketing consent "
                              "(or has withdrawn it). Record the patient's signed marketing consent on their "
                              "page first.")
    pair = find_pair(session, series, view_key)
    data = encode(comparison_picture(storage, pair, clinic_name=actor.clinic.name, crop=crop, watermark=True))
    name = marketing_filename(pair)
    row = _record(session, actor, series, kind=EXPORT_MARKETING, filename=name, data=data, view=pair.key,
                  files={name: sha256(data)}, originals=_originals(pair), cropped=crop)
    return ExportFile(name, "image/png", data, row)


# Measures as rows (CSV/JSON of the bundle, the PDF's table) ----------------------------
def measure_rows(pairs: list[ProgressPair]) -> list[dict[str, Any]]:
    rows = []
    for pair in pairs:
        if pair.later is None:
            continue
        for measure, label, _ in MEASURES:
            d = pair.delta.get(measure)
            if not d:
                continue
            rows.append({
                "view": pair.label, "measure": measure, "measure_label": label,
                "baseline_date": pair.baseline.visit.visit_date.isoformat(),
                "photo_date": pair.later.visit.visit_date.isoformat(),
                "photo_visit": pair.later.visit.label, "baseline": d.get("baseline"),
                "value": d.get("photo"), "change": d.get("value"), "mdc": d.get("mdc"),
                "verdict": d.get("verdict"), "note": d.get("note") or "",
                "baseline_photo_sha256": pair.baseline.sha256, "photo_sha256": pair.later.sha256,
            })
    return rows


CSV_COLUMNS = ("view", "measure", "measure_label", "baseline_date", "photo_date", "photo_visit", "baseline",
               "value", "change", "mdc", "verdict", "note", "baseline_photo_sha256", "photo_sha256")


def measures_csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue().encode("utf-8")


# The ZIP bundle ------------------------------------------------------------------------
def _zip_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # no local clock in the archive
            info.compress_type = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def export_bundle(session: Session, storage: Storage, actor: User, series_id: str) -> ExportFile:
    require_export(session, actor)
    series = get_series(session, actor, series_id)
    pairs = [p for p in progress_pairs(session, series) if p.later is not None]
    if not pairs:
        raise Conflict("Nothing to export yet: no view has a measured photo to compare with its baseline.")
    export_id = new_id()
    clinic = actor.clinic.name
    files: dict[str, bytes] = {}
    derived: dict[str, list[str]] = {}
    originals: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        assert pair.later is not None
        comp = f"comparisons/{comparison_filename(pair)}"
        files[comp] = encode(comparison_picture(storage, pair, clinic_name=clinic))
        aligned = f"aligned/{aligned_filename(pair)}"
        files[aligned] = encode(aligned_image(storage, pair))
        for name in (comp, aligned):
            derived[name] = [pair.baseline.id, pair.later.id]
        for photo, role in ((pair.baseline, "baseline"), (pair.later, "compared")):
            originals[photo.id] = {"sha256": photo.sha256, "role": role, "view": pair.label,
                                   "visit": photo.visit.label, "visit_date": photo.visit.visit_date.isoformat(),
                                   "time_point": photo.time_point_label}
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
        "how_to_verify": "tracker verify-export THIS.zip (on the clinic's server)",
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    all_files = {**files, MANIFEST: manifest_bytes}
    data = _zip_bytes(all_files)
    name = bundle_filename(series, created.date())
    row = _record(session, actor, series, kind=EXPORT_BUNDLE, filename=name, data=data, export_id=export_id,
                  files={n: sha256(d) for n, d in files.items()}, manifest_sha256=sha256(manifest_bytes),
                  originals={pid: info["sha256"] for pid, info in originals.items()})
    row.created_at = created
    return ExportFile(name, "application/zip", data, row)


def export_report(session: Session, storage: Storage, actor: User, series_id: str) -> ExportFile:
    from .report_pdf import render_report

    require_export(session, actor)
    series = get_series(session, actor, series_id)
    pairs = progress_pairs(session, series)
    images = {p.key: encode(comparison_picture(storage, p, clinic_name=actor.clinic.name), "JPEG")
              for p in pairs if p.later is not None}
    export_id = new_id()
    data = render_report(series, pairs, images, chart_points(session, actor, series, pairs), clinic_name=actor.clinic.name,
                         export_id=export_id, prepared_by=actor.full_name,
                         unmeasured_views=views_without_baseline(session, series))
    name = report_filename(series, dt.date.today())
    originals: dict[str, str] = {}
    for p in pairs:
        if p.later is not None:
            originals.update(_originals(p))
    row = _record(session, actor, series, kind=EXPORT_REPORT, filename=name, data=data, export_id=export_id,
                  files={name: sha256(data)}, originals=originals)
    return ExportFile(name, "application/pdf", data, row)


# Chart numbers -------------------------------------------------------------------------
@dataclass(frozen=True)
class ChartPoint:
    date: dt.date
    label: str
    value: float | None
    verdict: str
    kind: str  # baseline | progress | healing


@dataclass(frozen=True)
class ChartSeries:
    view: str
    measure: str
    label: str
    unit: str
    baseline: float | None
    mdc: float | None
    points: list[ChartPoint] = field(default_factory=list)
    #: The technician flags of this view (the same on every measure of the view), as ``Flag.to_dict()``.
    flags: tuple[dict[str, Any], ...] = ()


def chart_points(session: Session, actor: User, series: TreatmentSeries,
                 pairs: list[ProgressPair]) -> list[ChartSeries]:
    """The app's chart numbers (:func:`tracker.services.progress.chart_data`) per view and measure."""
    out = []
    for pair in pairs:
        data = progress.chart_data(session, actor, series.id, pair.view, pair.region)
        for m in data["measures"]:
            points = [ChartPoint(dt.date.fromisoformat(p["date"]), p["label"], p["values"].get(m["key"]),
                                 p["verdicts"].get(m["key"], "not comparable"), p["kind"])
                      for p in data["points"] if m["key"] in p["values"]]
            out.append(ChartSeries(pair.label, m["key"], m["label"], m["unit"], m["baseline"], m["mdc"], points,
                                   tuple(data.get("flags") or ())))
    return out


# Listing and verification --------------------------------------------------------------
def list_exports(session: Session, actor: User, *, limit: int = 200) -> list[ExportRecord]:
    require_admin(actor)
    stmt = (select(ExportRecord).where(ExportRecord.clinic_id == actor.clinic_id)
            .order_by(ExportRecord.created_at.desc()).limit(limit))
    return list(session.scalars(stmt))


def exports_for_series(session: Session, actor: User, series_id: str) -> list[ExportRecord]:
    series = get_series(session, actor, series_id)
    stmt = select(ExportRecord).where(ExportRecord.series_id == series.id).order_by(ExportRecord.created_at.desc())
    return list(session.scalars(stmt))


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


def verify_bundle(session: Session, storage: Storage, data: bytes) -> VerifyReport:
    """Check a bundle against the server's record of the export and the stored originals."""
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        contents = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        report.problems.append(f"not a readable ZIP file: {e}")
        return report
    manifest_bytes = contents.pop(MANIFEST, None)
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
    for name in sorted(set(contents) | set(record.files) | set(listed)):
        actual = sha256(contents[name]) if name in contents else None
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
            stored = sha256(storage.read(photo.original_key))
            if stored != expected:
                report.originals.append((photo_id, False, "the stored original no longer matches its hash"))
            else:
                report.originals.append((photo_id, True, "the stored original matches"))
    return report
