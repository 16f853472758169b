"""Exports on a real, analysed simulated series: comparison images without metadata, the PDF
report's text and first page, the ZIP bundle and `tracker verify-export`, marketing consent."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.config import TestConfig
from tracker.jobs import TaskQueue
from tracker.models import Analysis, AuditEvent, Base, Baseline, ExportRecord, Photo, TreatmentSeries, User, make_engine, make_sessionmaker
from tracker.models.vocabulary import CONSENT_MARKETING
from tracker.services import exports, patients
from tracker.services.demo import LOGINS, load_demo
from tracker.services.dispatch import bind_sink
from tracker.services.errors import Conflict, ConsentRequired, Forbidden
from tracker.services.intake import IntakeLimits
from tracker.storage import FileSystemStorage
from ..bundle_tampering import cli_verifier, rezip, tamper


@dataclass
class Analysed:
    instance: object
    session: Session
    storage: FileSystemStorage
    admin: User
    tech: User
    series: TreatmentSeries


@pytest.fixture(scope="module")
def analysed(tmp_path_factory) -> Iterator[Analysed]:
    """The demo's simulated series (small photos), every photo analysed by the real queue (~1 min)."""
    instance = tmp_path_factory.mktemp("exports") / "instance"
    config = TestConfig(instance)
    config.ensure_instance()
    engine = make_engine(config.DATABASE_URL)
    Base.metadata.create_all(engine)
    factory = make_sessionmaker(engine)
    storage = FileSystemStorage(config.STORAGE_PATH)
    queue = TaskQueue(config, storage=storage, session_factory=factory)
    session = bind_sink(factory(), queue)
    result = load_demo(session, storage, IntakeLimits.from_config(config), size="small")
    while queue.run_pending():
        pass
    session.expire_all()
    admin = session.scalar(select(User).where(User.email == LOGINS[0].email))
    tech = session.scalar(select(User).where(User.email == LOGINS[1].email))
    yield Analysed(instance, session, storage, admin, tech, session.get(TreatmentSeries, result.series_id))
    session.close()
    engine.dispose()


def _metadata_blocks(data: bytes) -> list[str]:
    """Names of the blocks in a PNG or JPEG file that could carry metadata (EXIF, GPS, XMP, ICC, text)."""
    found = []
    if data.startswith(b"\x89PNG"):
        pos = 8
        while pos < len(data):
            length = int.from_bytes(data[pos:pos + 4], "big")
            kind = data[pos + 4:pos + 8].decode("latin-1")
            if kind not in ("IHDR", "IDAT", "IEND", "PLTE"):
                found.append(kind)
            pos += 12 + length
        return found
    pos = 2
    while pos < len(data) and data[pos] == 0xFF and data[pos + 1] != 0xDA:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xE1 <= marker <= 0xEF or marker == 0xFE:  # APP1-APP15 (EXIF, XMP, ICC...), comments
            found.append(f"APP{marker - 0xE0}" if marker != 0xFE else "COM")
        pos += 2 + length
    return found


def _pair(a: Analysed) -> exports.ProgressPair:
    """The first view with a measured later photo (which views pass the quality gate depends on the simulator)."""
    return next(p for p in exports.progress_pairs(a.session, a.series) if p.later is not None)


def _count(a: Analysed, kind: str | None = None) -> int:
    stmt = select(func.count()).select_from(ExportRecord)
    if kind:
        stmt = stmt.where(ExportRecord.kind == kind)
    return a.session.scalar(stmt)


def test_progress_pair_is_baseline_vs_latest_before_or_follow_up_photo(analysed):
    a = analysed
    pair = _pair(a)
    baseline = a.session.scalar(select(Baseline).where(Baseline.series_id == a.series.id, Baseline.view == pair.view,
                                                       Baseline.region == pair.region))
    assert pair.baseline.id == baseline.photo_id and pair.baseline.time_point == "before"
    # The demo series ends with a follow-up visit: the latest progress photo.
    assert pair.later is not None and pair.later.time_point == "follow_up"
    assert pair.later.visit.visit_date == max(v.visit_date for v in a.series.visits)
    assert pair.analysis is not None and pair.analysis.baseline_photo_id == pair.baseline.id
    assert pair.analysis.state == "done"


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_comparison_image_is_aligned_labelled_by_name_and_has_no_metadata(analysed, fmt):
    a = analysed
    pair = _pair(a)
    out = exports.export_comparison(a.session, a.storage, a.admin, a.series.id, pair.key, fmt=fmt)
    a.session.commit()
    date = pair.later.visit.visit_date
    view = exports.view_slug(pair)  # "front", "close-up-left-cheek"
    assert out.filename == f"{view}_baseline-vs-follow-up_{date:%Y-%m-%d}.{'png' if fmt == 'png' else 'jpg'}"
    with Image.open(io.BytesIO(out.data)) as im:
        assert im.format == ("PNG" if fmt == "png" else "JPEG")
        assert not im.getexif(), "exported images must carry no EXIF (GPS, camera)"
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "photoshop"} & set(im.info)
        # Two panels of the aligned pair, each as wide as the baseline frame at working scale.
        assert im.width > 1.8 * im.height * 0.8
    assert _metadata_blocks(out.data) == [], "no EXIF/XMP/ICC/text blocks in the file"
    assert out.record.originals == {pair.baseline.id: pair.baseline.sha256, pair.later.id: pair.later.sha256}
    assert out.record.created_by_id == a.admin.id and out.record.sha256 == exports.sha256(out.data)


def test_pdf_report_has_name_dates_values_and_renders(analysed, tmp_path):
    a = analysed
    out = exports.export_report(a.session, a.storage, a.admin, a.series.id)
    a.session.commit()
    pdf = tmp_path / out.filename
    pdf.write_bytes(out.data)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert a.series.patient.full_name in text
    for visit in a.series.visits:
        assert f"{visit.visit_date:%d %b %Y}" in text
    pair = _pair(a)
    red = next(c for c in pair.changes if c.measure.key == "erythema_index_mean")
    for which in ("baseline", "photo", "mdc"):
        assert red.shown(which) in text
    assert "e-0" not in text and "±0.0000" not in text
    assert "Sessions" in text and "How to read this report" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    with Image.open(next(tmp_path.glob("page*.png"))) as page:
        grey = np.asarray(page.convert("L"))
        assert page.width > 300 and len(np.unique(grey)) > 20 and (grey < 128).mean() > 0.01  # text, not blank


def test_bundle_manifest_matches_files_and_verify_catches_tampering(analysed, tmp_path, monkeypatch):
    a = analysed
    out = exports.export_bundle(a.session, a.storage, a.admin, a.series.id)
    a.session.commit()
    zf = zipfile.ZipFile(io.BytesIO(out.data))
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["export_id"] == out.record.id
    names = {f["name"] for f in manifest["files"]}
    assert {"measures.csv", "measures.json"} <= names
    view = exports.view_slug(_pair(a))
    assert f"comparisons/{view}_baseline-vs-follow-up_{_pair(a).later.visit.visit_date:%Y-%m-%d}.png" in names
    assert any(n.startswith(f"aligned/{view}_follow-up_") and n.endswith("_aligned-to-baseline.png") for n in names)
    for f in manifest["files"]:
        assert exports.sha256(zf.read(f["name"])) == f["sha256"]
    stored = {p.id: p.sha256 for p in a.session.scalars(select(Photo))}
    assert manifest["originals"] and all(stored[o["photo_id"]] == o["sha256"] for o in manifest["originals"])
    assert "erythema_index_mean" in zf.read("measures.csv").decode()

    verify = cli_verifier(a.instance, tmp_path, monkeypatch)

    ok = verify(out.data)
    assert ok.exit_code == 0, ok.output
    assert "Verified" in ok.output

    image = next(n for n in names if n.startswith("comparisons/"))
    forged = tamper(zf.read(image))
    modified = verify(rezip(out.data, {image: forged}))
    assert modified.exit_code == 1
    assert f"FAILED    {image}: MODIFIED" in modified.output

    manifest["files"] = [{**f, "sha256": exports.sha256(forged)} if f["name"] == image else f
                         for f in manifest["files"]]
    both = verify(rezip(out.data, {image: forged, "manifest.json": json.dumps(manifest, indent=2).encode()}))
    assert both.exit_code == 1
    assert f"{image}: MODIFIED: not what the server produced (its manifest entry was changed to match)" in both.output
    assert "manifest.json differs from the manifest the server produced" in both.output
    other = next(n for n in names if n.startswith("aligned/"))
    assert f"OK        {other}: what the server produced" in both.output


def test_marketing_needs_consent_then_is_watermarked_without_name(analysed):
    a = analysed
    before = _count(a)
    with pytest.raises(ConsentRequired, match="not given marketing consent"):
        exports.export_marketing(a.session, a.storage, a.admin, a.series.id, _pair(a).key)
    a.session.commit()
    assert _count(a) == before, "a refused marketing export must not be recorded as produced"
    refusal = a.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.marketing_refused"))
    assert refusal is not None and refusal.actor_id == a.admin.id

    patients.grant_consent(a.session, a.admin, a.series.patient_id, CONSENT_MARKETING, granted_on=dt.date.today())
    a.session.commit()
    # The demo's photos are simulated: never a marketing image, even with consent.
    with pytest.raises(Conflict, match="simulated"):
        exports.export_marketing(a.session, a.storage, a.admin, a.series.id, _pair(a).key)
    a.session.commit()
    assert _count(a) == before
    # From here the demo's photos stand in for a real patient's series (the flag is all that differs).
    a.series.is_simulated = a.series.patient.is_simulated = False
    a.session.commit()
    full = exports.export_marketing(a.session, a.storage, a.admin, a.series.id, _pair(a).key)
    cropped = exports.export_marketing(a.session, a.storage, a.admin, a.series.id, _pair(a).key, crop=True)
    a.session.commit()
    name = a.series.patient.full_name
    for out in (full, cropped):
        assert out.filename.endswith("_marketing.png") and "alex" not in out.filename.lower()
        assert name.encode() not in out.data
        with Image.open(io.BytesIO(out.data)) as im:
            assert not im.getexif() and _metadata_blocks(out.data) == []
    for out in (full, cropped):  # large enough for a web page or print, cropped or not
        with Image.open(io.BytesIO(out.data)) as im:
            assert max(im.size) >= 1600, im.size
    plain = exports.comparison_picture(a.storage, _pair(a), clinic_name="x")
    with Image.open(io.BytesIO(full.data)) as marked:
        assert marked.size != plain.size or not np.array_equal(np.asarray(marked), np.asarray(plain))
    assert _count(a, "marketing") == 2
    a.series.is_simulated = a.series.patient.is_simulated = True
    a.session.commit()


def test_technicians_export_only_where_the_clinic_allows(analysed):
    a = analysed
    with pytest.raises(Forbidden):
        exports.export_comparison(a.session, a.storage, a.tech, a.series.id, _pair(a).key)
    with pytest.raises(Forbidden):
        exports.set_technicians_may_export(a.session, a.tech, True)
    exports.set_technicians_may_export(a.session, a.admin, True)
    a.session.commit()
    out = exports.export_comparison(a.session, a.storage, a.tech, a.series.id, _pair(a).key)
    a.session.commit()
    assert out.record.created_by_id == a.tech.id
    listed = exports.list_exports(a.session, a.admin)
    assert listed[0].id == out.record.id and {r.kind for r in listed} >= {"comparison", "report", "bundle"}
    with pytest.raises(Forbidden):
        exports.list_exports(a.session, a.tech)
    exports.set_technicians_may_export(a.session, a.admin, False)
    a.session.commit()


def test_crop_box_is_the_measured_region_of_the_redness_overlay(tmp_path):
    """The redness overlay is grey outside the measured (treated) region and coloured inside it."""
    storage = FileSystemStorage(tmp_path)
    overlay = np.full((200, 300, 3), 128, np.uint8)
    overlay[50:150, 100:250] = (200, 90, 60)
    buf = io.BytesIO()
    Image.fromarray(overlay).save(buf, "PNG")
    storage.put_bytes("analyses/x/redness.png", buf.getvalue())
    pair = exports.ProgressPair("front", "", None, None, Analysis(overlay_keys=json.dumps(
        {"redness": "analyses/x/redness.png"})))
    left, top, right, bottom = exports.treated_region_box(storage, pair, (300, 200), margin=0.1)
    assert (left, top, right, bottom) == (85, 40, 264, 159)


def test_report_chart_axis_labels_never_touch_and_never_read_minus_zero():
    """When the detectable-change bands set a chart's axis, its values sit close together: the report
    labels only those that stay legible (the red-area chart printed 0.0 over 0.1, the haemoglobin
    chart 0.77, 0.52 and 0.26 touching)."""
    from reportlab.graphics.shapes import String

    from tracker.services.exports.content import ChartPoint, ChartSeries
    from tracker.services.exports.pdf import chart_drawing

    def labels(values, bands, decimals):
        days = [dt.date(2026, 1, 1) + dt.timedelta(days=91 * i) for i in range(len(values))]
        points = [ChartPoint(day, "", v, "unchanged", "baseline" if i == 0 else "progress", band)
                  for i, (day, v, band) in enumerate(zip(days, values, bands, strict=True))]
        drawing = chart_drawing(ChartSeries("front", "m", "Measure", "%", decimals, 0.0, points))
        return [(s.y, s.text) for s in drawing.contents  # the axis labels: right-aligned left of the axis
                if isinstance(s, String) and s.textAnchor == "end" and s.x < 12 * 72 / 25.4]

    crowded = labels([0.77, 0.78, 0.30, 0.26], [None, (0.0, 5.0), (0.2, 0.4), (0.0, 5.0)], 2)
    red = labels([0.0, 0.02, 0.06, -0.001], [None, (0.0, 3.0), (0.0, 3.0), (0.0, 3.0)], 1)
    roomy = labels([20.0, 18.0, 15.0], [None, (19.0, 21.0), (19.0, 21.0)], 1)
    for shown in (crowded, red, roomy):
        ys = sorted(y for y, _ in shown)
        assert shown and all(b - a >= 8.0 for a, b in zip(ys, ys[1:])), shown
        assert not any(text.startswith("-0") and float(text) == 0 for _, text in shown), shown
    assert {t for _, t in crowded} >= {"0.26"} and len(roomy) == 3  # room: lowest, middle and highest


def test_report_chart_titles_fit_their_chart():
    """"Pigment-spot area (% of the treated skin)" ran into the next chart's title."""
    from reportlab.graphics.shapes import String
    from reportlab.pdfbase import pdfmetrics

    from tracker.services.exports.content import ChartPoint, ChartSeries
    from tracker.services.exports.pdf import chart_drawing

    point = ChartPoint(dt.date(2026, 1, 1), "", 1.0, "unchanged", "baseline")
    for label in ("Pigment-spot area", "Haemoglobin index"):
        drawing = chart_drawing(ChartSeries("front", "m", label, "% of the treated skin", 2, 0.0, [point]))
        title = next(s for s in drawing.contents if isinstance(s, String) and s.text.startswith(label))
        assert pdfmetrics.stringWidth(title.text, title.fontName, title.fontSize) <= drawing.width
        assert title.fontSize >= 5.5  # still legible


def test_an_analysis_without_its_stored_aligned_image_is_warped_again_from_the_original(analysed):
    # Older analyses may lack the stored "aligned" image: the export then warps the later photo's
    # original by the stored alignment (the front view's affine, the close-up's), and must give the
    # same picture. The stored one is colour-corrected and the original is not, so the geometry is
    # compared (grey-level correlation), not the colours.
    from tracker.services.exports.composition import aligned_image

    a = analysed
    pairs = [p for p in exports.progress_pairs(a.session, a.series) if p.later is not None]
    assert {p.view for p in pairs} >= {"front", "closeup"}
    for pair in pairs:
        stored = np.asarray(aligned_image(a.storage, pair), dtype=np.float32).mean(axis=2)
        keys = pair.analysis.overlay_keys
        pair.analysis.overlay_keys = json.dumps({k: v for k, v in json.loads(keys).items() if k != "aligned"})
        try:
            again = aligned_image(a.storage, pair)
        finally:
            pair.analysis.overlay_keys = keys
            a.session.rollback()
        assert again.size == (pair.baseline.width, pair.baseline.height)
        size = stored.shape[1], stored.shape[0]
        warped = np.asarray(again.resize(size, Image.Resampling.BOX), dtype=np.float32).mean(axis=2)
        with Image.open(io.BytesIO(a.storage.read(pair.later.original_key))) as im:
            unwarped = np.asarray(im.convert("RGB").resize(size, Image.Resampling.BOX), dtype=np.float32).mean(axis=2)
        inside = (stored > 3) & (warped > 3)  # both hold photo there, not the warp's black fill
        assert inside.mean() > 0.8, pair.view
        same, unaligned = (float(np.corrcoef(x[inside], stored[inside])[0, 1]) for x in (warped, unwarped))
        assert same > 0.85 and same > unaligned + 0.1, (pair.view, same, unaligned)
