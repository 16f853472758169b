"""Progress pages: compare two photos, charts (page, JSON, CSV), overlays, capture, region editor,
clinic outcomes and progress settings. Access: the table in access.py plus object checks in services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for

from tracker.analysis.measures import MEASURE_BY_KEY
from tracker.models.vocabulary import STAFF_ROLES, TREATMENT_TYPES
from tracker.services import access as obj, accounts, audit, display_images, progress, regions, review
from tracker.services import media as media_svc, series as series_svc
from tracker.services.analysis import image_extension

from .access import ADMIN, MEDIA, STAFF, role_required
from .context import actor, get_db, get_storage
from .helpers import attachment, commit_or_flash, send_media, unit_of_work

bp = Blueprint("progress", __name__)
signed_in = role_required(*MEDIA)
staff_only = role_required(*STAFF)
admin_only = role_required(*ADMIN)


def _view_args() -> tuple[str | None, str]:
    return request.args.get("view") or None, request.args.get("region", "")


def _is_staff() -> bool:
    return actor().role in STAFF_ROLES


@bp.get("/series/<series_id>/compare")
@signed_in
def compare(series_id: str) -> Any:
    db, me = get_db(), actor()
    series = obj.get_series(db, me, series_id)
    view, region = _view_args()
    all_views = progress.series_progress(db, me, series.id)
    chosen = progress.series_progress(db, me, series.id, view=view or (all_views[0].view if all_views else None),
                                      region=region if view else (all_views[0].region if all_views else ""),
                                      later_id=request.args.get("b")) if all_views else []
    vp = chosen[0] if chosen else None
    hide = not _is_staff() and progress.overlays_hidden_from_patients(db, me.clinic_id)
    pair = vp.pair if vp else None
    healing_id = request.args.get("healing")
    if vp and healing_id:
        pair = next((h for h in vp.healing if h.later.photo.id == healing_id), pair)
    elif vp and (request.args.get("a") or request.args.get("b")):
        pair = progress.any_pair(vp.points, request.args.get("a"), request.args.get("b")) or pair
    images = {"base": _images(pair.baseline, hide), "later": _images(pair.later, hide)} if pair else None
    if pair is not None:  # one activity line per photo shown, not one per image or overlay
        with unit_of_work(db):
            for pt in (pair.baseline, pair.later):
                audit.record_view(db, me, [pt.photo.id], patient_id=series.patient_id, page="compare")
    notes = _pair_notes(pair)
    if not _is_staff():  # a patient reads only that two later photos are not judged against each other
        notes = notes[:1] if pair is not None and pair.baseline.kind != "baseline" else []
    return render_template("progress/compare.html", series=series, patient=series.patient, views=all_views, vp=vp,
                           pair=pair, images=images, hide_overlays=hide, is_staff=_is_staff(),
                           pair_changes=progress.changes(pair.later) if pair else [], pair_notes=notes,
                           # area by area, when the pair is the baseline and a later face photo
                           pair_regions=progress.region_changes(pair.later)
                           if pair is not None and pair.baseline.kind == "baseline" else [],
                           choices=[pt for pt in vp.points if pt.usable] if vp else [])


def _pair_notes(pair: progress.Pair | None) -> list[str]:
    if pair is None:
        return []
    notes = progress.comparison_notes(pair.later)
    if pair.baseline.kind != "baseline":
        notes.insert(0, "The figures compare the later photo with the baseline; the change between these two "
                        "photos is not judged.")
    return notes


def _images(point: progress.Point, hide_overlays: bool) -> dict[str, dict[str, str] | None]:
    """A photo in the baseline frame and its overlays: ``{"src": display size, "full": zoomed in}``
    per layer (None where there is none). The page loads display sizes; full size only on zoom."""
    keys = progress.overlay_keys(point)
    aid = point.analysis.id if point.analysis is not None else None

    def layer(name: str) -> dict[str, str] | None:
        if not aid or name not in keys:
            return None
        ext = image_extension(keys[name])
        return {"src": url_for("progress.overlay", analysis_id=aid, name=name, ext=ext, size="display"),
                "full": url_for("progress.overlay", analysis_id=aid, name=name, ext=ext)}

    out = {name: None if hide_overlays else layer(name) for name in ("redness", "spots", "lines")}
    if point.kind == "baseline":
        shown = url_for("media.display", photo_id=point.photo.id) if point.photo.display_key else None
        out["photo"] = {"src": shown, "full": shown} if shown else None
    else:
        out["photo"] = layer("aligned")
    return out


@bp.get("/series/<series_id>/timeline")
@signed_in
def timeline(series_id: str) -> Any:
    """One view across every session, side by side, aligned to the baseline, figures under each photo."""
    db, me = get_db(), actor()
    series = obj.get_series(db, me, series_id)
    view, region = _view_args()
    all_views = progress.series_progress(db, me, series.id)
    vp = next((v for v in all_views if v.view == view and v.region == region), all_views[0] if all_views else None)
    shown = [pt for pt in vp.points if pt.usable or _is_staff()] if vp else []
    cells = [(pt, _images(pt, True)["photo"], progress.changes(pt)) for pt in shown]
    if shown:
        with unit_of_work(db):
            audit.record_view(db, me, [pt.photo.id for pt in shown], patient_id=series.patient_id, page="timeline",
                              obj_type="series", obj_id=series.id)
    return render_template("progress/timeline.html", series=series, patient=series.patient, views=all_views, vp=vp,
                           cells=cells, is_staff=_is_staff())


@bp.get("/series/<series_id>/charts")
@signed_in
def charts(series_id: str) -> Any:
    db, me = get_db(), actor()
    series = obj.get_series(db, me, series_id)
    views = progress.series_progress(db, me, series.id)
    return render_template("progress/charts.html", series=series, patient=series.patient, views=views,
                           is_staff=_is_staff())


@bp.get("/api/series/<series_id>/chart.json")
@signed_in
def chart_json(series_id: str) -> Any:
    return jsonify(_chart(series_id))


def _chart(series_id: str) -> dict[str, Any]:
    """The chart numbers for the asked view; a patient's hold only published photos, no flags, and
    plain measure names unless the clinic shows details."""
    db, me = get_db(), actor()
    view, region = _view_args()
    series = obj.get_series(db, me, series_id)
    data = progress.chart_data(db, me, series.id, view or "front", region,
                               visible=progress.visible_ids(db, me, series))
    if not _is_staff():
        data["flags"] = []  # flags are for the technician
        if not review.settings_of(db, me.clinic_id).patient_details:
            for m in data["measures"]:
                m["label"] = MEASURE_BY_KEY[m["key"]].patient_label.capitalize()
    return data


@bp.get("/series/<series_id>/chart.csv")
@signed_in
def chart_csv(series_id: str) -> Any:
    data = _chart(series_id)
    name = f"chart-{data['view_label'].lower().replace(' ', '-').replace(':', '')}-{series_id}.csv"
    return Response(progress.chart_csv(data), mimetype="text/csv",
                    headers={"Content-Disposition": attachment(name), "Cache-Control": "no-store"})


@bp.get("/analyses/<analysis_id>/<name>.<any(jpg, png):ext>")
@signed_in
def overlay(analysis_id: str, name: str, ext: str) -> Any:
    with unit_of_work() as db:
        media = media_svc.overlay_image(db, get_storage(), actor(), analysis_id, name, ext)
    if request.args.get("size") == "display":  # screen size; the full image only when zoomed in
        return Response(display_images.display_jpeg(get_storage(), media.key), mimetype="image/jpeg")
    return send_media(media, etag=True)


@bp.get("/clinic/outcomes")
@admin_only
def outcomes() -> Any:
    db, me = get_db(), actor()
    since, until = _date(request.args.get("since")), _date(request.args.get("until"))
    tech = request.args.get("technician") or None
    rows, flagged = progress.outcomes(db, me, since=since, until=until, technician_id=tech)
    return render_template("progress/outcomes.html", rows=rows, flagged=flagged, measures=progress.MEASURES,
                           technicians=accounts.technicians(db, me.clinic_id), since=since, until=until, tech=tech)


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/clinic/progress-settings", methods=["GET", "POST"])
@admin_only
def settings() -> Any:
    db, me = get_db(), actor()
    if request.method == "POST":
        days = {kind: request.form.get(f"days_{kind}", "") for kind in TREATMENT_TYPES}
        def save() -> None:
            progress.save_progress_settings(db, me, days, hide_overlays=request.form.get("hide_overlays") == "1")
            review.set_publishing(db, me, auto_publish=request.form.get("auto_publish") == "1",
                                  patient_details=request.form.get("patient_details") == "1")

        saved, _ = commit_or_flash(db, save)
        if saved:
            flash("Progress settings saved.", "success")
            return redirect(url_for("progress.settings"))
    return render_template("progress/settings.html", windows=progress.healing_windows(db, me.clinic_id),
                           kinds=TREATMENT_TYPES, hide=progress.overlays_hidden_from_patients(db, me.clinic_id),
                           publishing=review.settings_of(db, me.clinic_id))


@bp.get("/visits/<visit_id>/capture")
@staff_only
def capture(visit_id: str) -> Any:
    db, me = get_db(), actor()
    visit = obj.get_visit(db, me, visit_id)
    retake_of = obj.get_photo(db, me, request.args["retake_of"]) if request.args.get("retake_of") else None
    ghosts = regions.baseline_ghosts(db, me, visit.series_id)
    time_point = retake_of.time_point if retake_of else series_svc.default_time_point(visit)
    return render_template("progress/capture.html", visit=visit, series=visit.series, patient=visit.series.patient,
                           ghosts=ghosts, retake_of=retake_of, time_point=time_point)


@bp.post("/photos/<photo_id>/retake")
@staff_only
def retake(photo_id: str) -> Any:
    with unit_of_work() as db:
        row = progress.record_retake(db, actor(), photo_id, request.form.get("retake_photo_id", ""))
    return jsonify(refused=row.refused_photo_id, retake=row.retake_photo_id,
                   url=url_for("staff.photo", photo_id=row.retake_photo_id))


@bp.route("/photos/<photo_id>/region", methods=["GET", "POST"])
@staff_only
def region_editor(photo_id: str) -> Any:
    db, me = get_db(), actor()
    photo = obj.get_photo(db, me, photo_id)
    if request.method == "POST":
        saved, rev = commit_or_flash(db, lambda: regions.save_region(
            db, get_storage(), me, photo.id, polygon=request.form.get("polygon", ""),
            chart_corners=request.form.get("corners", "")))
        if saved:
            flash(f"Region revision {rev.revision} saved. The view's photos are measured again with it.", "success")
            return redirect(url_for("progress.region_editor", photo_id=photo.id))
    current = regions.current_revision(db, photo.series_id, photo.view, photo.region or "")
    return render_template("progress/region.html", photo=photo, series=photo.series, patient=photo.patient,
                           current=current, is_baseline=regions.is_baseline(db, photo))
