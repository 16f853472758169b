"""Who may reach each endpoint: ONE declared table, enforced for every request.

The table below is the source of truth. ``enforce_access`` runs before every
request (before CSRF checks) and refuses anything the table does not allow: an
anonymous visitor is sent to sign in (JSON routes answer 401), a signed-in user
of the wrong role gets 403. An endpoint missing from the table is refused, and
``check_table`` makes the app refuse to start if the table and the routes (or the
``@role_required`` marks on the views) disagree. Object-level checks (same clinic;
a patient's own records) live in :mod:`tracker.services.access`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, abort, jsonify, redirect, request, url_for
from flask_login import current_user

from tracker.models.vocabulary import CLINIC_ADMIN, PATIENT, TECHNICIAN
from tracker.services import two_factor

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, PATIENT, TECHNICIAN, CLINIC_ADMIN)

EVERYONE = frozenset(ROLES)
SIGNED_IN = frozenset({PATIENT, TECHNICIAN, CLINIC_ADMIN})
STAFF = frozenset({TECHNICIAN, CLINIC_ADMIN})
ADMIN = frozenset({CLINIC_ADMIN})
PATIENT_ONLY = frozenset({PATIENT})
MEDIA = frozenset({PATIENT, TECHNICIAN, CLINIC_ADMIN})  # + object check: own clinic / own photos

#: endpoint -> roles that may reach it.
ROUTE_ACCESS: dict[str, frozenset[str]] = {
    "static": EVERYONE,
    # auth
    "auth.index": EVERYONE,
    "auth.login": EVERYONE,
    "auth.logout": SIGNED_IN,
    "auth.accept_invitation": EVERYONE,
    "auth.change_password": SIGNED_IN,
    "auth.health": EVERYONE,
    "two_factor.code": EVERYONE,
    "two_factor.setup": STAFF,
    "two_factor.require": ADMIN,
    # staff (technicians and clinic admins)
    "staff.patients": STAFF,
    "staff.new_patient": STAFF,
    "staff.patient": STAFF,
    "staff.edit_patient": STAFF,
    "staff.consent": STAFF,
    "staff.new_series": STAFF,
    "staff.series": STAFF,
    "staff.edit_series": STAFF,
    "staff.new_visit": STAFF,
    "staff.edit_visit": STAFF,
    "staff.upload": STAFF,
    "staff.photo": STAFF,
    "staff.retag_photo": STAFF,
    "staff.delete_photo": STAFF,
    "staff.choose_baseline": STAFF,
    "staff.restore_baseline": STAFF,
    "staff.download_original": STAFF,
    "staff.review_visit": STAFF,
    "staff.series_panel": STAFF,
    "staff.photo_panel": STAFF,
    "staff.add_photo_note": STAFF,
    "staff.create_invitation": STAFF,
    "staff.patient_access": STAFF,
    "staff.revoke_invitation": STAFF,
    # clinic administration
    "clinic.staff": ADMIN,
    "clinic.new_staff": ADMIN,
    "clinic.reset_password": ADMIN,
    "clinic.set_active": ADMIN,
    "clinic.activity": ADMIN,
    "clinic.activity_export": ADMIN,
    "clinic.erase_patient": ADMIN,
    # patients' own pages
    "patient.home": PATIENT_ONLY,
    "patient.series": PATIENT_ONLY,
    "patient.photo": PATIENT_ONLY,
    # images (object-level check decides whose)
    "media.thumb": MEDIA,
    "media.display": MEDIA,
    # exports (services decide: clinic admins, technicians where the clinic allows)
    "exports.series_page": STAFF,
    "exports.comparison": STAFF,
    "exports.marketing": STAFF,
    "exports.report": STAFF,
    "exports.bundle": STAFF,
    "exports.clinic_exports": ADMIN,
    "exports.settings": ADMIN,
    # progress (object checks in services: a patient sees only their own series)
    "progress.compare": MEDIA,
    "progress.charts": MEDIA,
    "progress.timeline": MEDIA,
    "progress.chart_json": MEDIA,
    "progress.chart_csv": MEDIA,
    "progress.overlay": MEDIA,
    "progress.outcomes": ADMIN,
    "progress.settings": ADMIN,
    "progress.capture": STAFF,
    "progress.retake": STAFF,
    "progress.region_editor": STAFF,
    # JSON API
    "api.upload": STAFF,
    "api.photo_status": STAFF,
    "api.analysis_states": STAFF,
}

#: Endpoints a user who must change their password may still use.
PASSWORD_CHANGE_ALLOWED = frozenset({"auth.change_password", "auth.logout", "static", "auth.health"})
#: Endpoints a staff member who must first set up two-factor sign-in may still use.
TWO_FACTOR_SETUP_ALLOWED = frozenset({"two_factor.setup", "auth.logout", "static", "auth.health"})

F = TypeVar("F", bound=Callable[..., Any])


def current_role() -> str:
    if not current_user.is_authenticated:
        return ANONYMOUS
    return str(current_user.role)


def role_required(*roles: str) -> Callable[[F], F]:
    """Mark (and check) the roles that may call a view; must match ``ROUTE_ACCESS``."""
    allowed = frozenset(roles)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_role() not in allowed:
                return deny()
            return view(*args, **kwargs)

        wrapper.access_roles = allowed  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def wants_json() -> bool:
    return request.path.startswith("/api/")


def deny() -> Any:
    if not current_user.is_authenticated:
        if wants_json():
            response = jsonify(error="Sign in first.")
            response.status_code = 401
            return response
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    abort(403)


def enforce_access() -> Any:
    """before_request: apply ``ROUTE_ACCESS`` to the matched endpoint."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no route matched: Flask answers 404/405
    allowed = ROUTE_ACCESS.get(endpoint)
    if allowed is None:
        log.error("endpoint %s has no access rule; refusing", endpoint)
        abort(403)
    if current_role() not in allowed:
        return deny()
    if (current_user.is_authenticated and current_user.must_change_password
            and endpoint not in PASSWORD_CHANGE_ALLOWED):
        if wants_json():
            response = jsonify(error="Choose a new password first.")
            response.status_code = 403
            return response
        return redirect(url_for("auth.change_password"))
    if (current_user.is_authenticated and endpoint not in TWO_FACTOR_SETUP_ALLOWED
            and two_factor.must_enrol(current_user)):
        if wants_json():
            response = jsonify(error="Set up two-factor sign-in first.")
            response.status_code = 403
            return response
        return redirect(url_for("two_factor.setup"))
    return None


def check_table(app: Flask) -> None:
    """Refuse to start when routes and the table disagree."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(ROUTE_ACCESS)
    if missing:
        raise RuntimeError(f"endpoints without an access rule in tracker/web/access.py: {sorted(missing)}")
    stale = set(ROUTE_ACCESS) - endpoints
    if stale:
        raise RuntimeError(f"access rules for endpoints that do not exist: {sorted(stale)}")
    for endpoint, view in app.view_functions.items():
        marked = getattr(view, "access_roles", None)
        if endpoint != "static" and marked is None:
            raise RuntimeError(f"view {endpoint} has no @role_required mark")
        if marked is not None and marked != ROUTE_ACCESS[endpoint]:
            raise RuntimeError(f"@role_required of {endpoint} ({sorted(marked)}) differs from the access "
                               f"table ({sorted(ROUTE_ACCESS[endpoint])})")
