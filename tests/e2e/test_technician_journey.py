"""A technician signs in, starts a series, records a visit, uploads photos by drag-and-drop and
with the file picker, and finds them on the series page and the photo page."""

from __future__ import annotations

import base64
import datetime as dt
import re

from .conftest import as_format, screenshot, sign_in, simulated_visit

DROP_FILES = """
async (files) => {
  const dt = new DataTransfer();
  for (const f of files) {
    const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0));
    dt.items.add(new File([bytes], f.name, { type: f.type }));
  }
  const zone = document.getElementById("dropzone");
  for (const type of ["dragenter", "dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
  }
}
"""


def drop(page, files: list[tuple[str, str, bytes]]) -> None:
    page.evaluate(DROP_FILES, [{"name": n, "type": t, "b64": base64.b64encode(b).decode()} for n, t, b in files])


def test_technician_uploads_photos_and_sees_them_in_the_series(page, server):
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    screenshot(page, "sign-in")
    sign_in(page, server.url, server.tech_email)
    assert page.url.endswith("/patients")
    assert page.locator("text=Pat One").is_visible()
    screenshot(page, "patients")

    # A new series for Pat One with the defaults (3 sessions, about 3 months apart).
    page.click("text=Pat One")
    page.click("text=New treatment series")
    page.select_option("#treatment_type", "micro_laser_peel")
    assert page.is_checked("input[name=treated_areas][value=full_face]")  # the default: the whole face
    page.uncheck("input[name=treated_areas][value=full_face]")
    page.check("input[name=treated_areas][value=cheeks]")
    page.check("input[name=treated_areas][value=forehead]")
    assert page.input_value("#planned_sessions") == "3" and page.input_value("#interval_days") == "91"
    page.click("button:has-text('Create series')")
    page.wait_for_selector("h1:has-text('Micro laser peel: forehead, cheeks')")

    # Session 1 with device settings, then straight to the upload page.
    page.click("text=Record a visit")
    assert page.input_value("#kind") == "treatment"
    session_day = dt.date.today() - dt.timedelta(days=2)
    page.fill("#visit_date", session_day.isoformat())
    page.fill("#device", "Pearl micro peel")
    page.fill("#energy_mj", "30")
    page.fill("#density_pct", "15")
    page.fill("#passes", "2")
    page.select_option("#anaesthesia", "topical")
    page.click("button:has-text('Record visit and upload photos')")
    page.wait_for_selector("#dropzone")
    assert "Upload photos: Session 1" in page.inner_text("h1")

    # Two photos by drag-and-drop (simulated front and close-up before treatment); the close-up is
    # re-tagged in its own row before uploading.
    photos = simulated_visit(13)
    drop(page, [("front-before.jpg", "image/jpeg", photos[("front", "before")]),
                ("cheek-before.jpg", "image/jpeg", photos[("close-up", "before")])])
    rows = page.locator(".file-row")
    assert rows.count() == 2
    rows.nth(1).locator("select[data-tag=view]").select_option("closeup")
    rows.nth(1).locator("input[data-tag=region]").fill("Left cheek")
    page.click("#upload-all")
    page.wait_for_selector("#upload-summary:has-text('2 uploaded')")
    assert "Uploaded: Front, before treatment." in rows.nth(0).inner_text()
    assert "Uploaded: Close-up: left cheek, before treatment." in rows.nth(1).inner_text()

    # The picker too: the "4 days after" photos as a PNG and as a HEIC from a phone, and a
    # file that is not a photo. The batch tags apply to new files.
    page.select_option("#batch-time", "after")
    page.fill("#batch-days", "4")
    page.set_input_files("#file-input", files=[
        {"name": "front-after.png", "mimeType": "image/png", "buffer": as_format(photos[("front", "after")], "PNG")},
        {"name": "IMG_0007.HEIC", "mimeType": "image/heic",
         "buffer": as_format(photos[("close-up", "after")], "HEIF")},
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a photo at all\n" * 20},
    ])
    assert rows.count() == 5
    assert rows.nth(2).locator("input[data-tag=days_after]").input_value() == "4"
    rows.nth(3).locator("select[data-tag=view]").select_option("closeup")
    rows.nth(3).locator("input[data-tag=region]").fill("left cheek")
    page.click("#upload-all")
    page.wait_for_selector("#to-series")  # shown once the batch is finished
    assert page.inner_text("#upload-summary") == "4 uploaded · 1 refused"
    assert "Uploaded: Front, 4 days after." in rows.nth(2).inner_text()
    assert "not a photo this system can read" in rows.nth(4).inner_text()
    screenshot(page, "upload")

    # The series page: one row per view, the photos in the session 1 column, previews made in the background.
    page.click("#to-series")
    page.wait_for_selector("table.series-grid")
    page.wait_for_function(
        "() => Array.from(document.querySelectorAll('a.thumb img'))"
        ".filter(i => i.complete && i.naturalWidth > 0).length >= 4",
        timeout=120_000)
    grid = page.inner_text("table.series-grid")
    assert "Front" in grid and "Close-up: left cheek" in grid
    assert grid.count("Before treatment") == 2 and grid.count("4 days after") == 2
    assert f"{session_day.day} {session_day:%b %Y}" in grid
    next_due = session_day + dt.timedelta(days=91)
    assert f"Session 2 due {next_due.day} {next_due:%b %Y}" in page.inner_text(".series-summary")
    # Each view's "before" photo is its baseline, unless the analysis (running in the worker
    # meanwhile) found it unusable: then the page says a retake is needed.
    for row in page.locator("table.series-grid tbody tr").all():
        before = row.locator("a.thumb", has_text="Before treatment")
        assert before.count() == 1
        marked = "is-baseline" in (before.get_attribute("class") or "")
        retake = "retake advised" in before.inner_text()
        assert marked != retake, row.inner_text()
        if retake:
            assert "needs a retake" in row.inner_text()
    screenshot(page, "series")

    # The photo page shows the photo large, with its tags.
    page.locator("a.thumb", has=page.locator("img[alt^='Close-up']")).first.click()
    page.wait_for_function("() => { const i = document.querySelector('.photo-main img');"
                           " return i && i.complete && i.naturalWidth >= 1000; }")
    assert "Close-up: left cheek" in page.inner_text("h1")
    assert "This photo is the baseline of its view" in page.inner_text("aside")
    # On a tablet every figure sits inside its card (long measure names once pushed the values
    # past the side cards' edge; screenshot() below checks the page no longer scrolls sideways).
    outside = page.evaluate("""() => Array.from(document.querySelectorAll('aside dl.facts dd')).filter(dd => {
        const card = dd.closest('.card').getBoundingClientRect(), box = dd.getBoundingClientRect();
        return box.right > card.right + 0.5 || box.left < card.left - 0.5; }).map(dd => dd.textContent)""")
    assert outside == []
    screenshot(page, "photo")

    # The clinic hands the patient an invitation as a link and a QR code.
    page.click("nav >> text=Patients")
    page.click("text=Pat One")
    page.click("button:has-text('Invite patient')")
    page.wait_for_selector("#invite-qr")
    assert re.search(r"/invite/[\w-]{30,}$", page.input_value("#invite-link"))
    assert page.evaluate("document.getElementById('invite-qr').naturalWidth") > 0
    screenshot(page, "invitation")
