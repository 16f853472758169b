"""A clinic admin exports the PDF report and the ZIP bundle of an analysed series in Chromium;
the files are checked (PDF text, manifest hashes, `tracker verify-export` against tampering);
a marketing export without consent is refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile

import pytest
from PIL import Image
from sqlalchemy import select

from tracker.config import Config
from tracker.jobs import TaskQueue
from tracker.models import Analysis, Patient, TreatmentSeries, make_engine, make_sessionmaker
from tracker.services.demo import LOGINS, PATIENT_NAME, load_demo
from tracker.services.dispatch import bind_sink
from tracker.services.exports import progress_pairs, sha256
from tracker.services.intake import IntakeLimits
from tracker.storage import storage_from_config

from .conftest import SCREENSHOT_DIR, screenshot, sign_in
from ..bundle_tampering import rezip, tamper

pytestmark = pytest.mark.e2e


def _config(instance) -> Config:
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        return Config()
    finally:
        del os.environ["TRACKER_INSTANCE_PATH"]


@pytest.fixture(scope="module")
def analysed_series(server):
    """The demo's simulated series (small photos) uploaded into the running server; its own queue
    consumer makes the previews and runs every analysis. Returns (series id, session factory)."""
    config = _config(server.instance)
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    with bind_sink(factory(), queue) as s:
        result = load_demo(s, storage, IntakeLimits.from_config(config), size="small")
    deadline = time.monotonic() + 300
    while True:
        with factory() as s:
            states = list(s.scalars(select(Analysis.state).where(Analysis.clinic_id == result.clinic_id)))
        if len(states) >= result.photos_total and all(state in ("done", "refused", "failed") for state in states):
            break
        assert time.monotonic() < deadline, f"analyses did not finish: {states}"
        time.sleep(2)
    yield result.series_id, factory
    engine.dispose()


def _tracker(server, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKER_INSTANCE_PATH": str(server.instance)}
    for name in ("TRACKER_DATABASE_URL", "TRACKER_BROKER_URL", "TRACKER_STORAGE_PATH"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "tracker.cli", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def admin_name(factory) -> str:
    from tracker.models import User

    with factory() as s:
        return s.scalar(select(User.full_name).where(User.email == LOGINS[0].email))


def test_clinic_admin_exports_pdf_and_zip_and_marketing_needs_consent(page, server, analysed_series, tmp_path):
    series_id, factory = analysed_series
    admin = LOGINS[0]
    sign_in(page, server.url, admin.email, admin.password)
    page.goto(f"{server.url}/series/{series_id}")
    page.click("#exports-link")
    page.wait_for_selector("h1:has-text('Exports and reports')")
    assert page.locator("table.list td strong").first.is_visible()  # a view with its pair
    screenshot(page, "exports")

    # The PDF report.
    with page.expect_download() as download:
        page.click("#export-report")
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)
    assert pdf.name.startswith("progress-report_alex-demo_fractional-co2_") and pdf.suffix == ".pdf"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert PATIENT_NAME in text
    with factory() as s:
        series = s.get(TreatmentSeries, series_id)
        for visit in series.visits:
            assert f"{visit.visit_date:%d %b %Y}" in text, visit.visit_date
        pairs = [p for p in progress_pairs(s, series) if p.later is not None]
        assert pairs, "no view of the simulated series has a measured later photo"
        shown = {c.measure.key: (c.shown("baseline"), c.shown("photo")) for c in pairs[0].changes}
    for measure in ("erythema_index_mean", "spot_count"):
        assert shown[measure][0] in text and shown[measure][1] in text
    pages = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "2", str(pdf), str(pages)], check=True)
    rendered = sorted(tmp_path.glob("page-*.png"))
    assert len(rendered) == 2
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for i, png in enumerate(rendered, start=1):
        with Image.open(png) as im:
            assert im.width > 500
            im.save(SCREENSHOT_DIR / f"report-page-{i}.png")

    # The ZIP bundle with the originals (metadata removed): manifest hashes match; verify-export
    # passes, then fails on tampering.
    assert "camera and location details removed" in page.inner_text(".bundle-form")
    page.check("input[name=originals]")
    with page.expect_download() as download:
        page.click("#export-bundle")
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)
    assert bundle.name.startswith("export-bundle_alex-demo_") and bundle.suffix == ".zip"
    data = bundle.read_bytes()
    zf = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(zf.read("manifest.json"))
    for entry in manifest["files"]:
        assert sha256(zf.read(entry["name"])) == entry["sha256"], entry["name"]
    with factory() as s:
        patient = s.scalar(select(Patient).where(Patient.full_name == PATIENT_NAME))
        stored = {p.id: p.sha256 for v in s.get(TreatmentSeries, series_id).visits for p in v.photos}
        assert patient is not None
    assert all(stored[o["photo_id"]] == o["sha256"] for o in manifest["originals"])
    assert all(sha256(zf.read(o["file"])) == o["export_sha256"] for o in manifest["originals"])

    ok = _tracker(server, "verify-export", str(bundle))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Verified" in ok.stdout

    image = next(f["name"] for f in manifest["files"] if f["name"].startswith("comparisons/"))
    forged = tamper(zf.read(image))
    modified = tmp_path / "modified.zip"
    modified.write_bytes(rezip(data, {image: forged}))
    result = _tracker(server, "verify-export", str(modified))
    assert result.returncode == 1 and f"{image}: MODIFIED" in result.stdout, result.stdout

    manifest["files"] = [{**f, "sha256": sha256(forged)} if f["name"] == image else f for f in manifest["files"]]
    matched = tmp_path / "modified-and-manifest.zip"
    matched.write_bytes(rezip(data, {image: forged, "manifest.json": json.dumps(manifest, indent=2).encode()}))
    result = _tracker(server, "verify-export", str(matched))
    assert result.returncode == 1, result.stdout
    assert "its manifest entry was changed to match" in result.stdout

    # Marketing without consent: refused with the reason, nothing downloaded.
    page.goto(f"{server.url}/series/{series_id}/exports")
    assert page.locator("text=No marketing consent on record").is_visible()
    page.click("#marketing-1")
    page.wait_for_selector(".flash.error")
    assert "has not given marketing consent" in page.locator(".flash.error").inner_text()
    screenshot(page, "exports-marketing-refused")

    # The clinic admin sees every export listed.
    page.click("#clinic-exports-link")
    page.wait_for_selector("h1:has-text('Exports')")
    log = page.locator("main").inner_text()
    assert "PDF report" in log and "ZIP bundle" in log and "Marketing image" not in log
    assert PATIENT_NAME in log and admin_name(factory) in log
    screenshot(page, "clinic-exports")


def screenshot_path(name: str):
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR / f"{name}.png"


def test_ticking_an_area_of_the_face_adds_its_line_to_each_chart(page, browser, server, analysed_series):
    """The demo's front view, on the chart page: only the whole face by default; ticking "Left cheek"
    draws that area's line on every chart, at the figures the chart JSON carries for that area."""
    series_id, _ = analysed_series
    tech, patient = LOGINS[1], LOGINS[2]
    sign_in(page, server.url, tech.email, tech.password)
    page.goto(f"{server.url}/series/{series_id}/charts")
    section = "[data-chart-view][data-view='front'][data-region='']"
    page.wait_for_selector(f"{section}[data-ready='1']")
    assert page.locator(f"{section} [data-areas] legend").inner_text() == "Areas of the face"

    def shown():
        return page.evaluate("""() => Object.fromEntries(Object.entries(window.trackerCharts['front|']).map(
            ([m, c]) => [m, c.plot.series.filter((s, i) => i > 0 && s.show).map(s => s.label)]))""")

    assert shown() and all(labels == ["Progress", "Healing"] for labels in shown().values())
    page.check(f"{section} input[data-area='cheek_left']")
    assert all(labels == ["Progress", "Healing", "Left cheek"] for labels in shown().values())

    data = page.evaluate(f"() => fetch({page.get_attribute(section, 'data-url')!r}).then(r => r.json())")
    drawn = page.evaluate("""() => Object.fromEntries(Object.entries(window.trackerCharts['front|']).map(
        ([m, c]) => [m, c.data[3 + c.areas.indexOf('cheek_left')]]))""")
    for key, line in drawn.items():
        expected = [None if p["kind"] == "healing" else p["regions"].get("cheek_left", {}).get("values", {}).get(key)
                    for p in data["points"]]
        assert line == expected, key
        assert any(v is not None for v in line), key
    page.screenshot(path=str(screenshot_path("regions-charts-1024")), full_page=True)

    # The patient reads where the change was, on a phone.
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    mine = phone.new_page()
    sign_in(mine, server.url, patient.email, patient.password)
    mine.goto(f"{server.url}/me/series/{series_id}")
    summary = mine.locator("ul.summary").first.inner_text()
    assert " on the " in summary or " around the " in summary, summary
    mine.screenshot(path=str(screenshot_path("regions-patient-390")), full_page=True)
    phone.close()
