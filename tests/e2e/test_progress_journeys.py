"""Progress in a real browser: a patient opens the before/after viewer, drags the slider and sees
the chart (whose drawn numbers equal the JSON and the CSV); a technician uploads a session through
the capture page, sees verdicts, gets a retake prompt for a refused photo and retakes it."""

from __future__ import annotations

import csv
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from tracker.config import Config
from tracker.jobs import TaskQueue
from tracker.models import Analysis, Patient, Photo, User, make_engine, make_sessionmaker
from tracker.models.vocabulary import CONSENT_PHOTOGRAPHY
from tracker.services import invitations, patients, review, series as series_svc
from tracker.services.dispatch import bind_sink
from tracker.services.intake import IntakeLimits
from tracker.storage import storage_from_config

from tests.services.simulated import START, load_series, simulated

from .conftest import screenshot, sign_in

PATIENT_EMAIL = "pia.progress@example.org"
PATIENT_PASSWORD = "pia progress secret"


def _instance_config(instance: Path) -> Config:
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    try:
        return Config()
    finally:
        del os.environ["TRACKER_INSTANCE_PATH"]


def _wait_for_analyses(factory, series_id: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with factory() as s:
            photos = s.scalars(select(Photo.id).where(Photo.series_id == series_id)).all()
            rows = s.scalars(select(Analysis).where(Analysis.photo_id.in_(photos))).all()
            finished = {r.photo_id for r in rows if r.state in ("done", "refused", "failed")}
            if photos and not [r for r in rows if r.state in ("queued", "running")] and finished >= set(photos):
                return
        time.sleep(1)
    raise AssertionError("the server's queue did not finish the analyses in time")


@pytest.fixture(scope="module")
def progress_series(server) -> dict[str, str]:
    """An improving simulated series for a patient with an account, analysed by the server's own queue."""
    config = _instance_config(server.instance)
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    with bind_sink(factory(), queue) as s:
        tech = s.scalar(select(User).where(User.email == server.tech_email))
        patient = patients.create_patient(s, tech, patients.PatientInput(
            full_name="Pia Progress", date_of_birth=START.replace(year=1984), fitzpatrick=5))
        patients.grant_consent(s, tech, patient.id, CONSENT_PHOTOGRAPHY, granted_on=START)
        series = series_svc.create_series(s, tech, patient.id, series_svc.SeriesInput(
            treatment_type="fractional_co2", treated_areas=["cheeks"]))
        s.commit()
        ids = load_series(s, storage, IntakeLimits.from_config(config), tech, series, "improving")
        s.refresh(series)
        for visit in series.visits:  # the technician reviewed them: the patient sees them
            review.mark_reviewed(s, tech, visit.id)
        _, token = invitations.create_invitation(s, tech, patient.id)
        invitations.accept_invitation(s, token, email=PATIENT_EMAIL, password=PATIENT_PASSWORD)
        s.commit()
        pat_two = s.get(Patient, server.pat_two_id)
        out = {"series": series.id, "patient": patient.id, "baseline": ids[0], "healing": ids[1], "later": ids[2],
               "other_series": pat_two.series[0].id}
    _wait_for_analyses(factory, out["series"])
    engine.dispose()
    out["factory_url"] = config.DATABASE_URL
    return out


def test_patient_drags_the_slider_and_reads_the_chart(browser, server, progress_series):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        sign_in(page, server.url, PATIENT_EMAIL, PATIENT_PASSWORD)
        sid = progress_series["series"]
        page.goto(f"{server.url}/me/series/{sid}")
        summary = page.inner_text("#progress")
        assert "Red area: less than at the start." in summary and "index" not in summary.lower()
        screenshot(page, "progress-patient-series")
        page.click("a:has-text('Before and after')")
        page.wait_for_function("() => Array.from(document.querySelectorAll('.pane img[data-layer=photo]'))"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        assert "After 1 session" in page.inner_text("h2")
        # Drag the slider to the left: more of the later photo shows.
        slider = page.locator("[data-slider]")
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        # The clip follows the pointer on the next animation frame: wait for it, as a user would.
        page.wait_for_function("() => { const m = (document.querySelector('.pane-later').style.clipPath || '')"
                               ".match(/([\\d.]+)%\\)$/); return m !== null && parseFloat(m[1]) < 30; }",
                               timeout=10_000)
        clip = page.eval_on_selector(".pane-later", "e => e.style.clipPath")
        assert clip.startswith("inset(0") and int(float(clip.split()[-1].rstrip("%)"))) < 30, clip
        # Zoom moves both photos together.
        page.click("[data-zoom=in]")
        transforms = page.eval_on_selector_all(".zoomable", "els => els.map(e => e.style.transform)")
        assert len(set(transforms)) == 1 and "scale(1.5)" in transforms[0]
        assert "Red area: less than at the start." in page.inner_text("main")
        # The redness map, ticked, is drawn over the later photo from the overlay the worker stored (a JPEG).
        page.check("[data-overlay=redness]")
        page.wait_for_function("() => { const i = document.querySelector('.pane-later img[data-layer=redness]');"
                               " return i && i.complete && i.naturalWidth > 0 && !i.classList.contains('hidden'); }")
        assert ".jpg" in page.eval_on_selector(".pane-later img[data-layer=redness]", "i => i.src")
        screenshot(page, "progress-compare-slider")
        # Any two photos of the view: the healing photo and the later one, both aligned to the baseline.
        page.select_option("#a", progress_series["healing"])
        page.wait_for_url(f"**a={progress_series['healing']}**")
        page.wait_for_function("() => Array.from(document.querySelectorAll('.pane img[data-layer=photo]'))"
                               ".every(i => i.complete && i.naturalWidth > 0)")
        assert "the change between these two photos is not judged" in page.inner_text("main")
        page.click("[data-mode-btn=side]")
        page.set_viewport_size({"width": 768, "height": 1024})
        screenshot(page, "progress-compare-side-portrait")
        page.set_viewport_size({"width": 1024, "height": 768})

        # The chart: the numbers drawn equal the JSON and the CSV.
        page.goto(f"{server.url}/series/{sid}/charts")
        page.wait_for_selector("[data-chart-view][data-ready='1']")
        drawn = page.evaluate("""() => { const out = {}; for (const [view, charts] of Object.entries(window.trackerCharts))
            for (const [m, c] of Object.entries(charts)) out[m] = {x: c.data[0], progress: c.data[1], healing: c.data[2],
                                                                  baseline: c.baseline, mdc: c.mdc}; return out; }""")
        url = page.get_attribute("[data-chart-view]", "data-url")
        data = page.evaluate("u => fetch(u).then(r => r.json())", url)
        csv_text = page.evaluate("u => fetch(u).then(r => r.text())",
                                 page.get_attribute("a:has-text('Download the numbers')", "href"))
        assert set(drawn) >= {"red_area_pct", "erythema_index_mean", "spot_area_pct"}
        rows = list(csv.DictReader(io.StringIO(csv_text)))
        for key, chart in drawn.items():
            json_values = [p["values"].get(key) for p in data["points"]]
            plotted = [h if p is None else p for p, h in zip(chart["progress"], chart["healing"])]
            assert plotted == json_values, key
            csv_values = [float(r["value"]) if r["value"] else None for r in rows if r["measure"] == key]
            assert csv_values == json_values, key
            kinds = [p["kind"] for p in data["points"]]
            assert [v is not None for v in chart["healing"]] == [k == "healing" and v is not None
                                                                  for k, v in zip(kinds, json_values)]
        assert data["flags"] == []  # flags are for the technician only
        # The session labels ("S1") sit above the plotting area: no point is drawn under one (this
        # series' healing photo has a red area of 100 %, at the very top of its scale).
        covered, labels = page.evaluate("""() => { const out = []; let labels = 0;
            for (const charts of Object.values(window.trackerCharts)) for (const [m, c] of Object.entries(charts)) {
              const u = c.plot, top = u.bbox.top / devicePixelRatio, left = u.bbox.left / devicePixelRatio;
              labels += (u.sessionLabels || []).length;
              for (const s of [1, 2]) u.data[s].forEach((v, i) => {
                if (v === null || v === undefined) return;
                const x = left + u.valToPos(u.data[0][i], 'x'), y = top + u.valToPos(v, 'y'), r = 5;
                for (const l of u.sessionLabels || [])
                  if (x + r > l.left && x - r < l.right && y + r > l.top && y - r < l.bottom) out.push(m);
              }); }
            return [out, labels]; }""")
        assert labels >= 2 * len(drawn) and covered == [], covered
        screenshot(page, "progress-charts")

        # Another patient's comparison and chart stay out of reach.
        other = progress_series["other_series"]
        for path in (f"/series/{other}/compare", f"/series/{other}/charts", f"/api/series/{other}/chart.json",
                     f"/series/{other}/chart.csv"):
            assert page.goto(server.url + path).status == 404, path
    finally:
        context.close()
    assert not [e for e in errors if "status of 4" not in e], errors


def _jpeg(data: bytes, quality: int) -> bytes:
    out = io.BytesIO()
    with Image.open(io.BytesIO(data)) as im:
        im.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_technician_uploads_a_session_sees_verdicts_and_retakes(page, server, progress_series, tmp_path):
    sign_in(page, server.url, server.tech_email)
    assert "/login" not in page.url, page.inner_text("main")
    sid = progress_series["series"]
    # Record session 3, then take its photos on the capture page (file fallback: no camera here).
    page.goto(f"{server.url}/series/{sid}/visits/new")
    page.fill("#visit_date", (START.replace(month=START.month + 6)).isoformat())
    page.click("#visit-form button[type=submit]")
    page.wait_for_url("**/upload")
    visit_id = page.url.split("/visits/")[1].split("/")[0]
    page.goto(f"{server.url}/visits/{visit_id}/capture")
    assert page.locator("#cap-ghost option").count() >= 2  # the view's baseline as a ghost
    screenshot(page, "progress-capture")
    good = simulated("improving").visits[1].photos[0].jpeg
    bad = tmp_path / "compressed.jpg"
    bad.write_bytes(_jpeg(good, 40))
    page.select_option("#cap-view", "closeup")
    page.fill("#cap-region", "left cheek")
    page.select_option("#cap-time", "before")
    page.set_input_files("[data-file]", str(bad))
    page.wait_for_selector("[data-capture-status] a")
    bad_url = page.get_attribute("[data-capture-status] a", "href")

    # The refused photo asks for a retake, with the reason.
    page.goto(server.url + bad_url)
    for _ in range(120):
        if page.locator(".retake-prompt").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    prompt = page.inner_text(".retake-prompt")
    assert "Retake needed" in prompt, prompt
    assert "heavy JPEG compression" in page.inner_text("aside")
    screenshot(page, "progress-photo-retake-prompt")
    page.click(".retake-prompt a")
    retake = tmp_path / "retake.jpg"
    retake.write_bytes(_jpeg(good, 93))
    page.set_input_files("[data-file]", str(retake))
    page.wait_for_url("**/photos/**")
    assert page.url != server.url + bad_url
    for _ in range(120):
        if "Quality" in page.inner_text("#measures") and page.locator(".verdict-list").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    measures = page.inner_text("#measures")
    assert "passed" in measures and "aligned" in measures
    verdicts = page.eval_on_selector_all(".verdict-list li[data-measure]", "rs => rs.map(r => r.dataset.verdict)")
    assert "improved" in verdicts
    assert page.get_attribute("#measures a:has-text('refused photo')", "href") == bad_url  # kept, with its reason
    screenshot(page, "progress-photo-verdicts")

    # The series page's progress list has the verdicts; the superseded photo is left out of it.
    page.goto(f"{server.url}/series/{sid}")
    text = page.inner_text("#progress")
    assert "improved" in text and "healing, not progress" in text
    assert page.locator(f"#progress a[href='{bad_url}']").count() == 0
    assert page.locator(f".series-grid a[href='{bad_url}']").count() == 0  # hidden from the grid too
    screenshot(page, "progress-series-technician")
    page.goto(f"{server.url}/photos/{progress_series['baseline']}/region")
    page.wait_for_function("() => { const i = document.querySelector('.region-stage img'); return i && i.naturalWidth > 0; }")
    page.locator("[data-svg]").scroll_into_view_if_needed()
    svg = page.locator("[data-svg]").bounding_box()
    for fx, fy in ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)):
        page.mouse.click(svg["x"] + svg["width"] * fx, svg["y"] + svg["height"] * fy)
    assert "4 region points" in page.inner_text("[data-region-status]")
    screenshot(page, "progress-region-editor")


def test_clinic_admin_sees_outcomes_and_edits_healing_windows(page, server, progress_series):
    sign_in(page, server.url, server.admin_email)
    page.click("nav a:has-text('Outcomes')")
    row = page.locator("section[data-treatment=fractional_co2]")
    assert "1 series" in row.locator("h2").inner_text()
    red_after_1 = row.locator("tr[data-measure=red_area_pct] td").first.inner_text()
    assert red_after_1.startswith("-"), red_after_1  # the improving series: less red area after 1 session
    screenshot(page, "progress-outcomes")
    page.click("a:has-text('Progress settings')")
    assert page.input_value("#days_fractional_co2") == "14" and page.input_value("#days_erbium") == "3"
    page.fill("#days_erbium", "4")
    page.click("form.card button[type=submit]")
    assert "Progress settings saved" in page.inner_text("main")
    assert page.input_value("#days_erbium") == "4"
    screenshot(page, "progress-settings")


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


TRANSFERRED = """() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
    .reduce((sum, e) => sum + (e.transferSize || e.encodedBodySize || 0), 0)"""
#: What the compare page may download at first paint (display-size images only).
COMPARE_BYTES_LIMIT = 1.5e6


@pytest.mark.parametrize("size", [(1024, 768), (390, 844)], ids=["tablet", "phone"])
def test_tablet_and_phone_layouts(browser, server, progress_series, size):
    width, height = size
    sid = progress_series["series"]
    for who, email, password in (("admin", server.admin_email, None), ("patient", PATIENT_EMAIL, PATIENT_PASSWORD)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        try:
            if password:
                sign_in(page, server.url, email, password)
            else:
                sign_in(page, server.url, email)
            series_url = f"{server.url}/series/{sid}" if who == "admin" else f"{server.url}/me/series/{sid}"
            page.goto(series_url)
            page.wait_for_load_state("load")
            if width >= 1024:
                if who == "admin":  # the admin's four sections on one row
                    tops = {round(page.locator(".mainnav a").nth(i).bounding_box()["y"])
                            for i in range(page.locator(".mainnav a").count())}
                    assert len(tops) == 1, tops
                # Every visit column can be seen: the newest is in view (the grid opens scrolled to it).
                scroller = page.locator(".grid-scroll").bounding_box()
                newest = page.locator("table.series-grid th.visit-head").last.bounding_box()
                assert scroller["x"] - 1 <= newest["x"] and newest["x"] + newest["width"] <= scroller["x"] + scroller["width"] + 1
            else:  # a phone: cards, nothing to scroll sideways
                assert page.evaluate("document.scrollingElement.scrollWidth") <= width
                assert page.evaluate("getComputedStyle(document.querySelector('table.series-grid tr')).display") == "flex"
            screenshot(page, f"layout-{who}-series-{width}")

            # Compare: display-size images under the limit, captions never overlap.
            page.goto(f"{server.url}/series/{sid}/compare")
            page.wait_for_function("() => Array.from(document.querySelectorAll('.pane img[data-layer=photo]'))"
                                   ".every(i => i.complete && i.naturalWidth > 0)")
            sent = page.evaluate(TRANSFERRED)
            assert 0 < sent < COMPARE_BYTES_LIMIT, f"compare page transferred {sent} bytes"
            assert page.locator(".overlay[src]").count() == 0  # overlays wait until ticked
            for mode in ("slider", "side", "blink"):
                page.evaluate(f"window.trackerCompare.setMode('{mode}')")
                a = page.locator(".pane-base figcaption").bounding_box()
                b = page.locator(".pane-later figcaption").bounding_box()
                assert a and b and not _overlap(a, b), (mode, a, b)
            if width < 1024:
                assert page.evaluate("document.scrollingElement.scrollWidth") <= width
            page.evaluate("window.trackerCompare.setMode('slider')")
            screenshot(page, f"layout-{who}-compare-{width}")
            # Zooming in swaps the full-resolution image in.
            page.click("[data-zoom=in]")
            page.wait_for_function("() => document.querySelector('.pane-later img[data-layer=photo]').src"
                                   ".indexOf('size=display') < 0")
        finally:
            context.close()


def test_the_progress_panel_updates_without_a_reload_when_a_result_arrives(browser, server, progress_series):
    """A photo measured while the series page is open appears in the progress panel by itself."""
    from tracker.services.intake import PhotoTags, ingest_photo

    config = _instance_config(server.instance)
    engine = make_engine(config.DATABASE_URL)
    factory = make_sessionmaker(engine)
    storage = storage_from_config(config)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        sign_in(page, server.url, server.tech_email)
        with bind_sink(factory(), queue) as s:
            tech = s.scalar(select(User).where(User.email == server.tech_email))
            visit = series_svc.create_visit(s, tech, progress_series["series"], series_svc.VisitInput(
                kind="follow_up", visit_date=START.replace(year=START.year + 1)))
            later = s.get(Photo, progress_series["later"])
            with storage.open(later.original_key) as f:
                data = _jpeg(f.read(), 91)  # the same skin, a new file
            photo = ingest_photo(s, storage, tech, visit.id, data, filename="follow-up.jpg",
                                 tags=PhotoTags(view=later.view, region=later.region, time_point="follow_up"),
                                 limits=IntakeLimits.from_config(config))
            s.commit()
            new_id = photo.id
        page.goto(f"{server.url}/series/{progress_series['series']}")
        panel = page.locator("[data-live-fragment]")
        assert f'data-photo-id="{new_id}"' in panel.inner_html()
        assert panel.locator(f'li[data-photo-id="{new_id}"]').get_attribute("data-state") in ("queued", "analysing")
        page.wait_for_function(f"() => {{ const li = document.querySelector('[data-live-fragment] li[data-photo-id=\"{new_id}\"]');"
                               " return li && li.getAttribute('data-state') === 'measured'; }", timeout=180_000)
        assert page.locator("[data-live-fragment]").get_attribute("data-refreshed")
        badge = page.locator(f'a[data-photo-id="{new_id}"] .live-state')
        assert badge.inner_text() == "measured"
        screenshot(page, "live-progress-panel")
    finally:
        context.close()
        engine.dispose()
