"""Comparison and marketing images, made fresh from pixels (no EXIF, GPS or device metadata)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps
from sqlalchemy.orm import Session

from tracker.models import User
from tracker.models.exports import EXPORT_COMPARISON, EXPORT_MARKETING
from tracker.models.vocabulary import CONSENT_MARKETING
from tracker.storage import Storage

from .. import audit
from ..access import get_series
from ..analysis import overlay_keys
from ..errors import Conflict, ConsentRequired, ValidationFailed
from .content import ProgressPair, find_pair
from .naming import comparison_filename, marketing_filename, photo_caption, stage_label
from .policy import require_export
from .records import ExportFile, originals_of, record_export, sha256


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
    keys = overlay_keys(pair.analysis)
    if keys.get("aligned"):
        return _upright_rgb(storage.read(keys["aligned"]))
    alignment = pair.result.alignment if pair.result is not None else None
    if alignment is None or not alignment.ok or alignment.matrix is None:
        raise ValidationFailed(f"{pair.label}: the later photo could not be aligned to the baseline, so no "
                               "aligned comparison can be made. Retake the photo.")
    import numpy as np

    from tracker.analysis.alignment import warp_image

    moving = np.asarray(_upright_rgb(storage.read(pair.later.original_key)))
    # The homography when the camera turned between the photos, else the affine.
    warp = alignment.homography if alignment.homography is not None else alignment.matrix
    warped = warp_image(moving, np.asarray(warp, dtype=np.float64), (pair.baseline.height, pair.baseline.width))
    return Image.fromarray(warped)


def baseline_image(storage: Storage, pair: ProgressPair, size: tuple[int, int]) -> Image.Image:
    key = pair.baseline.display_key or pair.baseline.original_key
    return _upright_rgb(storage.read(key)).resize(size, Image.Resampling.LANCZOS)


def _fit(im: Image.Image, max_side: int, *, grow: bool = False) -> Image.Image:
    """At most ``max_side`` on the long side (with ``grow``: exactly, enlarging a small crop)."""
    if max(im.size) == max_side or (max(im.size) < max_side and not grow):
        return im
    k = max_side / max(im.size)
    return im.resize((max(1, round(im.width * k)), max(1, round(im.height * k))), Image.Resampling.LANCZOS)


def treated_region_box(storage: Storage, pair: ProgressPair, size: tuple[int, int], *,
                       margin: float = 0.08) -> tuple[int, int, int, int]:
    """Bounding box of the skin the analysis measured (the treated region), in the aligned frame.

    The stored redness overlay is grey outside the measured region and coloured inside it.
    """
    import numpy as np

    assert pair.analysis is not None
    keys = overlay_keys(pair.analysis)
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


#: Long side of each panel of a marketing image, px, and the least long side of the image.
MARKETING_PANEL_PX = 1000
MARKETING_MIN_PX = 1600


@dataclass(frozen=True)
class Panel:
    image: Image.Image
    caption: str
    sub: str


def compose(panels: list[Panel], *, title: str, footer: str, watermark: str | None = None,
            panel_side: int = 760, grow: bool = False) -> Image.Image:
    """Panels side by side under a title, each with a caption; a footer line; optional watermark."""
    ims = [_fit(p.image, panel_side, grow=grow) for p in panels]
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
    tw = int(box[2] - box[0])
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
        # Large enough for a web page or print: each panel MARKETING_PANEL_PX on its long side
        # (the image is then at least 1600 px wide), a small crop enlarged to it.
        side = MARKETING_PANEL_PX
        while True:
            picture = compose(panels, title=f"{pair.label}: before and after", footer="",
                              watermark=clinic_name, panel_side=side, grow=True)
            if max(picture.size) >= MARKETING_MIN_PX:
                return picture
            side = int(side * MARKETING_MIN_PX / max(picture.size)) + 8  # a tall crop: larger panels
    panels = [
        Panel(fixed, f"Baseline: {pair.baseline.visit.visit_date:%d %b %Y}", photo_caption(pair.baseline)),
        Panel(moving, f"{stage_label(later)}: {later.visit.visit_date:%d %b %Y}",
              f"{photo_caption(later)}; aligned to the baseline"),
    ]
    return compose(panels, title=f"{pair.label}: baseline vs {stage_label(later).lower()}",
                   footer=f"{clinic_name} · exported {dt.date.today():%d %b %Y} · clinical record, not for publication")


def export_comparison(session: Session, storage: Storage, actor: User, series_id: str, view_key: str, *,
                      fmt: str = "png", later_id: str | None = None) -> ExportFile:
    require_export(session, actor)
    series = get_series(session, actor, series_id)
    if fmt not in ("png", "jpeg"):
        raise ValidationFailed("Choose PNG or JPEG.", field="format")
    pair = find_pair(session, series, view_key, later_id)
    picture = comparison_picture(storage, pair, clinic_name=actor.clinic.name)
    data = encode(picture, "JPEG" if fmt == "jpeg" else "PNG")
    name = comparison_filename(pair, "jpg" if fmt == "jpeg" else "png")
    row = record_export(session, actor, series, kind=EXPORT_COMPARISON, filename=name, data=data, view=pair.key,
                        files={name: sha256(data)}, originals=originals_of(pair))
    return ExportFile(name, "image/jpeg" if fmt == "jpeg" else "image/png", data, row)


def export_marketing(session: Session, storage: Storage, actor: User, series_id: str, view_key: str, *,
                     crop: bool = False, later_id: str | None = None) -> ExportFile:
    """Watermarked before/after without names, dates of birth or metadata; needs marketing consent."""
    from ..patients import active_consent

    require_export(session, actor)
    series = get_series(session, actor, series_id)
    if active_consent(series.patient, CONSENT_MARKETING) is None:
        audit.record(session, actor, "export.marketing_refused", "series", series.id, patient_id=series.patient_id,
                     reason="no marketing consent")
        raise ConsentRequired("No marketing image was made: this patient has not given marketing consent "
                              "(or has withdrawn it). Record the patient's signed marketing consent on their "
                              "page first.")
    if series.is_simulated or series.patient.is_simulated:
        # Simulated skin changes (the demo's, some on a real person's portrait) never advertise a treatment.
        audit.record(session, actor, "export.marketing_refused", "series", series.id, patient_id=series.patient_id,
                     reason="simulated photos")
        raise Conflict("No marketing image was made: these photos are simulated (the demo's). Simulated "
                       "changes are never shown as a treatment's result.")
    pair = find_pair(session, series, view_key, later_id)  # only ever a comparable pair
    data = encode(comparison_picture(storage, pair, clinic_name=actor.clinic.name, crop=crop, watermark=True))
    name = marketing_filename(pair)
    row = record_export(session, actor, series, kind=EXPORT_MARKETING, filename=name, data=data, view=pair.key,
                        files={name: sha256(data)}, originals=originals_of(pair), cropped=crop)
    return ExportFile(name, "image/png", data, row)
