"""One truth on every page (issue 10's proof).

The demo series is loaded through the real intake and measured by the real queue (small
photos). Every pair is then read from the photo page, the compare page, the chart JSON and
CSV, the PDF text, the bundle's CSV and JSON and the patient's summary: each figure must
read the same, to the precision shown, and none may be impossible. Then a photo that
alignment refuses is uploaded: the PDF, the bundle and the patient's pages still work and
show the last valid pair.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tracker.analysis.measures import MEASURE_BY_KEY
from tracker.models import Base, Photo, User
from tracker.services import progress, review
from tracker.services import series as series_svc
from tracker.services.demo import LOGINS, load_demo
from tracker.services.dispatch import bind_sink
from tracker.services.intake import PhotoTags, ingest_photo
from tracker.web.context import EXTENSION

from .conftest import build_app, dispose, login

ADMIN, TECH, PATIENT = LOGINS


@dataclass
class Demo:
    app: Flask
    series_id: str
    tech: FlaskClient
    admin: FlaskClient
    patient: FlaskClient


def _drain(app: Flask) -> None:
    queue = app.extensions[EXTENSION].queue
    while queue.run_pending():
        pass


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[Demo]:
    instance = tmp_path_factory.mktemp("one-truth") / "instance"
    app = build_app(instance, WTF_CSRF_ENABLED=False)
    res = app.extensions[EXTENSION]
    Base.metadata.create_all(res.session_factory.kw["bind"])
    with bind_sink(res.session_factory(), res.queue) as s:
        result = load_demo(s, res.storage, res.limits, size="small")
        s.commit()
    _drain(app)
    with res.session_factory() as s:  # the clinic shows patients the figures: the summary can be checked
        admin = s.query(User).filter_by(email=ADMIN.email).one()
        review.set_publishing(s, admin, auto_publish=False, patient_details=True)
        s.commit()
    yield Demo(app, result.series_id, login(app.test_client(), TECH.email, TECH.password),
               login(app.test_client(), ADMIN.email, ADMIN.password),
               login(app.test_client(), PATIENT.email, PATIENT.password))
    dispose(app)


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def _pairs(demo: Demo) -> list[tuple[progress.ViewProgress, progress.Point, list[progress.Change]]]:
    res = demo.app.extensions[EXTENSION]
    with res.session_factory() as s:
        tech = s.query(User).filter_by(email=TECH.email).one()
        out = []
        for vp in progress.series_progress(s, tech, demo.series_id):
            for pt in vp.points:
                if pt.kind in ("progress", "healing") and pt.comparison is not None:
                    out.append((vp, pt, progress.changes(pt)))
        return out


def _photo_page(demo: Demo, photo_id: str) -> dict[str, tuple[str, str, str]]:
    page = _text(demo.tech.get(f"/photos/{photo_id}"))
    found = re.findall(r'<li data-measure="(\w+)"[^>]*>\s*<span class="m">[^<]*</span>\s*<span class="v">'
                       r'(\S+) → (\S+).*?\(±(\S+)\)', page, re.S)
    return {k: (b, p, m) for k, b, p, m in found}


def _compare_page(demo: Demo, client: FlaskClient, vp, pt) -> str:
    extra = f"healing={pt.photo.id}" if pt.kind == "healing" else f"b={pt.photo.id}"
    return _text(client.get(f"/series/{demo.series_id}/compare?view={vp.view}&region={vp.region}&{extra}"))


def _compare_table(page: str) -> dict[str, tuple[str, str, str]]:
    rows = re.findall(r'<tr data-measure="(\w+)".*?<td data-label="Baseline">(\S+)</td><td data-label="This photo">'
                      r'(\S+)</td>.*?<td data-label="Detectable">± (\S+)</td>', page, re.S)
    return {k: (b, p, m) for k, b, p, m in rows}


def _pdf_text(demo: Demo, tmp_path, chosen: dict[str, str]) -> str:
    response = demo.admin.post(f"/series/{demo.series_id}/exports/report",
                               data={f"later:{k}": v for k, v in chosen.items()})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(response.data)
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _bundle(demo: Demo, chosen: dict[str, str], **options: str) -> dict[str, bytes]:
    response = demo.admin.post(f"/series/{demo.series_id}/exports/bundle",
                               data={**{f"later:{k}": v for k, v in chosen.items()}, **options})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _plausible(key: str, *texts: str) -> None:
    spec = MEASURE_BY_KEY[key]
    for text in texts:
        assert "e-" not in text and "e+" not in text, (key, text)
        assert spec.plausible(float(text) / spec.scale), f"{key}: impossible value {text}"


def test_every_pair_reads_the_same_on_every_page_and_in_every_export(demo, tmp_path):
    pairs = _pairs(demo)
    assert len([1 for _, pt, _ in pairs if pt.kind == "progress"]) >= 3, "the demo should give several pairs"
    checked = 0
    for vp, pt, pt_changes in pairs:
        key = f"{vp.view}:{vp.region}" if vp.region else vp.view
        expected = {c.measure.key: (c.shown("baseline"), c.shown("photo"), c.shown("mdc")) for c in pt_changes}
        for k, (b, p, m) in expected.items():
            _plausible(k, b, p, m)

        assert _photo_page(demo, pt.photo.id) == expected, "photo page"
        assert _compare_table(_compare_page(demo, demo.tech, vp, pt)) == expected, "compare page"

        chart = demo.tech.get(f"/api/series/{demo.series_id}/chart.json?view={vp.view}&region={vp.region}").get_json()
        point = next(p for p in chart["points"] if p["photo_id"] == pt.photo.id)
        decimals = {m["key"]: m["decimals"] for m in chart["measures"]}
        for k, value in point["values"].items():
            shown = f"{value:.{decimals[k]}f}"
            assert (f"{point['baselines'][k]:.{decimals[k]}f}", shown, f"{point['mdcs'][k]:.{decimals[k]}f}") \
                == expected[k], f"chart JSON {k}"
        rows = list(csv.DictReader(io.StringIO(demo.tech.get(
            f"/series/{demo.series_id}/chart.csv?view={vp.view}&region={vp.region}").get_data(as_text=True))))
        for row in (r for r in rows if r["photo_id"] == pt.photo.id and not r["region"]):
            assert (row["baseline"], row["value"], row["mdc"]) == expected[row["measure"]], f"chart CSV {row}"
            _plausible(row["measure"], row["band_low"], row["band_high"])
        # Each area of a face: the chart's rows read as the photo page's table of areas.
        areas = {(r.key, c.measure.key): (c.shown("baseline"), c.shown("photo"), c.shown("mdc"))
                 for r in progress.region_changes(pt) for c in r.changes}
        area_rows = [r for r in rows if r["photo_id"] == pt.photo.id and r["region"]]
        assert bool(area_rows) == (vp.view == "front"), "one line per area on a face, none on a close-up"
        for row in area_rows:
            assert (row["baseline"], row["value"], row["mdc"]) == areas[row["region"], row["measure"]], \
                f"chart CSV {row}"

        if pt.kind != "progress":  # healing photos are never exported as progress
            checked += 1
            continue
        text = _pdf_text(demo, tmp_path, {key: pt.photo.id})
        for k, (b, p, m) in expected.items():
            assert re.search(rf"(^|\s){re.escape(b)}\s+{re.escape(p)}\s+\S+\s+±\s*{re.escape(m)}(\s|$)", text, re.M), \
                f"PDF row of {k}: {b} {p} ± {m}"
        files = _bundle(demo, {key: pt.photo.id})
        rows = [r for r in csv.DictReader(io.StringIO(files["measures.csv"].decode())) if r["view"] == vp.label]
        assert {r["measure"]: (r["baseline"], r["value"], r["mdc"]) for r in rows} == expected, "bundle CSV"
        rows = [r for r in json.loads(files["measures.json"])["measures"] if r["view"] == vp.label]
        assert {r["measure"]: (r["baseline"], r["value"], r["mdc"]) for r in rows} == expected, "bundle JSON"

        summary = _compare_page(demo, demo.patient, vp, pt)
        said = set()  # the summary says each thing a patient knows once, from its first measure
        for c in pt_changes:
            if not c.measure.charted or c.measure.patient_label in said:
                continue
            said.add(c.measure.patient_label)
            if c.verdict != "not comparable":
                assert f"({c.shown('baseline')} at the start, {c.shown('photo')} now" in summary, c.measure.key
        checked += 1
    assert checked == len(pairs)


def test_no_page_or_export_shows_an_exponent_or_kelvin_to_the_patient(demo):
    pages = ["/me", f"/me/series/{demo.series_id}", f"/series/{demo.series_id}/compare",
             f"/series/{demo.series_id}/timeline"]
    for url in pages:
        text = _text(demo.patient.get(url))
        body = re.sub(r"<[^>]+>", " ", text[text.index("<main"):])  # what the patient reads
        assert not re.search(r"\d e-\d|\de-0\d", body), url
        assert " K " not in body and "kelvin" not in body.lower() and "different patient" not in body, url
        assert "erythema_index_mean" not in body and "line_density" not in body, url


def test_a_photo_alignment_refuses_never_hides_the_last_valid_pair(demo, tmp_path):
    from tracker.simulate import simulate_series

    res = demo.app.extensions[EXTENSION]
    with bind_sink(res.session_factory(), res.queue) as s:
        tech = s.query(User).filter_by(email=TECH.email).one()
        visit = series_svc.create_visit(s, tech, demo.series_id, series_svc.VisitInput(
            kind="follow_up", visit_date=dt.date.today()))
        # A sharp, well-lit photo of something else (a face) filed as the cheek close-up.
        face = next(p for p in simulate_series(seed=99, trend="stable", size="small", sessions=1,
                                               follow_up=False, after_sessions=()).visits[0].photos
                    if p.view == "front")
        photo = ingest_photo(s, res.storage, tech, visit.id, face.jpeg, filename="someone-else.jpg",
                             tags=PhotoTags(view="closeup", region="left cheek", time_point="follow_up"),
                             limits=res.limits)
        s.commit()
        refused_id, visit_id = photo.id, visit.id
    _drain(demo.app)
    with res.session_factory() as s:
        from tracker.services.photo_status import photo_status

        state = photo_status(s, s.get(Photo, refused_id))
        assert state.state == "not_comparable", (state.state, state.reason)

    pairs = {vp.view: vp for vp, _, _ in _pairs(demo)}
    closeup = pairs["closeup"]
    assert closeup.pair is not None and closeup.pair.later.photo.id != refused_id
    assert [pt.photo.id for pt in closeup.retakes] == [refused_id]
    # Staff see "retake needed" with the reason; the valid comparison stays.
    compare = _text(demo.tech.get(f"/series/{demo.series_id}/compare?view=closeup&region=left cheek"))
    assert "Retake needed" in compare and "The comparison below is the last valid one." in compare
    # The PDF and the bundle are still made, with a line saying what was skipped and why.
    text = _pdf_text(demo, tmp_path, {})
    assert "skipped: not comparable" in text
    files = _bundle(demo, {}, report="1", originals="1")
    assert b"not comparable" in files["skipped.txt"] and "report.pdf" in files
    assert any(n.startswith("originals/") for n in files)
    # The patient, once the visit is reviewed, still sees the last valid pair and never the refused photo.
    assert demo.tech.post(f"/visits/{visit_id}/review").status_code == 302
    home = _text(demo.patient.get("/me"))
    assert refused_id not in home
    patient_compare = _text(demo.patient.get(f"/series/{demo.series_id}/compare?view=closeup&region=left cheek"))
    assert closeup.pair.later.photo.id in patient_compare and refused_id not in patient_compare
    assert "retake" not in patient_compare.lower() and "different area" not in patient_compare
    assert demo.patient.get(f"/me/photos/{refused_id}").status_code == 404


def _region_cells(page: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    cells = {}
    for region, row in re.findall(r'<tr data-region="(\w+)">(.*?)</tr>', page, re.S):
        for key, b, p, m in re.findall(r'<td data-measure="(\w+)"[^>]*>(\S+) → (\S+) <span class="muted small">'
                                       r'\(±(\S+)\)</span>', row, re.S):
            cells[(region, key)] = (b, p, m)
    return cells


def test_each_area_of_the_face_reads_the_same_on_the_photo_page_and_in_compare(demo):
    front = [(vp, pt) for vp, pt, _ in _pairs(demo) if vp.view == "front" and pt.kind == "progress"]
    assert front, "the demo has compared front views"
    for vp, pt in front:
        expected = {(r.key, c.measure.key): (c.shown("baseline"), c.shown("photo"), c.shown("mdc"))
                    for r in progress.region_changes(pt) for c in r.changes}
        assert expected, "a compared face photo has figures per area"
        assert _region_cells(_text(demo.tech.get(f"/photos/{pt.photo.id}"))) == expected, "photo page"
        assert _region_cells(_compare_page(demo, demo.tech, vp, pt)) == expected, "compare page"
