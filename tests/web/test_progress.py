"""Progress pages over HTTP: who may see compare, charts, CSV and overlays; settings; retake
prompts; the region editor queues new measurements."""

from __future__ import annotations

import csv
import html
import io
import json
import re

from sqlalchemy import func, select

from tracker.models import Analysis, HealingWindow, Photo, RegionRevision, User
from tracker.services import review

from .conftest import login, resources


def status(client, url: str) -> int:
    response = client.get(url)
    response.close()  # send_file responses hold their file open until closed
    return response.status_code


def _other_clinic_tech(app):
    return login(app.test_client(), "tech@b.test")


def test_patient_sees_own_progress_pages_and_nothing_of_another_patient(clients, site):
    patient = clients["patient"]
    own = [f"/series/{site.series_id}/compare", f"/series/{site.series_id}/charts",
           f"/api/series/{site.series_id}/chart.json?view=front", f"/series/{site.series_id}/chart.csv?view=front"]
    for url in own:
        assert patient.get(url).status_code == 200, url
    for url in (u.replace(site.series_id, site.other_series_id) for u in own):
        assert patient.get(url).status_code == 404, url
    assert status(patient, f"/analyses/{site.analysis_id}/redness.jpg") == 200


def test_technician_of_another_clinic_gets_404_everywhere(app, site):
    other = _other_clinic_tech(app)
    for url in (f"/series/{site.series_id}/compare", f"/series/{site.series_id}/charts",
                f"/api/series/{site.series_id}/chart.json?view=front", f"/series/{site.series_id}/chart.csv",
                f"/analyses/{site.analysis_id}/redness.jpg", f"/photos/{site.photo_id}/region",
                f"/visits/{site.visit_id}/capture"):
        assert status(other, url) == 404, url


def test_anonymous_is_sent_to_sign_in_and_json_answers_401(clients, site):
    anon = clients["anonymous"]
    assert anon.get(f"/api/series/{site.series_id}/chart.json").status_code == 401
    assert "/login" in anon.get(f"/series/{site.series_id}/chart.csv").headers["Location"]


def test_chart_csv_matches_the_json(clients, site):
    tech = clients["technician"]
    data = tech.get(f"/api/series/{site.series_id}/chart.json?view=front").get_json()
    assert [p["kind"] for p in data["points"]][0] == "baseline"
    assert data["view_label"] == "Front"
    response = tech.get(f"/series/{site.series_id}/chart.csv?view=front")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    # The same figures, printed at the measure's precision (no exponent).
    decimals = {m["key"]: m["decimals"] for m in data["measures"]}
    from_csv = {(r["date"], r["measure"]): r["value"] for r in rows}
    from_json = {(p["date"], k): "" if v is None else f"{v:.{decimals[k]}f}" for p in data["points"]
                 for k, v in p["values"].items()}
    assert from_csv == from_json
    assert not any("e-" in r["value"] or "e+" in r["value"] for r in rows)


def test_clinic_can_hide_overlays_from_patients_only(clients, site, db):
    admin, patient, tech = clients["clinic_admin"], clients["patient"], clients["technician"]
    page = admin.get("/clinic/progress-settings")
    assert b"Healing windows" in page.data and b'value="14"' in page.data
    assert admin.post("/clinic/progress-settings", data={"days_fractional_co2": "10", "hide_overlays": "1"}
                      ).status_code == 302
    row = db.scalar(select(HealingWindow).where(HealingWindow.treatment_type == "fractional_co2"))
    assert row.days == 10
    assert status(patient, f"/analyses/{site.analysis_id}/redness.jpg") == 404
    assert status(tech, f"/analyses/{site.analysis_id}/redness.jpg") == 200
    bad = admin.post("/clinic/progress-settings", data={"days_erbium": "ten"}, follow_redirects=True)
    assert b"whole numbers of days" in bad.data
    assert patient.post("/clinic/progress-settings", data={}).status_code == 403


def test_photo_page_shows_a_retake_prompt_with_the_reason(clients, site, db):
    row = db.get(Analysis, site.analysis_id)
    row.state, row.error = "refused", "too blurred: hold the camera still"
    row.result_json = json.dumps({"quality": {"ok": False, "reasons": ["too blurred: hold the camera still"]},
                                  "alignment": None, "comparison": None})
    db.commit()
    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)
    assert "Retake needed" in page and "too blurred" in page
    assert f"/visits/{site.visit_id}/capture?retake_of={site.photo_id}" in page
    capture = clients["technician"].get(f"/visits/{site.visit_id}/capture?retake_of={site.photo_id}")
    assert b"Retake of the front photo" in capture.data


def test_region_editor_saves_a_revision_and_requeues_the_view(clients, site, db, app):
    tech = clients["technician"]
    assert f"/photos/{site.photo_id}/region" in tech.get(f"/photos/{site.photo_id}").get_data(as_text=True)
    assert b"Measurement region" in tech.get(f"/photos/{site.photo_id}/region").data
    polygon = json.dumps([[10, 10], [300, 20], [200, 250]])
    corners = json.dumps([[5, 5], [50, 5], [50, 40], [5, 40]])
    response = tech.post(f"/photos/{site.photo_id}/region", data={"polygon": polygon, "corners": corners},
                         follow_redirects=True)
    assert b"Region revision 1 saved" in response.data
    rev = db.scalar(select(RegionRevision))
    assert rev.revision == 1 and json.loads(rev.chart_corners) == [5, 5, 50, 5, 50, 40, 5, 40]
    from tracker.web.context import EXTENSION

    assert app.extensions[EXTENSION].storage.read(rev.mask_key)[:8] == b"\x89PNG\r\n\x1a\n"
    queued = db.scalars(select(Analysis).where(Analysis.roi_revision == 1)).all()
    assert {a.photo_id for a in queued} >= {site.photo_id}
    own = next(a for a in queued if a.photo_id == site.photo_id)
    assert own.chart_corners == rev.chart_corners
    bad = tech.post(f"/photos/{site.photo_id}/region", data={"polygon": "[[1,1],[2,2]]", "corners": ""},
                    follow_redirects=True)
    assert b"at least three points" in bad.data


def test_outcomes_page_for_admins(clients):
    page = clients["clinic_admin"].get("/clinic/outcomes")
    assert page.status_code == 200 and b"Outcomes across patients" in page.data
    assert clients["technician"].get("/clinic/outcomes").status_code == 403


def test_viewing_an_overlay_is_recorded_as_a_view_of_the_photo(clients, site, db):
    from tracker.models import AuditEvent

    before = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "photo.viewed"))
    assert status(clients["technician"], f"/analyses/{site.analysis_id}/redness.jpg") == 200
    db.expire_all()
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "photo.viewed")
                        .order_by(AuditEvent.created_at.desc())).all()
    assert len(events) == before + 1
    newest = events[0]
    assert newest.object_id == site.photo_id and newest.detail.get("image") == "overlay"
    # Its other overlays, fetched by the same page, add no line of their own.
    assert status(clients["technician"], f"/analyses/{site.analysis_id}/redness.jpg") == 200
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "photo.viewed")) \
        == before + 1


def test_photo_page_shows_each_area_of_the_face_against_its_own_detectable_change(clients, site, db):
    """A face photo: per-region figures and verdicts; a region hidden by a beard says so."""
    def region(area, reason=None):
        return {"area_px": area, "source": "landmarks", "reason": reason,
                "redness": {"erythema_index_mean": None if reason else 21.0}}

    def delta(photo, baseline, mdc, verdict):
        return {"photo": photo, "baseline": baseline, "value": photo - baseline, "mdc": mdc,
                "direction": "lower_is_better", "verdict": verdict, "note": None}

    regions = {k: region(5000) for k in ("forehead", "cheek_left", "cheek_right", "nose", "perioral",
                                         "periorbital_left", "periorbital_right")}
    regions["chin"] = region(0, "covered: hair or a beard hides most of this region's skin")
    compared = {k: {"common_area_px": 5000, "baseline": {},
                    "delta": {"erythema_index_mean": delta(20.0, 20.1, 0.2, "no measurable change")}}
                for k in regions}
    compared["cheek_left"]["delta"]["erythema_index_mean"] = delta(18.0, 21.0, 0.2, "improved")
    row = db.get(Analysis, site.analysis_id)
    row.result_json = json.dumps({
        "quality": {"ok": True, "reasons": []}, "alignment": {"ok": True, "reason": None},
        "face": {"found": True, "landmark_count": 468, "view": "front", "pose_deg": {"yaw": 2.0, "pitch": 1.0, "roll": 0.5}},
        "regions": regions,
        "comparison": {"delta": {}, "notes": [], "regions": compared},
    })
    db.commit()

    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)

    assert "By area of the face" in page
    assert 'data-region="cheek_left"' in page and "Left cheek" in page
    cheek = page.split('data-region="cheek_left"')[1].split("</tr>")[0]
    assert 'data-verdict="improved"' in cheek
    chin = page.split('data-region="chin"')[1].split("</tr>")[0]
    assert "beard" in chin



def test_a_close_up_photo_page_has_no_table_of_face_areas(clients, site, db):
    """A declared close-up is not a face: its page lists no eight 'no anatomical regions' rows."""
    reason = "close-up: no anatomical regions"
    row = db.get(Analysis, site.analysis_id)
    row.result_json = json.dumps({
        "quality": {"ok": True, "reasons": []}, "alignment": {"ok": True, "reason": None}, "face": None,
        "regions": {k: {"area_px": 0, "source": "landmarks", "reason": reason}
                    for k in ("forehead", "cheek_left", "cheek_right", "nose", "chin", "perioral",
                              "periorbital_left", "periorbital_right")},
        "comparison": {"delta": {}, "notes": [], "regions": {}},
    })
    db.commit()

    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)

    assert "By area of the face" not in page and reason not in page


def test_photo_page_says_when_the_camera_was_turned_against_the_baseline(clients, site, db):
    """A close-up lined up by a homography tells the technician to hold the camera square next time."""
    row = db.get(Analysis, site.analysis_id)
    turned = {"ok": True, "reason": None, "matrix": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], "residual_px": 0.8,
              "similarity": 0.9, "inliers": 120, "method": "features",
              "homography": [[1.0, 0.02, 3.0], [-0.01, 1.0, 2.0], [2e-5, 1e-5, 1.0]]}
    row.result_json = json.dumps({"quality": {"ok": True, "reasons": []}, "alignment": turned,
                                  "comparison": {"delta": {}, "notes": [], "regions": {}}})
    db.commit()
    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)
    assert "the camera was turned against the baseline" in page and "Hold it square" in page

    row.result_json = json.dumps({"quality": {"ok": True, "reasons": []},
                                  "alignment": {k: v for k, v in turned.items() if k != "homography"},
                                  "comparison": {"delta": {}, "notes": [], "regions": {}}})
    db.commit()
    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)
    assert "the camera was turned" not in page and "residual 0.8 px" in page


FACE = {"found": True, "landmark_count": 468, "view": "front", "pose_deg": {"yaw": 2.0, "pitch": 1.0, "roll": 0.5}}
REGION_KEYS = ("forehead", "cheek_left", "cheek_right", "nose", "chin", "perioral", "periorbital_left",
               "periorbital_right")


def _blood(photo, baseline, verdict):
    return {"photo": photo, "baseline": baseline, "value": photo - baseline, "mdc": 0.1,
            "direction": "lower_is_better", "verdict": verdict, "note": None}


def _face_pair(db, site, *, face=FACE):
    """The patient's two front photos measured: the later one compared area by area (blood lower on
    both cheeks and around the mouth, higher on the forehead, steady elsewhere)."""
    later = db.scalars(select(Analysis).where(Analysis.photo_id != site.photo_id)
                       .join(Photo, Analysis.photo_id == Photo.id).where(Photo.series_id == site.series_id)).first()
    verdicts = {"cheek_left": (0.9, 1.2, "improved"), "cheek_right": (0.8, 1.25, "improved"),
                "perioral": (1.1, 1.5, "improved"), "forehead": (1.4, 1.0, "worse")}
    compared = {k: {"common_area_px": 5000, "baseline": {}, "delta": {
        "haemoglobin_index": _blood(*verdicts.get(k, (1.0, 1.02, "no measurable change")))}} for k in REGION_KEYS}
    regions = {k: {"area_px": 0 if face is None else 5000, "source": "landmarks",
                   "reason": "close-up: no anatomical regions" if face is None else None} for k in REGION_KEYS}
    later.state = "done"
    later.result_json = json.dumps({
        "quality": {"ok": True, "reasons": []}, "alignment": {"ok": True, "reason": None}, "face": face,
        "regions": regions,
        "comparison": {"delta": {"haemoglobin_index": _blood(1.0, 1.2, "improved")}, "notes": [],
                       "regions": compared if face is not None else {}},
    })
    db.commit()
    return later


def _patient_summary(clients, site) -> list[str]:
    page = html.unescape(clients["patient"].get(f"/me/series/{site.series_id}").get_data(as_text=True))
    summary = page.split('<ul class="summary">')[1].split("</ul>")[0]
    return re.findall(r"<li>(.*?)</li>", summary)


def test_patient_summary_names_the_areas_of_the_face_that_changed(clients, site, db, app):
    """Both cheeks and the mouth improved, the forehead is worse: the patient reads where, left and
    right as one; with the clinic's details on, each area's figures read as on the photo page's table."""
    later = _face_pair(db, site)

    lines = _patient_summary(clients, site)
    assert "Redness on the cheeks: less than at the start." in lines
    assert "Redness around the mouth: less than at the start." in lines
    assert "Redness on the forehead: more than at the start; your clinic will look at this with you." in lines
    assert not any("nose" in line or "chin" in line or "eye" in line for line in lines)  # no measurable change

    with resources(app).session_factory() as s:
        admin = s.scalars(select(User).where(User.email == site.admin_email)).one()
        review.set_publishing(s, admin, auto_publish=True, patient_details=True)
        s.commit()
    lines = _patient_summary(clients, site)
    table = html.unescape(clients["technician"].get(f"/photos/{later.photo_id}").get_data(as_text=True))

    def shown(key):  # the photo page's region table: "baseline → photo"
        cell = table.split(f'data-region="{key}"')[1].split('data-measure="haemoglobin_index"')[1]
        return re.search(r">\s*(\S+) → (\S+)", cell).groups()

    (lb, lp), (rb, rp), (mb, mp) = shown("cheek_left"), shown("cheek_right"), shown("perioral")
    assert (lb, lp) == ("1.20", "0.90")
    assert (f"Redness on the cheeks: less than at the start (left cheek {lb} % blood at the start, {lp} now; "
            f"right cheek {rb} % blood at the start, {rp} now).") in lines
    assert f"Redness around the mouth: less than at the start ({mb} % blood at the start, {mp} now)." in lines


def test_a_close_up_pair_has_no_sentence_about_areas_of_the_face(clients, site, db):
    _face_pair(db, site, face=None)

    lines = _patient_summary(clients, site)

    assert lines and lines[0].startswith("Redness: less than at the start")
    assert not any(" on the " in line or " around the " in line for line in lines)


def test_chart_draws_each_area_of_the_face_from_the_stored_region_figures(clients, site, db):
    """Per area: the point is the pair's region ``photo`` figure, the band its baseline ± its own MDC;
    the CSV carries the same rows with the area named (the whole photo's rows keep an empty region)."""
    later = _face_pair(db, site)
    stored = json.loads(later.result_json)["comparison"]["regions"]

    data = clients["technician"].get(f"/api/series/{site.series_id}/chart.json?view=front").get_json()

    assert [r["key"] for r in data["regions"]] == list(REGION_KEYS)
    assert data["regions"][1] == {"key": "cheek_left", "label": "Left cheek"}
    point = next(p for p in data["points"] if p["photo_id"] == later.photo_id)
    for key in REGION_KEYS:
        figures = stored[key]["delta"]["haemoglobin_index"]
        line = point["regions"][key]
        assert line["values"]["haemoglobin_index"] == round(figures["photo"], 2), key
        assert line["bands"]["haemoglobin_index"] == [round(figures["baseline"] - 0.1, 2),
                                                      round(figures["baseline"] + 0.1, 2)], key
        assert line["verdicts"]["haemoglobin_index"] == figures["verdict"], key
    assert point["values"]["haemoglobin_index"] == 1.0  # the whole face stays its own line

    rows = list(csv.DictReader(io.StringIO(
        clients["technician"].get(f"/series/{site.series_id}/chart.csv?view=front").get_data(as_text=True))))
    cheek = [r for r in rows if r["photo_id"] == later.photo_id and r["region"] == "cheek_left"]
    assert [(r["measure"], r["baseline"], r["value"], r["verdict"]) for r in cheek] == \
        [("haemoglobin_index", "1.20", "0.90", "improved")]
    whole = [r for r in rows if r["photo_id"] == later.photo_id and not r["region"]]
    assert [(r["measure"], r["value"]) for r in whole] == [("haemoglobin_index", "1.00")]


def test_overlays_are_served_as_stored_jpeg_and_older_png_overlays_still_open(app, clients, site, db):
    """New overlays are JPEG, one address each; an analysis from before keeps its PNG overlays."""
    from PIL import Image

    from tracker.services.analysis import overlay_key
    from tracker.web.context import EXTENSION

    tech = clients["technician"]
    storage = app.extensions[EXTENSION].storage
    row = db.get(Analysis, site.analysis_id)
    stored = storage.read(json.loads(row.overlay_keys)["redness"])
    full = tech.get(f"/analyses/{site.analysis_id}/redness.jpg")
    assert full.status_code == 200 and full.mimetype == "image/jpeg" and full.data == stored
    full.close()
    # The display size of an overlay that already is a display-size JPEG: the same bytes, not re-encoded.
    shown = tech.get(f"/analyses/{site.analysis_id}/redness.jpg?size=display")
    assert shown.mimetype == "image/jpeg" and shown.data == stored
    assert status(tech, f"/analyses/{site.analysis_id}/redness.png") == 404  # one address per image

    legacy = overlay_key(row.id, "spots.png")
    png = io.BytesIO()
    Image.new("RGB", (2000, 1500), (20, 200, 40)).save(png, "PNG")
    storage.put_bytes(legacy, png.getvalue())
    row.overlay_keys = json.dumps({**json.loads(row.overlay_keys), "spots": legacy})
    db.commit()
    old = tech.get(f"/analyses/{site.analysis_id}/spots.png")
    assert old.status_code == 200 and old.mimetype == "image/png" and old.data == png.getvalue()
    old.close()
    small = tech.get(f"/analyses/{site.analysis_id}/spots.png?size=display")
    with Image.open(io.BytesIO(small.data)) as im:
        assert small.mimetype == "image/jpeg" and im.format == "JPEG" and im.size == (1600, 1200)


def test_photo_page_names_a_small_photo_and_hair_in_the_comparison_notes(clients, site, db):
    """The analysis' notes on a thumbnail-sized photo and on hair reach the technician's photo page."""
    row = db.get(Analysis, site.analysis_id)
    hair = ("hair covers part of the skin (this photo 9 %): it was filled in before roughness and lines were"
            " measured, so that hair, or a shave, does not read as lines")
    small = "small photo: this photo (300 x 300 px). Spots and texture vary more"
    row.result_json = json.dumps({"quality": {"ok": True, "reasons": []}, "alignment": {"ok": True, "reason": None},
                                  "comparison": {"delta": {}, "notes": [small, hair], "regions": {}}})
    db.commit()
    page = clients["technician"].get(f"/photos/{site.photo_id}").get_data(as_text=True)
    notes = page.split('class="comparison-notes"')[1].split("</ul>")[0]
    assert "small photo: this photo (300 x 300 px)" in notes and "hair covers part of the skin" in notes
