"""Technicians' and clinic admins' pages: patients, series, visits, upload, photos."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from wtforms import SelectChoice

from tracker.models import Photo, Visit
from tracker.models.vocabulary import (
    CONSENT_KINDS,
    CONSENT_PHOTOGRAPHY,
)
from tracker.services import (
    access as obj,
)
from tracker.services import (
    accounts,
    audit,
    baselines,
    gallery,
    invitations,
    patients,
    photo_notes,
    progress,
    review,
)
from tracker.services import (
    media as media_svc,
)
from tracker.services import (
    photos as photo_svc,
)
from tracker.services import (
    series as series_svc,
)
from tracker.services.analysis import analysis_against, quality_refusal
from tracker.services.errors import DomainError
from tracker.services.intake import PhotoTags
from tracker.services.photo_status import photo_status

from .access import STAFF, role_required
from .context import actor, get_db, get_storage, resources
from .forms import ConsentForm, DeletePhotoForm, PatientForm, RetagForm, SeriesForm, VisitForm
from .helpers import (
    commit_or_flash,
    commit_or_show,
    external_url,
    or_none,
    qr_data_uri,
    send_media,
    show_error,
    unit_of_work,
)

bp = Blueprint("staff", __name__)
staff_only = role_required(*STAFF)


# Patients ------------------------------------------------------------------------------
@bp.get("/patients", endpoint="patients")
@staff_only
def patients_list() -> Any:
    db, me = get_db(), actor()
    q = request.args.get("q", "").strip()
    people = patients.list_patients(db, me, search=q)
    return render_template("staff/patients.html", patients=people, q=q,
                           photo_counts=patients.photo_counts(db, me.clinic_id),
                           series_counts=patients.series_counts(db, me.clinic_id))


def _patient_input(form: PatientForm) -> patients.PatientInput:
    return patients.PatientInput(full_name=form.full_name.data, date_of_birth=form.date_of_birth.data,
                                 fitzpatrick=form.fitzpatrick.data, concerns=form.concerns.data or [],
                                 concerns_notes=form.concerns_notes.data or "", email=or_none(form.email.data))


@bp.route("/patients/new", methods=["GET", "POST"])
@staff_only
def new_patient() -> Any:
    form = PatientForm()
    if form.validate_on_submit():
        db, me = get_db(), actor()
        try:
            with unit_of_work(db):
                patient = patients.create_patient(db, me, _patient_input(form))
                if form.photography_consent_on.data:
                    patients.grant_consent(db, me, patient.id, CONSENT_PHOTOGRAPHY,
                                           granted_on=form.photography_consent_on.data)
        except DomainError as e:
            show_error(form, e, granted_on="photography_consent_on")
        else:
            flash(f"{patient.full_name} has been added.", "success")
            return redirect(url_for("staff.patient", patient_id=patient.id))
    return render_template("staff/patient_form.html", form=form, patient=None)


@bp.get("/patients/<patient_id>")
@staff_only
def patient(patient_id: str) -> Any:
    db, me = get_db(), actor()
    p = obj.get_patient(db, me, patient_id)
    consents = {kind: patients.active_consent(p, kind) for kind in CONSENT_KINDS}
    return render_template(
        "staff/patient.html", patient=p, consents=consents, consent_form=ConsentForm(),
        timelines={s.id: series_svc.timeline(s) for s in p.series},
        invitations=invitations.invitations_for(db, me, p.id),
        account=accounts.patient_account(db, p.id), now=dt.datetime.now(dt.timezone.utc),
    )


@bp.route("/patients/<patient_id>/edit", methods=["GET", "POST"])
@staff_only
def edit_patient(patient_id: str) -> Any:
    db, me = get_db(), actor()
    p = obj.get_patient(db, me, patient_id)
    form = PatientForm(obj=p)
    del form.photography_consent_on  # consents are changed on the patient page, with dates
    if form.validate_on_submit():
        saved, _ = commit_or_show(db, form, lambda: patients.update_patient(db, me, p.id, _patient_input(form)))
        if saved:
            flash("The patient record has been saved.", "success")
            return redirect(url_for("staff.patient", patient_id=p.id))
    return render_template("staff/patient_form.html", form=form, patient=p)


@bp.post("/patients/<patient_id>/consents")
@staff_only
def consent(patient_id: str) -> Any:
    db, me = get_db(), actor()
    form = ConsentForm()
    action = request.form.get("action")
    if not form.validate() or action not in ("grant", "revoke"):
        flash("Choose the consent and a valid date.", "error")
    else:
        try:
            with unit_of_work(db):
                if action == "grant":
                    patients.grant_consent(db, me, patient_id, form.kind.data, granted_on=form.on.data)
                else:
                    patients.revoke_consent(db, me, patient_id, form.kind.data, revoked_on=form.on.data)
            label = CONSENT_KINDS[form.kind.data]
            flash(f"{label} consent {'recorded' if action == 'grant' else 'revoked'}.", "success")
        except DomainError as e:
            flash(e.message, "error")
    return redirect(url_for("staff.patient", patient_id=patient_id))


# Series and visits ---------------------------------------------------------------------
def _series_input(form: SeriesForm) -> series_svc.SeriesInput:
    return series_svc.SeriesInput(treatment_type=form.treatment_type.data, treated_areas=form.treated_areas.data or [],
                                  planned_sessions=form.planned_sessions.data, interval_days=form.interval_days.data,
                                  notes=form.notes.data or "")


@bp.route("/patients/<patient_id>/series/new", methods=["GET", "POST"])
@staff_only
def new_series(patient_id: str) -> Any:
    db, me = get_db(), actor()
    p = obj.get_patient(db, me, patient_id)
    form = SeriesForm()
    if form.validate_on_submit():
        saved, s = commit_or_show(db, form, lambda: series_svc.create_series(db, me, p.id, _series_input(form)))
        if saved:
            flash("Treatment series created. Record the first session next.", "success")
            return redirect(url_for("staff.series", series_id=s.id))
    return render_template("staff/series_form.html", form=form, patient=p, series=None)


@bp.route("/series/<series_id>/edit", methods=["GET", "POST"])
@staff_only
def edit_series(series_id: str) -> Any:
    db, me = get_db(), actor()
    s = obj.get_series(db, me, series_id)
    form = SeriesForm(obj=s)
    if form.validate_on_submit():
        saved, _ = commit_or_show(db, form, lambda: series_svc.update_series(db, me, s.id, _series_input(form)))
        if saved:
            flash("The series has been saved.", "success")
            return redirect(url_for("staff.series", series_id=s.id))
    return render_template("staff/series_form.html", form=form, patient=s.patient, series=s)


@bp.get("/series/<series_id>")
@staff_only
def series(series_id: str) -> Any:
    with unit_of_work() as db:
        grid = progress.hide_superseded(db, gallery.series_grid(db, actor(), series_id))
        gallery.record_view(db, actor(), grid)
    return render_template("staff/series.html", grid=grid, series=grid.series, patient=grid.series.patient,
                           progress_views=progress.series_progress(get_db(), actor(), series_id),
                           awaiting_review={v.id for v in review.unreviewed_visits(get_db(), series_id)})


@bp.get("/series/<series_id>/panel")
@staff_only
def series_panel(series_id: str) -> Any:
    """The progress panel alone: live_status.js swaps it in when a result arrives."""
    s = obj.get_series(get_db(), actor(), series_id)
    return render_template("progress/_series_progress.html", series=s,
                           progress_views=progress.series_progress(get_db(), actor(), series_id))


def _visit_form(visit: Visit | None = None) -> VisitForm:
    form = VisitForm(obj=visit)
    me = actor()
    techs = accounts.technicians(get_db(), me.clinic_id)
    form.technician_id.choices = [SelectChoice("", "Not recorded")] + [SelectChoice(u.id, u.full_name) for u in techs]
    if visit is None and request.method == "GET":
        form.technician_id.data = me.id
    return form


def _visit_input(form: VisitForm) -> series_svc.VisitInput:
    return series_svc.VisitInput(
        kind=form.kind.data, visit_date=form.visit_date.data, technician_id=or_none(form.technician_id.data),
        device=form.device.data or "", energy_mj=form.energy_mj.data, fluence_j_cm2=form.fluence_j_cm2.data,
        density_pct=form.density_pct.data, passes=form.passes.data, spot_size_mm=form.spot_size_mm.data,
        anaesthesia=form.anaesthesia.data, complications=form.complications.data or [], notes=form.notes.data or "")


@bp.route("/series/<series_id>/visits/new", methods=["GET", "POST"])
@staff_only
def new_visit(series_id: str) -> Any:
    db, me = get_db(), actor()
    s = obj.get_series(db, me, series_id)
    form = _visit_form()
    if request.method == "GET":
        form.kind.data = series_svc.default_visit_kind(s)
    if form.validate_on_submit():
        saved, visit = commit_or_show(db, form, lambda: series_svc.create_visit(db, me, s.id, _visit_input(form)))
        if saved:
            flash(f"{visit.label} on {visit.visit_date:%d %b %Y} recorded. Upload its photos now.", "success")
            return redirect(url_for("staff.upload", visit_id=visit.id))
    return render_template("staff/visit_form.html", form=form, series=s, visit=None)


@bp.route("/visits/<visit_id>/edit", methods=["GET", "POST"])
@staff_only
def edit_visit(visit_id: str) -> Any:
    db, me = get_db(), actor()
    visit = obj.get_visit(db, me, visit_id)
    form = _visit_form(visit)
    if request.method == "GET":
        form.technician_id.data = visit.technician_id or ""
    if form.validate_on_submit():
        saved, _ = commit_or_show(db, form, lambda: series_svc.update_visit(db, me, visit.id, _visit_input(form)))
        if saved:
            flash("The visit has been saved.", "success")
            return redirect(url_for("staff.series", series_id=visit.series_id))
    return render_template("staff/visit_form.html", form=form, series=visit.series, visit=visit)


@bp.get("/visits/<visit_id>/upload")
@staff_only
def upload(visit_id: str) -> Any:
    db, me = get_db(), actor()
    visit = obj.get_visit(db, me, visit_id)
    consent_ok = patients.active_consent(visit.series.patient, CONSENT_PHOTOGRAPHY) is not None
    return render_template("staff/upload.html", visit=visit, series=visit.series, patient=visit.series.patient,
                           consent_ok=consent_ok, max_bytes=resources().limits.max_bytes)


# Photos --------------------------------------------------------------------------------
def _retag_form(photo: Photo, move_to: str | None) -> RetagForm:
    db, me = get_db(), actor()
    target = obj.get_patient(db, me, move_to) if move_to else photo.patient
    form = RetagForm(obj=photo)
    choices = []
    for s in target.series:
        for v in sorted(s.visits, key=lambda v: v.visit_date):
            choices.append(SelectChoice(v.id, f"{v.label}, {v.visit_date:%d %b %Y}", optgroup=s.title))
    form.visit_id.choices = choices
    if request.method == "GET":
        form.visit_id.data = photo.visit_id if target.id == photo.patient_id else (choices[0].value if choices else "")
    return form


@bp.get("/photos/<photo_id>")
@staff_only
def photo(photo_id: str) -> Any:
    db, me = get_db(), actor()
    with unit_of_work(db):
        p = obj.get_photo(db, me, photo_id)
        audit.record_view(db, me, [p.id], patient_id=p.patient_id, page="photo page")
    move_to = request.args.get("move_to") or None
    status = baselines.baseline_status(db, p)
    return render_template(
        "staff/photo.html", photo=p, series=p.series, patient=p.patient, status=status,
        analysis=analysis_against(db, p, status.baseline.id if status.baseline else None),
        refusal=quality_refusal(db, p.id), measures=progress.photo_measures(db, me, p.id),
        pstatus=photo_status(db, p), retag_form=_retag_form(p, move_to), delete_form=DeletePhotoForm(),
        move_to=obj.get_patient(db, me, move_to) if move_to else None,
        other_patients=[x for x in patients.list_patients(db, me) if x.id != p.patient_id],
        history=audit.events_for(db, me.clinic_id, "photo", p.id), notes=photo_notes.notes_of(db, me, p.id),
    )


@bp.get("/photos/<photo_id>/panel")
@staff_only
def photo_panel(photo_id: str) -> Any:
    """The photo's measurement section alone: live_status.js swaps it in when the result arrives."""
    db, me = get_db(), actor()
    p = obj.get_photo(db, me, photo_id)
    return render_template("progress/_photo_measures.html", photo=p, status=baselines.baseline_status(db, p),
                           refusal=quality_refusal(db, p.id), measures=progress.photo_measures(db, me, p.id))


@bp.post("/photos/<photo_id>/retag")
@staff_only
def retag_photo(photo_id: str) -> Any:
    db, me = get_db(), actor()
    form = RetagForm()
    if not form.validate():
        flash("Check the new tags: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in form.errors.items()), "error")
        return redirect(url_for("staff.photo", photo_id=photo_id))
    tags = PhotoTags(view=form.view.data, time_point=form.time_point.data, region=form.region.data or "",
                     days_after=form.days_after.data)
    saved, p = commit_or_flash(db, lambda: photo_svc.retag_photo(
        db, me, photo_id, visit_id=form.visit_id.data, tags=tags, reason=form.reason.data))
    if not saved:
        return redirect(url_for("staff.photo", photo_id=photo_id))
    flash("The photo has been re-filed. The change is recorded.", "success")
    return redirect(url_for("staff.photo", photo_id=p.id))


@bp.post("/photos/<photo_id>/delete")
@staff_only
def delete_photo(photo_id: str) -> Any:
    db, me = get_db(), actor()
    p = obj.get_photo(db, me, photo_id)
    series_id = p.series_id
    form = DeletePhotoForm()
    if not form.validate():
        flash("Say why the photo is deleted; the reason is recorded.", "error")
        return redirect(url_for("staff.photo", photo_id=photo_id))
    photo_svc.delete_photo(db, get_storage(), me, photo_id, reason=form.reason.data)
    flash("The photo has been deleted. The deletion is recorded.", "success")
    return redirect(url_for("staff.series", series_id=series_id))


@bp.post("/photos/<photo_id>/baseline")
@staff_only
def choose_baseline(photo_id: str) -> Any:
    with unit_of_work() as db:
        row = baselines.choose_baseline(db, actor(), photo_id)
    flash(f"This photo is now the baseline of its view ({baselines.baseline_label(row.photo)}). "
          "The view's photos will be measured against it.", "success")
    return redirect(url_for("staff.photo", photo_id=photo_id))


@bp.post("/series/<series_id>/baseline/restore")
@staff_only
def restore_baseline(series_id: str) -> Any:
    db = get_db()
    saved, _ = commit_or_flash(db, lambda: baselines.restore_default_baseline(
        db, actor(), series_id, request.form.get("view", ""), request.form.get("region", "")))
    if saved:
        flash("The view uses the default baseline again.", "success")
    back = request.form.get("photo_id")
    if back:
        return redirect(url_for("staff.photo", photo_id=back))
    return redirect(url_for("staff.series", series_id=series_id))


@bp.post("/visits/<visit_id>/review")
@staff_only
def review_visit(visit_id: str) -> Any:
    db = get_db()
    saved, visit = commit_or_flash(db, lambda: review.mark_reviewed(db, actor(), visit_id))
    if saved and visit is not None:
        flash(f"{visit.label} ({visit.visit_date:%d %b %Y}) is released: the patient now sees its photos and results.",
              "success")
        return redirect(url_for("staff.series", series_id=visit.series_id))
    return redirect(request.referrer or url_for("staff.patients"))


@bp.post("/photos/<photo_id>/notes")
@staff_only
def add_photo_note(photo_id: str) -> Any:
    db = get_db()
    saved, _ = commit_or_flash(db, lambda: photo_notes.add_note(db, actor(), photo_id, request.form.get("body", "")))
    if saved:
        flash("Note saved (staff only).", "success")
    return redirect(url_for("staff.photo", photo_id=photo_id) + "#notes")


@bp.get("/photos/<photo_id>/original")
@staff_only
def download_original(photo_id: str) -> Any:
    with unit_of_work() as db:
        media = media_svc.original_download(db, get_storage(), actor(), photo_id)
    return send_media(media)


# Invitations ---------------------------------------------------------------------------
@bp.post("/patients/<patient_id>/invitations")
@staff_only
def create_invitation(patient_id: str) -> Any:
    with unit_of_work() as db:
        inv, token = invitations.create_invitation(db, actor(), patient_id,
                                                   valid_days=resources().config.INVITATION_DAYS)
    link = external_url("auth.accept_invitation", token=token)
    # Shown once: only the token's hash is stored. Reloading does not show it again.
    return render_template("staff/invitation.html", invitation=inv, patient=inv.patient, link=link,
                           qr=qr_data_uri(link))


@bp.post("/patients/<patient_id>/access")
@staff_only
def patient_access(patient_id: str) -> Any:
    db = get_db()
    active = request.form.get("active") == "1"
    saved, user = commit_or_flash(db, lambda: accounts.set_patient_access(db, actor(), patient_id, active))
    if saved:
        flash(f"{user.full_name} can {'sign in again' if active else 'no longer sign in'}.", "success")
    return redirect(url_for("staff.patient", patient_id=patient_id))


@bp.post("/invitations/<invitation_id>/revoke")
@staff_only
def revoke_invitation(invitation_id: str) -> Any:
    with unit_of_work() as db:
        inv = invitations.revoke_invitation(db, actor(), invitation_id)
    flash("The invitation has been withdrawn; its link no longer works.", "success")
    return redirect(url_for("staff.patient", patient_id=inv.patient_id))
