"""Two-factor sign-in pages: the code step after the password, setting it up (QR code,
recovery codes shown once), and the clinic admin's switch that requires it."""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from tracker.models import User
from tracker.services import two_factor
from tracker.services.errors import AuthenticationFailed, DomainError

from .access import ADMIN, EVERYONE, STAFF, role_required
from .context import actor, client_address, get_db
from .helpers import commit_or_flash, qr_data_uri, unit_of_work

bp = Blueprint("two_factor", __name__)

#: How long the code step may follow the password step.
PENDING_SECONDS = 300
PENDING = "two_factor_pending"
ENROLMENT = "two_factor_secret"


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=20)])


def start_code_step(user: User, next_url: str | None) -> Any:
    """After a right password: remember who is half signed in (in the signed cookie), ask for the code."""
    session.clear()
    session[PENDING] = {"user": user.id, "at": time.time(), "next": next_url or ""}
    return redirect(url_for("two_factor.code"))


@bp.route("/login/code", methods=["GET", "POST"])
@role_required(*EVERYONE)
def code() -> Any:
    from .auth import _sign_in, home_url

    pending = session.get(PENDING) or {}
    db = get_db()
    user = db.get(User, pending.get("user", "")) if pending else None
    if user is None or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        flash("Sign in again: the code step takes at most 5 minutes.", "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with unit_of_work(db, commit_on=(AuthenticationFailed,)):  # a failed attempt is recorded
                two_factor.check_code(db, user, form.code.data, client=client_address())
        except AuthenticationFailed as e:
            error, status = e.message, e.status
        else:
            _sign_in(user)
            return redirect(pending.get("next") or home_url())
    return render_template("auth/two_factor_code.html", form=form, error=error), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@role_required(*STAFF)
def setup() -> Any:
    db, me = get_db(), actor()
    form = CodeForm()
    if two_factor.is_enabled(me):
        if form.validate_on_submit() and request.form.get("action") == "disable":
            saved, _ = commit_or_flash(db, lambda: two_factor.disable(db, me, code=form.code.data))
            if saved:
                flash("Two-factor sign-in is off.", "success")
                return redirect(url_for("two_factor.setup"))
        return render_template("auth/two_factor_setup.html", enabled=True, form=form, me=me)
    secret = session.get(ENROLMENT) or two_factor.new_secret()
    session[ENROLMENT] = secret
    if form.validate_on_submit():
        try:
            with unit_of_work(db):
                codes = two_factor.enable(db, me, secret=secret, code=form.code.data)
        except DomainError as e:
            form.code.errors = [e.message]
        else:
            session.pop(ENROLMENT, None)
            return render_template("auth/two_factor_setup.html", enabled=True, recovery_codes=codes, form=form, me=me)
    uri = two_factor.provisioning_uri(me, secret)
    return render_template("auth/two_factor_setup.html", enabled=False, form=form, secret=secret,
                           qr=qr_data_uri(uri), me=me, required=two_factor.must_enrol(me))


@bp.post("/clinic/two-factor")
@role_required(*ADMIN)
def require() -> Any:
    db = get_db()
    required = request.form.get("required") == "1"
    saved, _ = commit_or_flash(db, lambda: two_factor.set_required(db, actor(), required))
    if saved:
        flash("Staff must now sign in with a code from an authenticator app." if required
              else "Two-factor sign-in is now optional for staff.", "success")
    return redirect(url_for("clinic.staff"))
