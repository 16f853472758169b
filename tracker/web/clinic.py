"""Clinic administration: staff accounts, password resets, the activity log."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from tracker.models import AuditEvent, User
from tracker.services import accounts
from tracker.services.errors import DomainError

from .access import ADMIN, role_required
from .context import actor, get_db
from .forms import StaffForm
from .helpers import show_error

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
        try:
            user, temporary = accounts.create_staff(db, actor(), email=form.email.data,
                                                    full_name=form.full_name.data, role=form.role.data)
            db.commit()
        except DomainError as e:
            db.rollback()
            show_error(form, e)
        else:
            return render_template("clinic/temporary_password.html", user=user, password=temporary, created=True)
    return render_template("clinic/staff_form.html", form=form)


@bp.post("/staff/<user_id>/reset-password")
@admin_only
def reset_password(user_id: str) -> Any:
    db = get_db()
    user, temporary = accounts.reset_staff_password(db, actor(), user_id)
    db.commit()
    return render_template("clinic/temporary_password.html", user=user, password=temporary, created=False)


@bp.post("/staff/<user_id>/active")
@admin_only
def set_active(user_id: str) -> Any:
    db = get_db()
    active = request.form.get("active") == "1"
    try:
        user = accounts.set_staff_active(db, actor(), user_id, active)
        db.commit()
        flash(f"{user.full_name} can {'now' if active else 'no longer'} sign in.", "success")
    except DomainError as e:
        db.rollback()
        if e.status == 404:
            raise
        flash(e.message, "error")
    return redirect(url_for("clinic.staff"))


@bp.get("/activity")
@admin_only
def activity() -> Any:
    me = actor()
    db = get_db()
    events = list(db.scalars(
        select(AuditEvent).where(AuditEvent.clinic_id == me.clinic_id)
        .order_by(AuditEvent.created_at.desc()).limit(200)))
    names = {u.id: u.full_name for u in db.scalars(select(User).where(User.clinic_id == me.clinic_id))}
    return render_template("clinic/activity.html", events=events, names=names)
