"""Smaller findings: no cache keeps a private image or download; download names are safe
for any region name; numbers typed as "²" are refused, not a 500; bidi controls do not
survive in names; the audit CSV opens in Excel with non-Latin names; erasure blanks the
patient's name in export events too."""

from __future__ import annotations

import io
import re
from urllib.parse import quote, unquote

from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.services.factories import jpeg_bytes
from tracker.models import AuditEvent, Patient

from .conftest import resources


def _disposition(response) -> dict[str, str]:
    """The parameters of Content-Disposition, parsed the way a browser does (RFC 6266)."""
    header = response.headers["Content-Disposition"]
    assert header.startswith("attachment;") and "\r" not in header and "\n" not in header
    return dict(re.findall(r';\s*([\w*]+)=("(?:[^"\\]|\\.)*"|[^;]*)', header))


def test_no_cache_keeps_private_images_or_downloads(clients, site):
    admin = clients["clinic_admin"]
    gets = [f"/media/{site.photo_id}/thumb.jpg", f"/media/{site.photo_id}/display.jpg",
            f"/analyses/{site.analysis_id}/redness.jpg", f"/photos/{site.photo_id}/original",
            f"/series/{site.series_id}/chart.csv?view=front", "/clinic/activity.csv"]
    for url in gets:
        response = admin.get(url)
        response.close()
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store", url
    report = admin.post(f"/series/{site.series_id}/exports/report")
    assert report.status_code == 200 and report.headers["Cache-Control"] == "no-store"


def _closeup(tech, site, region: str, seed: int) -> None:
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(jpeg_bytes(seed=seed)), filename="c.jpg"),
                                       "view": "closeup", "region": region, "time_point": "before"})
    response = tech.post(f"/api/visits/{site.visit_id}/photos", data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 201, response.get_data(as_text=True)


def test_download_names_are_safe_for_any_region_name(clients, site):
    tech = clients["technician"]
    _closeup(tech, site, "левая щека", 301)
    _closeup(tech, site, 'x"; filename="evil.exe', 302)
    cyrillic = tech.get(f"/series/{site.series_id}/chart.csv?view=closeup&region=" + quote("левая щека"))
    assert cyrillic.status_code == 200
    params = _disposition(cyrillic)
    assert params["filename"].isascii() and params["filename"].endswith('.csv"')
    assert "левая-щека" in unquote(params["filename*"].split("''", 1)[1])
    hostile = tech.get(f"/series/{site.series_id}/chart.csv?view=closeup&region=" + quote('x"; filename="evil.exe'))
    assert hostile.status_code == 200
    params = _disposition(hostile)
    assert set(params) == {"filename", "filename*"}
    assert params["filename"].endswith('.csv"') and params["filename"].count('"') == 2


def test_a_superscript_digit_is_refused_not_a_500(clients):
    response = clients["clinic_admin"].post("/clinic/progress-settings", data={"days_fractional_co2": "²"},
                                            follow_redirects=True)
    assert response.status_code == 200
    assert "whole numbers of days" in response.get_data(as_text=True)


def test_bidi_controls_are_stripped_from_names(app, clients, site):
    response = clients["technician"].post(f"/patients/{site.patient_id}/edit", data={
        "full_name": "Ann\u202eaM Lee\u2066", "date_of_birth": "1980-05-17", "fitzpatrick": "2"})
    assert response.status_code in (200, 302)
    with resources(app).session_factory() as s:
        name = s.get(Patient, site.patient_id).full_name
    assert name == "AnnaM Lee"


def test_the_audit_csv_starts_with_a_bom_for_excel(clients):
    body = clients["clinic_admin"].get("/clinic/activity.csv").get_data()
    assert body.startswith("\ufeff".encode())
    assert "charset=utf-8" in clients["clinic_admin"].get("/clinic/activity.csv").headers["Content-Type"]


def test_erasure_blanks_the_patients_name_in_export_events(app, clients, site):
    admin = clients["clinic_admin"]
    assert admin.post(f"/series/{site.series_id}/exports/report").status_code == 200
    with resources(app).session_factory() as s:
        before = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "export.report")))
    assert before and any("patient-a" in str(e.detail).lower() for e in before)
    erased = admin.post(f"/clinic/patients/{site.patient_id}/erase", data={"confirm_name": "Patient A"})
    assert erased.status_code == 302
    with resources(app).session_factory() as s:
        after = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "export.report")))
    assert after and not any("patient-a" in str(e.detail).lower() for e in after)
