"""Security basics a reviewer (and a browser) would notice: headers, CSRF, no inline script."""

from __future__ import annotations

import io
import re

import pytest

from tests.services.factories import PASSWORD, jpeg_bytes

from .conftest import csrf_from, login


def test_security_headers_on_pages_and_images(client_as_tech_and_site):
    client, site = client_as_tech_and_site
    for url in ("/login", f"/series/{site.series_id}", f"/media/{site.photo_id}/thumb.jpg", "/nope"):
        response = client.get(url)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
    page = client.get(f"/series/{site.series_id}")
    assert page.headers["Cache-Control"] == "no-store"


@pytest.fixture
def client_as_tech_and_site(clients, site):
    return clients["technician"], site


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"\sstyle\s*=|<style[\s>]", re.I)
INLINE_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_page_uses_inline_script_style_or_handlers(app, site, clients):
    pages = {
        "anonymous": ["/login", f"/invite/{site.invitation_token}", "/does-not-exist"],
        "technician": ["/patients", "/patients/new", f"/patients/{site.patient_id}", f"/series/{site.series_id}",
                       f"/series/{site.series_id}/visits/new", f"/visits/{site.visit_id}/upload",
                       f"/photos/{site.photo_id}", f"/patients/{site.patient_id}/series/new",
                       f"/visits/{site.visit_id}/edit", "/account/password"],
        "clinic_admin": ["/clinic/staff", "/clinic/staff/new", "/clinic/activity"],
        "patient": ["/me", f"/me/series/{site.series_id}", f"/me/photos/{site.photo_id}"],
    }
    for role, urls in pages.items():
        for url in urls:
            response = clients[role].get(url)
            html = response.get_data(as_text=True)
            assert response.status_code in (200, 404), (role, url, response.status_code)
            assert not INLINE_SCRIPT.search(html), (role, url)
            assert not INLINE_STYLE.search(html), (role, url)
            assert not INLINE_HANDLER.search(html), (role, url)


def test_csrf_is_enforced_on_forms(csrf_app, site):
    client = csrf_app.test_client()
    # Even signing in needs the token.
    refused = client.post("/login", data={"email": site.tech_email, "password": PASSWORD})
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": site.tech_email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    form = {"full_name": "Forged Person", "date_of_birth": "1990-01-01", "fitzpatrick": "3"}
    assert client.post("/patients/new", data=form).status_code == 400
    page = client.get("/patients").get_data(as_text=True)
    assert "Forged Person" not in page
    token = csrf_from(client.get("/patients/new").get_data(as_text=True))
    created = client.post("/patients/new", data={**form, "csrf_token": token})
    assert created.status_code == 302
    assert "Forged Person" in client.get("/patients").get_data(as_text=True)


def test_csrf_is_enforced_on_the_json_upload(csrf_app, site):
    client = csrf_app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": site.tech_email, "password": PASSWORD, "csrf_token": token})
    url = f"/api/visits/{site.visit_id}/photos"

    def files():
        return {"file": (io.BytesIO(jpeg_bytes(seed=77)), "x.jpg"), "view": "left_profile", "time_point": "before"}

    refused = client.post(url, data=files(), content_type="multipart/form-data")
    assert refused.status_code == 400 and "expired" in refused.get_json()["error"]
    page_token = csrf_from(client.get(f"/visits/{site.visit_id}/upload").get_data(as_text=True))
    accepted = client.post(url, data=files(), content_type="multipart/form-data",
                           headers={"X-CSRFToken": page_token})
    assert accepted.status_code == 201


def test_sign_in_does_not_redirect_off_site(app, site):  # three real sign-ins
    client = app.test_client()
    response = client.post("/login?next=https://evil.example/x", data={"email": site.tech_email,
                                                                      "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/patients"
    client = app.test_client()
    response = client.post("/login?next=//evil.example/x", data={"email": site.tech_email, "password": PASSWORD})
    assert response.headers["Location"] == "/patients"
    client = app.test_client()
    response = client.post(f"/login?next=/series/{site.series_id}", data={"email": site.tech_email,
                                                                           "password": PASSWORD})
    assert response.headers["Location"] == f"/series/{site.series_id}"


def test_wrong_password_is_refused_with_a_message(app, site):
    response = app.test_client().post("/login", data={"email": site.tech_email, "password": "nope nope nope"})
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


def test_a_reset_password_ends_the_old_session(app, site, clients):
    tech = clients["technician"]
    assert tech.get("/patients").status_code == 200
    admin = clients["clinic_admin"]
    from tracker.services import accounts
    from .conftest import resources

    with resources(app).session_factory() as s:
        tech_id = accounts.authenticate(s, site.tech_email, PASSWORD).id
    reset = admin.post(f"/clinic/staff/{tech_id}/reset-password")
    assert reset.status_code == 200
    temporary = re.search(r'id="temporary-password">([^<]+)<', reset.get_data(as_text=True)).group(1)
    signed_out = tech.get("/patients")
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    fresh = login(app.test_client(), site.tech_email, temporary)
    # A temporary password must be replaced before anything else.
    forced = fresh.get("/patients")
    assert forced.status_code == 302 and forced.headers["Location"] == "/account/password"
    changed = fresh.post("/account/password", data={"current_password": temporary,
                                                     "new_password": "brand new password",
                                                     "confirm": "brand new password"})
    assert changed.status_code == 302
    assert fresh.get("/patients").status_code == 200
