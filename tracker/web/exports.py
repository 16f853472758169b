"""Exports: comparison images, the PDF report, the ZIP bundle and marketing images.

Every download is a POST (it is recorded); the services decide who may export and refuse
a marketing image without the patient's marketing consent.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from tracker.models.vocabulary import CONSENT_MARKETING
from tracker.services import access as obj
from tracker.services import exports
from tracker.services.errors import ConsentRequired, DomainError, Forbidden
from tracker.services.patients import active_consent

from .access import ADMIN, STAFF, role_required
from .context import actor, get_db, get_storage
from .helpers import unit_of_work

bp = Blueprint("exports", __name__)
staff_only = role_required(*STAFF)
admin_only = role_required(*ADMIN)


def _chosen() -> dict[str, str]:
    """The pairs staff picked: ``later:<view key>`` = photo id (query string or form)."""
    source = request.form if request.method == "POST" else request.args
    return {k.removeprefix("later:"): v for k, v in source.items() if k.startswith("later:") and v}


def _page(series_id: str, status: int = 200) -> Any:
    db, me = get_db(), actor()
    series = obj.get_series(db, me, series_id)
    return render_template(
        "exports/series.html", series=series, patient=series.patient,
        pairs=exports.progress_pairs(db, series, _chosen()), chosen=_chosen(),
        may_export=exports.can_export(db, me), marketing_consent=active_consent(series.patient, CONSENT_MARKETING),
        history=exports.exports_for_series(db, me, series.id),
        unmeasured=exports.views_without_baseline(db, series),
    ), status


@bp.get("/series/<series_id>/exports")
@staff_only
def series_page(series_id: str) -> Any:
    return _page(series_id)


def _download(series_id: str, make: Any) -> Any:
    try:
        # A refused marketing export keeps its audit entry; nothing was produced.
        with unit_of_work(commit_on=(ConsentRequired,)) as db:
            out = make(db)
    except Forbidden as e:  # this clinic lets only admins export: back to the page, which says so
        flash(e.message, "error")
        return redirect(url_for("exports.series_page", series_id=series_id), 303)
    except DomainError as e:
        if e.status == 404:
            raise
        flash(e.message, "error")
        return _page(series_id, e.status)
    return send_file(io.BytesIO(out.data), mimetype=out.mimetype, as_attachment=True, download_name=out.filename,
                     max_age=0)


@bp.post("/series/<series_id>/exports/comparison")
@staff_only
def comparison(series_id: str) -> Any:
    view, fmt = request.form.get("view", ""), request.form.get("format", "png")
    return _download(series_id, lambda db: exports.export_comparison(db, get_storage(), actor(), series_id, view,
                                                                     fmt=fmt, later_id=_chosen().get(view)))


@bp.post("/series/<series_id>/exports/marketing")
@staff_only
def marketing(series_id: str) -> Any:
    view, crop = request.form.get("view", ""), request.form.get("crop") == "1"
    return _download(series_id, lambda db: exports.export_marketing(db, get_storage(), actor(), series_id, view,
                                                                    crop=crop, later_id=_chosen().get(view)))


@bp.post("/series/<series_id>/exports/report")
@staff_only
def report(series_id: str) -> Any:
    return _download(series_id, lambda db: exports.export_report(db, get_storage(), actor(), series_id, _chosen()))


@bp.post("/series/<series_id>/exports/bundle")
@staff_only
def bundle(series_id: str) -> Any:
    originals, report = request.form.get("originals") == "1", request.form.get("report") == "1"
    return _download(series_id, lambda db: exports.export_bundle(db, get_storage(), actor(), series_id, _chosen(),
                                                                 include_originals=originals, include_report=report))


@bp.get("/clinic/exports")
@admin_only
def clinic_exports() -> Any:
    db, me = get_db(), actor()
    return render_template("exports/clinic.html", records=exports.list_exports(db, me),
                           settings=exports.settings_for(db, me.clinic_id))


@bp.post("/clinic/exports/settings")
@admin_only
def settings() -> Any:
    allowed = request.form.get("technicians_may_export") == "1"
    with unit_of_work() as db:
        exports.set_technicians_may_export(db, actor(), allowed)
    flash("Technicians can now export." if allowed else "Only clinic admins can export now.", "success")
    return redirect(url_for("exports.clinic_exports"))
