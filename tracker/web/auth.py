"""Signing in and out, accepting a patient invitation, changing one's password."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from tracker.services import accounts, audit, invitations, sessions, two_factor
from tracker.services.errors import AuthenticationFailed, DomainError, InvitationInvalid
from tracker.services.health import health as health_report

from .access import EVERYONE, SIGNED_IN, role_required
from .context import actor, client_address, get_db
from .forms import AcceptInvitationForm, ChangePasswordForm, LoginForm
from .helpers import commit_or_show, show_error, unit_of_work
from .two_factor import start_code_step

bp = Blueprint("auth", __name__)


def home_url() -> str:
    if not current_user.is_authenticated:
        return url_for("auth.login")
    if current_user.is_patient:
        return url_for("patient.home")
    return url_for("staff.patients")


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never redirect off the site after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _sign_in(user: Any) -> None:
    """Open a server-side session for ``user`` (its token goes in the cookie) and commit."""
    with unit_of_work() as db:
        sessions.start_session(db, user, client=client_address())
    session.clear()  # a fresh session: nothing from before sign-in carries over
    login_user(user)


@bp.get("/")
@role_required(*EVERYONE)
def index() -> Any:
    return redirect(home_url())


@bp.get("/healthz")
@role_required(*EVERYONE)
def health() -> Any:
    """200 while everything works; 503 naming the worker while it is down. Also the queue's age."""
    status, body = health_report(get_db(), Path(current_app.config["TRACKER_CONFIG"].INSTANCE_PATH))
    return body, status


@bp.route("/login", methods=["GET", "POST"])
@role_required(*EVERYONE)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(home_url())
    form = LoginForm()
    error, status = None, 200
    if form.validate_on_submit():
        try:
            with unit_of_work(commit_on=(AuthenticationFailed,)) as db:  # a failed attempt is recorded
                user = accounts.authenticate(db, form.email.data, form.password.data,
                                             client=client_address())
        except AuthenticationFailed as e:
            error, status = e.message, e.status
        else:
            next_url = _safe_next(request.args.get("next"))
            if two_factor.is_enabled(user):
                return start_code_step(user, next_url)
            _sign_in(user)
            return redirect(next_url or home_url())
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@role_required(*SIGNED_IN)
def logout() -> Any:
    """Sign out here; with ``everywhere=1``, end this account's sessions on every device
    (a lost phone, a shared computer)."""
    me = actor()
    everywhere = request.form.get("everywhere") == "1"
    with unit_of_work() as db:
        if everywhere:
            accounts.sign_out_everywhere(db, me)
        else:
            sessions.end_session(db, me.session_token)
            audit.record(db, me, "user.signed_out", "user", me.id)
    logout_user()
    session.clear()
    flash("You are signed out on every device." if everywhere else "You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/invite/<token>", methods=["GET", "POST"])
@role_required(*EVERYONE)
def accept_invitation(token: str) -> Any:
    db = get_db()
    try:
        inv = invitations.open_invitation(db, token)
    except InvitationInvalid as e:
        return render_template("auth/invitation_invalid.html", message=e.message), e.status
    form = AcceptInvitationForm()
    if request.method == "GET":
        existing = invitations.existing_account(db, inv)
        form.email.data = (existing.email if existing else None) or inv.patient.email or ""
    if form.validate_on_submit():
        try:
            with unit_of_work(db):
                user = invitations.accept_invitation(db, token, email=form.email.data,
                                                     password=form.new_password.data)
        except DomainError as e:
            show_error(form, e, password="new_password")
        else:
            if current_user.is_authenticated:
                logout_user()
            _sign_in(user)
            flash("Welcome! Your account is ready. You can now see your photos and progress.", "success")
            return redirect(url_for("patient.home"))
    return render_template("auth/accept_invitation.html", form=form, patient=inv.patient, invitation=inv)


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*SIGNED_IN)
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        db = get_db()
        saved, user = commit_or_show(db, form, lambda: accounts.change_password(
            db, actor(), current=form.current_password.data, new=form.new_password.data))
        if saved:
            _sign_in(user)  # the session id includes the auth version, which just changed
            flash("Your password has been changed.", "success")
            return redirect(home_url())
    return render_template("auth/change_password.html", form=form)
