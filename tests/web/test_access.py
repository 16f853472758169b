"""The route access table: every endpoint has a rule, and every rule holds for every role."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import Rule

from tracker.web.access import ANONYMOUS, ROLES, ROUTE_ACCESS, check_table, role_required

from .conftest import PATIENT_PASSWORD, Site, login


def url_for_rule(rule: Rule, site: Site) -> str:
    values = {
        "patient_id": site.patient_id,
        "series_id": site.series_id,
        "visit_id": site.visit_id,
        "photo_id": site.photo_id,
        "user_id": site.spare_tech_id,
        "invitation_id": site.invitation_id,
        "token": site.invitation_token,
        "filename": "css/app.css",
        "analysis_id": site.analysis_id,
        "name": "redness",
        "ext": "jpg",  # the overlay the site's analysis stored
    }
    if rule.endpoint == "staff.patient_access":
        values["patient_id"] = site.other_patient_id  # do not lock the signed-in patient out mid-test
    path = rule.rule
    for name in rule.arguments:  # <name> or <converter:name>, e.g. <any(jpg, png):ext>
        path = re.sub(rf"<(?:[^<>:]+:)?{name}>", values[name], path)
    return path


def test_every_endpoint_has_a_declared_rule(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules()}
    assert endpoints - set(ROUTE_ACCESS) == set()
    assert set(ROUTE_ACCESS) - endpoints == set()
    for roles in ROUTE_ACCESS.values():
        assert roles and roles <= set(ROLES)


def test_the_app_refuses_to_start_with_an_undeclared_route(app):
    @app.route("/undeclared")
    @role_required("technician")
    def undeclared():  # pragma: no cover - never called
        return "x"

    with pytest.raises(RuntimeError, match="without an access rule"):
        check_table(app)


def test_a_view_whose_mark_differs_from_the_table_is_refused(app):
    view = app.view_functions["staff.patients"]
    original = view.access_roles
    view.access_roles = frozenset({"patient", "technician", "clinic_admin"})
    try:
        with pytest.raises(RuntimeError, match="differs from the access table"):
            check_table(app)
    finally:
        view.access_roles = original


#: Allowed routes that may still send a visitor to sign in (the code step without a password step).
SENDS_TO_SIGN_IN = ("auth.logout", "auth.index", "two_factor.code")
SIGN_INS = {"patient": lambda site: (site.patient_email, PATIENT_PASSWORD),
            "technician": lambda site: (site.tech_email,), "clinic_admin": lambda site: (site.admin_email,)}


def test_every_route_answers_each_role_as_the_table_says(app, site, template):
    cookies = template.cookies
    checked = 0
    for rule in app.url_map.iter_rules():
        url = url_for_rule(rule, site)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for role in ROLES:
                client = app.test_client()
                if role != ANONYMOUS and rule.endpoint == "auth.logout":
                    login(client, *SIGN_INS[role](site))  # signing out ends the session it is sent with
                elif role != ANONYMOUS:
                    client.set_cookie("session", cookies[role])
                response = client.open(url, method=method, data={})
                response.close()
                location = response.headers.get("Location", "")
                allowed = role in ROUTE_ACCESS[rule.endpoint]
                where = f"{method} {url} as {role}"
                if allowed:
                    assert response.status_code not in (401, 403, 404, 405, 500), where
                    assert "/login" not in location or rule.endpoint in SENDS_TO_SIGN_IN, where
                elif role == ANONYMOUS:
                    if url.startswith("/api/"):
                        assert response.status_code == 401, where
                    else:
                        assert response.status_code == 302 and "/login" in location, where
                else:
                    assert response.status_code == 403, where
                checked += 1
    assert checked > 100
