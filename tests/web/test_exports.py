"""The exports pages: who may export, refusals people can read, downloads that are recorded."""

from __future__ import annotations

import subprocess

from sqlalchemy import func, select

from tracker.models import AuditEvent, ExportRecord, Visit


def _exports(db) -> int:
    return db.scalar(select(func.count()).select_from(ExportRecord))


def test_series_page_links_to_exports_and_the_page_explains_what_is_there(clients, site):
    series = clients["clinic_admin"].get(f"/series/{site.series_id}")
    assert f'/series/{site.series_id}/exports' in series.get_data(as_text=True)
    page = clients["clinic_admin"].get(f"/series/{site.series_id}/exports")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Download PDF report" in html and "Download ZIP bundle" in html
    assert "No comparable later photo has been measured against the baseline yet." in html
    assert "No marketing consent on record" in html
    assert "Nothing exported yet." in html


def test_pdf_download_is_recorded_and_named(clients, site, db, tmp_path):
    response = clients["clinic_admin"].post(f"/series/{site.series_id}/exports/report")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "attachment" in disposition and "progress-report_patient-a_fractional-co2_" in disposition
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Patient A" in text and "10 Jan 2024" in text
    record = db.scalar(select(ExportRecord))
    assert record.kind == "report" and record.filename in disposition
    log = clients["clinic_admin"].get("/clinic/exports").get_data(as_text=True)
    assert "PDF report" in log and "Admin A" in log and record.sha256[:16] in log


def test_technicians_export_only_when_the_clinic_allows(clients, site, db):
    page = clients["technician"].get(f"/series/{site.series_id}/exports").get_data(as_text=True)
    assert "Only clinic admins can export in your clinic" in page
    refused = clients["technician"].post(f"/series/{site.series_id}/exports/report", follow_redirects=True)
    assert refused.mimetype == "text/html" and refused.request.path == f"/series/{site.series_id}/exports"
    assert "Only clinic admins can export photos and reports here" in refused.get_data(as_text=True)
    assert _exports(db) == 0
    assert clients["technician"].get("/clinic/exports").status_code == 403
    assert clients["technician"].post("/clinic/exports/settings", data={"technicians_may_export": "1"}).status_code == 403

    saved = clients["clinic_admin"].post("/clinic/exports/settings", data={"technicians_may_export": "1"})
    assert saved.status_code == 302
    allowed = clients["technician"].post(f"/series/{site.series_id}/exports/report")
    assert allowed.status_code == 200 and allowed.mimetype == "application/pdf"
    # Nothing measured yet: the bundle says so instead of handing out an empty archive.
    empty = clients["technician"].post(f"/series/{site.series_id}/exports/bundle")
    assert empty.status_code == 409
    assert "Nothing to export yet" in empty.get_data(as_text=True)
    assert _exports(db) == 1


def test_marketing_export_without_consent_is_refused_with_the_reason(clients, site, db):
    response = clients["clinic_admin"].post(f"/series/{site.series_id}/exports/marketing", data={"view": "front"})
    assert response.status_code == 409
    assert response.mimetype == "text/html"
    assert "has not given marketing consent" in response.get_data(as_text=True)
    assert _exports(db) == 0
    refusal = db.scalar(select(AuditEvent).where(AuditEvent.action == "export.marketing_refused"))
    assert refusal is not None and refusal.object_id == site.series_id


def test_patients_and_other_clinics_cannot_export(clients, site, db):
    assert clients["patient"].get(f"/series/{site.series_id}/exports").status_code == 403
    assert clients["patient"].post(f"/series/{site.series_id}/exports/report").status_code == 403
    assert clients["anonymous"].post(f"/series/{site.series_id}/exports/bundle").status_code == 302
    other_series = db.get(Visit, site.other_clinic_visit_id).series_id
    assert clients["clinic_admin"].get(f"/series/{other_series}/exports").status_code == 404
    assert clients["clinic_admin"].post(f"/series/{other_series}/exports/report").status_code == 404
    assert _exports(db) == 0
