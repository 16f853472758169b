"""Clinic administration: staff accounts, password resets, the activity log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from tracker.models import User, utcnow
from tracker.services import accounts, audit, erasure
from tracker.services.access import get_patient
from tracker.services.errors import ValidationFailed

from .access import ADMIN, role_required
from .context import actor, get_db, get_storage
from .forms import StaffForm
from .helpers import attachment, commit_or_flash, commit_or_show, unit_of_work

bp = Blueprint("clinic", __name__, url_prefix="/clinic")
admin_only = role_required(*ADMIN)


@bp.get("/staff")
@admin_only
def staff() -> Any:
    return render_template("clinic/staff.html", staff=accounts.list_staff(get_db(), actor()))


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_only
def new_staff() -> Any:
    form = StaffForm()
    if form.validate_on_submit():
        db = get_db()
        saved, created = commit_or_show(db, form, lambda: accounts.create_staff(
            db, actor(), email=form.email.data, full_name=form.full_name.data, role=form.role.data))
        if saved:
            user, temporary = created
            return render_template("clinic/temporary_password.html", user=user, password=temporary, created=True)
    return render_template("clinic/staff_form.html", form=form)


@bp.post("/staff/<user_id>/reset-password")
@admin_only
def reset_password(user_id: str) -> Any:
    with unit_of_work() as db:
        user, temporary = accounts.reset_staff_password(db, actor(), user_id)
    return render_template("clinic/temporary_password.html", user=user, password=temporary, created=False)


@bp.post("/staff/<user_id>/active")
@admin_only
def set_active(user_id: str) -> Any:
    db = get_db()
    active = request.form.get("active") == "1"
    saved, user = commit_or_flash(db, lambda: accounts.set_staff_active(db, actor(), user_id, active))
    if saved:
        flash(f"{user.full_name} can {'now' if active else 'no longer'} sign in.", "success")
    return redirect(url_for("clinic.staff"))


#: Filters of the activity page: label -> action prefix.
ACTIVITY_FILTERS = {"all": "", "sign-ins": "user.sign", "photo views": "photo.viewed", "photos": "photo.",
                    "patients": "patient.", "exports": "export", "audit exports": "audit."}


@bp.get("/activity")
@admin_only
def activity() -> Any:
    me = actor()
    db = get_db()
    shown = request.args.get("show", "all")
    events = audit.clinic_events(db, me, limit=200, action_prefix=ACTIVITY_FILTERS.get(shown, ""))
    names = {u.id: u.full_name for u in db.scalars(select(User).where(User.clinic_id == me.clinic_id))}
    return render_template("clinic/activity.html", events=events, names=names, filters=ACTIVITY_FILTERS,
                           shown=shown if shown in ACTIVITY_FILTERS else "all")


@bp.get("/activity.csv")
@admin_only
def activity_export() -> Any:
    with unit_of_work() as db:
        body = audit.export_csv(db, actor())
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": attachment(f"audit-{utcnow():%Y%m%d-%H%M%S}.csv")})


@bp.route("/patients/<patient_id>/erase", methods=["GET", "POST"])
@admin_only
def erase_patient(patient_id: str) -> Any:
    db, me = get_db(), actor()
    patient = get_patient(db, me, patient_id)
    error = None
    if request.method == "POST":
        try:
            result = erasure.erase_patient(db, get_storage(), me, patient.id,
                                           confirm_name=request.form.get("confirm_name", "")[:300])
        except ValidationFailed as e:
            db.rollback()
            error = e.message
        else:
            flash(f"The patient's records, {result.photos} photos and their files were erased. "
                  "The activity log keeps that it happened.", "success")
            return redirect(url_for("staff.patients"))
    return render_template("clinic/erase_patient.html", patient=patient, error=error), (400 if error else 200)
