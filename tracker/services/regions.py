"""The measurement region and chart corners a technician marks on a view's baseline, versioned.

Each save makes a new revision (1, 2, ...) for the view's current baseline photo: the
polygon is rasterised into a PNG mask on the baseline's full-resolution grid and stored,
and every photo of the view is queued for analysis with that revision (the baseline's
own analysis also carries the chart corners). ``run_analysis`` finds the revision's mask
and corners through :func:`revision_for`.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Baseline, Photo, RegionRevision, User
from tracker.models.vocabulary import view_label
from tracker.storage import Storage

from . import audit
from .access import get_photo, get_series, require_staff
from .analysis import ensure_analysis, photo_quality_failed
from .baselines import current_baseline_photo_id, key_of, photos_of_view
from .errors import ValidationFailed

MAX_POINTS = 400


def is_baseline(session: Session, photo: Photo) -> bool:
    return current_baseline_photo_id(session, key_of(photo)) == photo.id


def current_revision(session: Session, series_id: str, view: str, region: str) -> RegionRevision | None:
    """The newest revision for the view's current baseline photo (None: the automatic region)."""
    base_id = current_baseline_photo_id(session, (series_id, view, region))
    if base_id is None:
        return None
    return session.scalar(select(RegionRevision).where(
        RegionRevision.series_id == series_id, RegionRevision.view == view, RegionRevision.region == region,
        RegionRevision.baseline_photo_id == base_id).order_by(RegionRevision.revision.desc()).limit(1))


def revision_for(session: Session, baseline_photo_id: str, roi_revision: int) -> RegionRevision | None:
    if not roi_revision:
        return None
    return session.scalar(select(RegionRevision).where(RegionRevision.baseline_photo_id == baseline_photo_id,
                                                       RegionRevision.revision == roi_revision))


def _parse_points(text: str, what: str) -> list[tuple[float, float]]:
    try:
        raw: Any = json.loads(text) if text.strip() else []
    except ValueError:
        raise ValidationFailed(f"The {what} could not be read; draw it again.") from None
    if not isinstance(raw, list):
        raise ValidationFailed(f"The {what} could not be read; draw it again.")
    if raw and all(isinstance(v, (int, float)) for v in raw):  # flat list of numbers
        raw = [raw[i:i + 2] for i in range(0, len(raw), 2)]
    points = []
    for p in raw[:MAX_POINTS + 1]:
        if not (isinstance(p, (list, tuple)) and len(p) == 2 and all(isinstance(v, (int, float)) for v in p)):
            raise ValidationFailed(f"The {what} could not be read; draw it again.")
        points.append((float(p[0]), float(p[1])))
    return points


def _inside(points: list[tuple[float, float]], photo: Photo, what: str) -> None:
    for x, y in points:
        if not (0 <= x <= photo.width and 0 <= y <= photo.height):
            raise ValidationFailed(f"A point of the {what} lies outside the photo.")


def mask_png(points: list[tuple[float, float]], width: int, height: int) -> bytes:
    """A white-inside polygon mask as PNG (mode L) on a ``width`` x ``height`` grid."""
    from PIL import Image, ImageDraw

    im = Image.new("L", (width, height), 0)
    ImageDraw.Draw(im).polygon(points, fill=255)
    buf = io.BytesIO()
    im.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def load_mask(storage: Storage, revision: RegionRevision) -> Any:
    """The revision's mask as a boolean array (None when it has no polygon)."""
    if not revision.mask_key:
        return None
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(storage.read(revision.mask_key))) as im:
        return np.asarray(im.convert("L")) > 127


def corners_of(revision: RegionRevision | None) -> list[float] | None:
    return json.loads(revision.chart_corners) if revision is not None and revision.chart_corners else None


def save_region(session: Session, storage: Storage, actor: User, photo_id: str, *, polygon: str,
                chart_corners: str) -> RegionRevision:
    """Store a new revision for the baseline ``photo_id`` and queue the view's analyses with it."""
    require_staff(actor)
    photo = get_photo(session, actor, photo_id)
    if not is_baseline(session, photo):
        raise ValidationFailed("Mark the region on the view's baseline photo.")
    points = _parse_points(polygon, "measurement region")
    corners = _parse_points(chart_corners, "chart corners")
    if points and len(points) < 3:
        raise ValidationFailed("A region needs at least three points.")
    if len(points) > MAX_POINTS:
        raise ValidationFailed(f"A region has at most {MAX_POINTS} points.")
    if corners and len(corners) != 4:
        raise ValidationFailed("Mark all four corners of the chart (top left, top right, bottom right, bottom left).")
    if not points and not corners:
        raise ValidationFailed("Draw a region or mark the chart's corners first.")
    _inside(points, photo, "region")
    _inside(corners, photo, "chart corners")
    current = current_revision(session, photo.series_id, photo.view, photo.region or "")
    rev = RegionRevision(clinic_id=photo.clinic_id, series_id=photo.series_id, view=photo.view,
                         region=photo.region or "", baseline_photo_id=photo.id,
                         revision=(current.revision + 1) if current else 1,
                         polygon_json=json.dumps([[round(x, 1), round(y, 1)] for x, y in points]) if points else None,
                         chart_corners=json.dumps([round(v, 1) for p in corners for v in p]) if corners else None,
                         created_by_id=actor.id)
    session.add(rev)
    session.flush()
    if points:
        rev.mask_key = f"regions/{photo.series_id}/{rev.id}.png"
        png = mask_png(points, photo.width, photo.height)
        storage.put_bytes(rev.mask_key, png)
        rev.mask_sha256 = hashlib.sha256(png).hexdigest()
    for p in photos_of_view(session, key_of(photo)):
        if p.id != photo.id and photo_quality_failed(session, p.id):
            continue
        ensure_analysis(session, p, None if p.id == photo.id else photo.id, roi_revision=rev.revision,
                        chart_corners=rev.chart_corners if p.id == photo.id else None)
    audit.record(session, actor, "photo.region_saved", "photo", photo.id, revision=rev.revision,
                 points=len(points), chart_corners=bool(corners))
    session.flush()
    return rev


@dataclass(frozen=True)
class Ghost:
    view: str
    region: str
    label: str
    photo: Photo


def baseline_ghosts(session: Session, actor: User, series_id: str) -> list[Ghost]:
    """Each view's baseline photo, to lay over the camera picture when capturing."""
    series = get_series(session, actor, series_id)
    out = []
    for b in session.scalars(select(Baseline).where(Baseline.series_id == series.id)):
        photo = session.get(Photo, b.photo_id)
        if photo is not None and photo.display_key:
            out.append(Ghost(b.view, b.region, view_label(b.view, b.region), photo))
    return sorted(out, key=lambda g: (g.view != "front", g.label))
