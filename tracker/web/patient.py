"""A patient's own pages: their series and photos, nothing else."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from tracker.services import access as obj
from tracker.services import audit, baselines, gallery, progress
from tracker.services import series as series_svc

from .access import PATIENT_ONLY, role_required
from .context import actor, get_db
from .helpers import unit_of_work

bp = Blueprint("patient", __name__, url_prefix="/me")
patient_only = role_required(*PATIENT_ONLY)


@bp.get("")
@patient_only
def home() -> Any:
    me = actor()
    with unit_of_work() as db:
        p = obj.get_patient(db, me, me.patient_id or "")
        grids = [progress.hide_superseded(db, gallery.series_grid(db, me, s.id)) for s in p.series]
        for grid in grids:
            gallery.record_view(db, me, grid)
    return render_template("patient/home.html", patient=p, grids=grids)


@bp.get("/series/<series_id>")
@patient_only
def series(series_id: str) -> Any:
    with unit_of_work() as db:
        grid = progress.hide_superseded(db, gallery.series_grid(db, actor(), series_id))
        gallery.record_view(db, actor(), grid)
    return render_template("patient/series.html", grid=grid, series=grid.series,
                           timeline=series_svc.timeline(grid.series),
                           progress_views=progress.series_progress(get_db(), actor(), series_id))


@bp.get("/photos/<photo_id>")
@patient_only
def photo(photo_id: str) -> Any:
    with unit_of_work() as db:
        p = obj.get_photo(db, actor(), photo_id)
        audit.record_view(db, actor(), [p.id], patient_id=p.patient_id, page="photo page")
    return render_template("patient/photo.html", photo=p, series=p.series, status=baselines.baseline_status(db, p))
