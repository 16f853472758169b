"""The PDF progress report of a treatment series (reportlab), for the patient file and the patient.

Layout only: the numbers come from :mod:`tracker.services.exports.content` (the same analysis
results the app shows). Pages: summary and sessions; one section per view with the
aligned comparison, its chart of change against the baseline with the band of
no measurable change, and the table of measures; notes on comparability.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import Image as RLImage
from sqlalchemy.orm import Session

from tracker.models import TreatmentSeries, User
from tracker.models.base import new_id
from tracker.models.exports import EXPORT_REPORT
from tracker.models.vocabulary import (
    ANAESTHESIA,
    CONCERNS,
    FACE_REGIONS,
    ROMAN,
    TREATED_AREAS,
    TREATMENT_TYPES,
)
from tracker.storage import Storage, StorageError

from tracker.analysis.measures import MEASURE_BY_KEY

from ..access import get_series
from ..errors import DomainError
from ..series import settings_text
from .composition import comparison_picture, encode
from .content import (
    ChartSeries,
    ProgressPair,
    chart_points,
    progress_pairs,
    views_without_baseline,
)
from .naming import report_filename, stage_label
from .policy import require_export
from .records import ExportFile, originals_of, record_export, sha256

log = logging.getLogger(__name__)

INK = colors.HexColor("#1e293b")
MUTED = colors.HexColor("#64748b")
LINE = colors.HexColor("#e2e8f0")
ACCENT = colors.HexColor("#0f766e")
BAND = colors.HexColor("#e2e8f0")
VERDICT_COLOURS = {
    "improved": colors.HexColor("#15803d"),
    "worse": colors.HexColor("#b91c1c"),
    "no measurable change": colors.HexColor("#475569"),
    "not comparable": colors.HexColor("#a16207"),
    "baseline": INK,
}
VERDICT_WORDS = {
    "improved": "Improved",
    "worse": "Worse",
    "no measurable change": "No measurable change",
    "not comparable": "Not comparable",
}

_FONTS_READY = False


def _fonts() -> None:
    global _FONTS_READY
    if _FONTS_READY:
        return
    import reportlab

    folder = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont("Body", str(folder / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("Body-Bold", str(folder / "VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont("Body-Italic", str(folder / "VeraIt.ttf")))
    pdfmetrics.registerFontFamily("Body", normal="Body", bold="Body-Bold", italic="Body-Italic")
    _FONTS_READY = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="Body", fontSize=9.5, leading=13.5, textColor=INK, alignment=TA_LEFT)
    return {
        "base": base,
        "muted": ParagraphStyle("muted", parent=base, textColor=MUTED, fontSize=8.5, leading=12),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5),
        "kicker": ParagraphStyle("kicker", parent=base, textColor=ACCENT, fontName="Body-Bold", fontSize=9),
        "title": ParagraphStyle("title", parent=base, fontName="Body-Bold", fontSize=20, leading=25),
        "h2": ParagraphStyle("h2", parent=base, fontName="Body-Bold", fontSize=13, leading=17, spaceBefore=10,
                             spaceAfter=5),
        "h3": ParagraphStyle("h3", parent=base, fontName="Body-Bold", fontSize=10.5, leading=14, spaceBefore=6,
                             spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8.5, leading=11),
        "cellb": ParagraphStyle("cellb", parent=base, fontSize=8.5, leading=11, fontName="Body-Bold"),
        "head": ParagraphStyle("head", parent=base, fontSize=8, leading=10, fontName="Body-Bold", textColor=MUTED),
    }


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows: list[list[Any]], widths: list[float], *, header: bool = True, zebra: bool = True) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("FONT", (0, 0), (-1, -1), "Body", 8.5),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3.5),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
    ]
    if header:
        style += [("FONT", (0, 0), (-1, 0), "Body-Bold", 8), ("TEXTCOLOR", (0, 0), (-1, 0), MUTED),
                  ("LINEBELOW", (0, 0), (-1, 0), 0.8, MUTED)]
    if zebra:
        for i in range(1 if header else 0, len(rows), 2):
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f8fafc")))
    t.setStyle(TableStyle(style))
    return t


# Sections ------------------------------------------------------------------------------
def _summary_lines(pairs: list[ProgressPair]) -> list[str]:
    """One sentence per view, with the figures as every page shows them (registry precision)."""
    lines = []
    for pair in pairs:
        if pair.later is None:
            lines.append(f"<b>{_esc(pair.label)}</b>: no comparable later photo has been measured against the "
                         "baseline yet.")
            continue
        parts = []
        for c in pair.changes:
            if not c.measure.charted:
                continue
            name, unit = c.measure.label.lower(), f" {c.measure.unit}" if c.measure.unit else ""
            if c.verdict in ("improved", "worse"):
                parts.append(f"{name} {c.verdict} (from {c.shown('baseline')} to {c.shown('photo')}{unit})")
            elif c.verdict == "no measurable change":
                parts.append(f"{name}: no measurable change yet")
        text = "; ".join(parts) if parts else "no measure could be compared"
        lines.append(f"<b>{_esc(pair.label)}</b>, {_esc(stage_label(pair.later).lower())} "
                     f"({pair.later.visit.visit_date:%d %b %Y}) compared with the baseline "
                     f"({pair.baseline.visit.visit_date:%d %b %Y}): {_esc(text)}.")
        lines += [f"<b>{_esc(pair.label)}</b>: {_esc(line)}." for line in pair.skipped]
    return lines


def _header(series: TreatmentSeries, st: dict[str, ParagraphStyle], clinic_name: str, prepared_by: str) -> list[Any]:
    p = series.patient
    visits = sorted(series.visits, key=lambda v: v.visit_date)
    span = (f"{visits[0].visit_date:%d %b %Y} to {visits[-1].visit_date:%d %b %Y}" if visits else "no visits yet")
    concerns = ", ".join(CONCERNS.get(c, c) for c in (p.concerns or [])) or "not recorded"
    facts = [
        ["Patient", Paragraph(f"<b>{_esc(p.full_name)}</b>", st["cell"]), "Date of birth",
         f"{p.date_of_birth:%d %b %Y}"],
        ["Treatment", Paragraph(_esc(TREATMENT_TYPES.get(series.treatment_type, series.treatment_type)), st["cell"]),
         "Skin type", f"Fitzpatrick {ROMAN.get(p.fitzpatrick, p.fitzpatrick)}"],
        ["Treated areas", Paragraph(_esc(", ".join(TREATED_AREAS.get(a, a) for a in series.treated_areas)),
                                    st["cell"]),
         "Sessions", f"{len(series.treatment_visits)} of {series.planned_sessions} planned"],
        ["Concerns", Paragraph(_esc(concerns), st["cell"]), "Visits", span],
    ]
    t = Table(facts, colWidths=[26 * mm, 72 * mm, 26 * mm, 50 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), "Body", 9), ("FONT", (0, 0), (0, -1), "Body", 8),
        ("FONT", (2, 0), (2, -1), "Body", 8), ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
        ("TEXTCOLOR", (2, 0), (2, -1), MUTED), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BOX", (0, 0), (-1, -1), 0.6, LINE), ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f8fafc")),
    ]))
    return [
        Paragraph(_esc(clinic_name.upper()), st["kicker"]),
        Paragraph("Treatment progress report", st["title"]),
        Paragraph(f"Prepared by {_esc(prepared_by)} on {dt.date.today():%d %B %Y}", st["muted"]),
        Spacer(1, 6 * mm), t,
    ]


def _sessions(series: TreatmentSeries, st: dict[str, ParagraphStyle]) -> list[Any]:
    rows: list[list[Any]] = [["Date", "Visit", "Technician", "Device and settings", "Numbing", "Notes"]]
    for v in sorted(series.visits, key=lambda v: (v.visit_date, v.created_at)):
        bits = [b for b in (v.device, settings_text(v)) if b]
        rows.append([
            f"{v.visit_date:%d %b %Y}", v.label, Paragraph(_esc(v.technician.full_name if v.technician else "-"),
                                                           st["cell"]),
            Paragraph(_esc(", ".join(bits) or "-"), st["cell"]),
            Paragraph(_esc(ANAESTHESIA.get(v.anaesthesia, v.anaesthesia) if v.kind == "treatment" else "-"),
                      st["cell"]),
            Paragraph(_esc(v.notes or "-"), st["cell"]),
        ])
    return [Paragraph("Sessions", st["h2"]),
            _table(rows, [22 * mm, 20 * mm, 25 * mm, 50 * mm, 23 * mm, 34 * mm])]


def _measures_table(pair: ProgressPair, st: dict[str, ParagraphStyle]) -> Table:
    rows: list[list[Any]] = [["Measure", "Baseline", "Latest", "Change", "Detectable", "Verdict"]]
    for c in pair.changes:
        colour = VERDICT_COLOURS.get(c.verdict, INK).hexval().replace("0x", "#")
        rows.append([
            Paragraph(_esc(c.measure.label_with_unit), st["cell"]), c.shown("baseline"), c.shown("photo"),
            c.shown("change"), f"± {c.shown('mdc')}",
            Paragraph(f'<font color="{colour}"><b>{_esc(VERDICT_WORDS.get(c.verdict, c.verdict))}</b></font>',
                      st["cell"]),
        ])
    t = _table(rows, [50 * mm, 20 * mm, 20 * mm, 20 * mm, 22 * mm, 42 * mm])
    t.setStyle(TableStyle([("ALIGN", (1, 0), (4, -1), "RIGHT")]))
    return t


#: Measures shown per area of the face (the charted ones; the full list is in the table above).
REGION_MEASURES = ("haemoglobin_index", "red_area_pct", "spot_area_pct", "spot_count", "line_density")


def _regions_table(pair: ProgressPair, st: dict[str, ParagraphStyle]) -> Table | None:
    """A face photo, area by area: each measure's change and verdict against that area's own detectable change."""
    result = pair.result
    compared = result.comparison.regions if result is not None and result.comparison is not None else {}
    if result is None or not compared:
        return None
    # Paragraphs, so that a long label ("Haemoglobin index") wraps instead of running into the next column.
    labels = ("Area", *[MEASURE_BY_KEY[k].label for k in REGION_MEASURES])
    header = [Paragraph(_esc(label), st["head"]) for label in labels]
    rows: list[list[Any]] = [list(header)]
    for key, label in FACE_REGIONS.items():
        region = result.regions.get(key)
        if region is None or not region.area_px:
            why = (region.reason if region is not None else None) or "not measured"
            rows.append([Paragraph(_esc(label), st["cell"]), Paragraph(_esc(why), st["cell"]), "", "", "", ""])
            continue
        cells: list[Any] = [Paragraph(_esc(label), st["cell"])]
        area = compared.get(key)
        for measure in REGION_MEASURES:
            c = area.change(measure) if area is not None else None
            verdict = c.verdict if c is not None else "not comparable"
            colour = VERDICT_COLOURS.get(verdict, INK).hexval().replace("0x", "#")
            change = MEASURE_BY_KEY[measure].format_delta(c.delta if c is not None else None)
            cells.append(Paragraph(f'{change}<br/><font color="{colour}">{_esc(VERDICT_WORDS.get(verdict, verdict))}'
                                   "</font>", st["cell"]))
        rows.append(cells)
    return _table(rows, [34 * mm] + [27 * mm] * len(REGION_MEASURES))


def _ticks(lo: float, hi: float, decimals: int) -> list[float]:
    """Two to four distinct axis values at the measure's precision (never one label twice)."""
    step = 10.0 ** -decimals
    values = sorted({round(v, decimals) + 0.0 for v in (lo, (lo + hi) / 2, hi)})  # + 0.0: no "-0.0"
    return [v for i, v in enumerate(values) if i == 0 or v - values[i - 1] >= step / 2]


#: Least vertical distance between two axis labels of a chart, points (their font is 6 pt: 2 pt between them).
_TICK_GAP_PT = 8.0


def _spaced(ticks: list[float], y: Callable[[float], float]) -> list[float]:
    """The lowest and highest ticks, then the middle one, each only where it does not touch a
    label already placed: when the MDC bands set the axis, the values can sit close together."""
    placed: list[float] = []
    for v in ([ticks[0], ticks[-1], *ticks[1:-1]] if ticks else []):
        if all(abs(y(v) - y(u)) >= _TICK_GAP_PT for u in placed):
            placed.append(v)
    return sorted(placed)


def chart_drawing(chart: ChartSeries, *, width: float = 57 * mm, height: float = 40 * mm) -> Drawing:
    """One measure across the visits: each later photo at its own measured value with its pair's
    band (baseline ± the MDC its verdict used), progress photos joined by a line and coloured by
    verdict, healing-window photos hollow and apart. Values in the registry's display unit."""
    d = Drawing(width, height)
    left, right, bottom, top = 11 * mm, 2 * mm, 8 * mm, 8 * mm
    pw, ph = width - left - right, height - bottom - top
    unit = f" ({chart.unit})" if chart.unit and chart.unit not in chart.label else ""
    title = f"{chart.label}{unit}"
    # A long title is set smaller rather than run into the next chart's.
    size = min(7.0, 7.0 * (width - 3) / max(pdfmetrics.stringWidth(title, "Body-Bold", 7), 1.0))
    d.add(String(0, height - 9, title, fontName="Body-Bold", fontSize=size, fillColor=INK))
    values = [p.value for p in chart.points if p.value is not None]
    if not values:
        d.add(String(left, bottom + ph / 2, "not measured", fontName="Body", fontSize=7, fillColor=MUTED))
        return d
    spread = values + [v for p in chart.points if p.band for v in p.band]
    step = 10.0 ** -chart.decimals
    lo, hi = min(spread), max(spread)
    if hi - lo < 4 * step:
        mid = (hi + lo) / 2
        lo, hi = mid - 2 * step, mid + 2 * step
    pad = (hi - lo) * 0.15
    lo, hi = lo - pad, hi + pad
    if chart.minimum is not None:
        lo = max(lo, chart.minimum)  # a count or an area is never negative

    def y(v: float) -> float:
        return bottom + (v - lo) / (hi - lo) * ph

    dates = [p.date for p in chart.points]
    d0, days = min(dates), max((max(dates) - min(dates)).days, 1)

    def x(day: dt.date) -> float:
        return left + 2 + (day - d0).days / days * (pw - 4)

    for p in chart.points:
        if p.band is not None:
            b_lo, b_hi = max(lo, p.band[0]), min(hi, p.band[1])
            d.add(Rect(x(p.date) - 2.6, y(b_lo), 5.2, max(y(b_hi) - y(b_lo), 0.4), fillColor=BAND, strokeColor=None))
    d.add(Line(left, bottom, left, bottom + ph, strokeColor=MUTED, strokeWidth=0.5))
    for v in _spaced(_ticks(min(values), max(values), chart.decimals), y):
        d.add(String(left - 2, y(v) - 2.5, f"{v:.{chart.decimals}f}", fontName="Body", fontSize=6,
                     fillColor=MUTED, textAnchor="end"))
    line = [p for p in chart.points if p.value is not None and p.kind in ("baseline", "progress")]
    if len(line) > 1:
        d.add(PolyLine([c for p in line for c in (x(p.date), y(p.value or 0.0))], strokeColor=ACCENT, strokeWidth=1.2))
    for p in chart.points:
        if p.value is None:
            continue
        if p.kind == "healing":
            d.add(Circle(x(p.date), y(p.value), 2.0, fillColor=colors.white, strokeColor=MUTED, strokeWidth=0.7))
        else:
            d.add(Circle(x(p.date), y(p.value), 2.3, fillColor=VERDICT_COLOURS.get(p.verdict, MUTED),
                         strokeColor=colors.white, strokeWidth=0.6))
    shown = sorted({p.date for p in line} or {p.date for p in chart.points})
    gap = 15 * mm
    labelled = [shown[0]]
    for day in shown[1:-1]:
        if x(day) - x(labelled[-1]) >= gap and x(shown[-1]) - x(day) >= gap:
            labelled.append(day)
    if len(shown) > 1 and x(shown[-1]) - x(labelled[0]) >= gap:
        labelled.append(shown[-1])
    for i, day in enumerate(labelled):
        anchor = "start" if i == 0 else ("end" if i == len(labelled) - 1 and day == shown[-1] else "middle")
        d.add(String(x(day), 1.5, f"{day:%d %b %y}", fontName="Body", fontSize=5.5, fillColor=MUTED,
                     textAnchor=anchor))
    return d


def _charts(view: str, charts: list[ChartSeries], st: dict[str, ParagraphStyle]) -> list[Any]:
    mine = [c for c in charts if c.view == view]
    if not mine:
        return []
    cells = [chart_drawing(c) for c in mine]
    rows = [cells[i:i + 3] + [""] * (3 - len(cells[i:i + 3])) for i in range(0, len(cells), 3)]
    grid = Table(rows, colWidths=[59 * mm] * 3, hAlign="LEFT")
    grid.setStyle(TableStyle([("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]))
    legend = Paragraph("Each measure at each visit, each photo at its own measured value. The grey bar at a "
                       "photo is its baseline figure ± the smallest change the measurement can detect: a point "
                       "inside its bar is <b>no measurable change</b>. "
                       'Points: <font color="#15803d">improved</font>, <font color="#b91c1c">worse</font>, '
                       '<font color="#475569">no measurable change</font>, '
                       '<font color="#a16207">not comparable</font>; hollow points were taken inside the healing '
                       "window after a session and do not count as progress.", st["muted"])
    return [Paragraph("Across the visits", st["h3"]), grid, legend]


def _flags(flags: tuple[dict[str, Any], ...], st: dict[str, ParagraphStyle]) -> list[Any]:
    """The clinic's warning signs (e.g. possible hyperpigmentation after a session), if any."""
    if not flags:
        return []
    rows = [Paragraph(f'<font color="#b91c1c"><b>{_esc(f["title"])}</b></font> '
                      f'({dt.date.fromisoformat(f["date"]):%d %b %Y}){" - skin type IV-VI: watch closely" if f.get("prominent") else ""}: '
                      f'{_esc(f["detail"])}', st["base"]) for f in flags]
    return [Paragraph("To discuss with your clinician", st["h3"]), *rows]


def _view_section(pair: ProgressPair, image: bytes | None, charts: list[ChartSeries],
                  st: dict[str, ParagraphStyle]) -> list[Any]:

    out: list[Any] = [PageBreak(), Paragraph(f"{_esc(pair.label)} view", st["h2"])]
    out += [Paragraph(_esc(line[:1].upper() + line[1:]) + ".", st["muted"]) for line in pair.skipped]
    if pair.later is None:
        out.append(Paragraph("No comparable later photo of this view has been measured against the baseline yet.",
                             st["base"]))
        return out
    out.append(Paragraph(
        f"Baseline ({_esc(pair.baseline.visit.label.lower())}, {pair.baseline.visit.visit_date:%d %b %Y}) and "
        f"{_esc(stage_label(pair.later).lower())} ({_esc(pair.later.visit.label.lower())}, "
        f"{pair.later.visit.visit_date:%d %b %Y}). The later photo is aligned to the baseline so that the same "
        "skin is compared.", st["muted"]))
    if image is not None:
        from PIL import Image as PILImage

        with PILImage.open(io.BytesIO(image)) as im:
            w, h = im.size
        width = 160 * mm
        out += [Spacer(1, 3 * mm), RLImage(io.BytesIO(image), width=width, height=width * h / w), Spacer(1, 2 * mm)]
    else:
        out.append(Paragraph("The comparison image could not be made from the stored photos; the figures below "
                             "are from the measurement.", st["muted"]))
    out += _charts(pair.label, charts, st)
    out += [CondPageBreak(70 * mm), Paragraph("Measures", st["h3"]), _measures_table(pair, st)]
    regions = _regions_table(pair, st)
    if regions is not None:
        out += [CondPageBreak(60 * mm), Paragraph("By area of the face", st["h3"]), regions]
    out += _flags(next((c.flags for c in charts if c.view == pair.label), ()), st)
    notes = list(pair.notes) + [f"{c.measure.label}: {'; '.join(c.reasons)}" for c in pair.changes if c.reasons]
    if notes:
        out.append(Spacer(1, 2 * mm))
        out.append(Paragraph("Comparability: " + "; ".join(_esc(n) for n in dict.fromkeys(notes)) + ".",
                             st["muted"]))
    return out


def _about(st: dict[str, ParagraphStyle]) -> list[Any]:
    text = [
        "Photos are compared with the baseline photo of the same view, taken before the first session. Only "
        "photos taken before a session (after the skin has had time to heal) or at a follow-up count as "
        "progress; photos taken in the days after a session show healing redness, not the result.",
        "Each later photo is aligned to the baseline before measuring, and both photos are measured over the same "
        "skin. A change smaller than the detectable change (the grey band in the charts) is reported as "
        "<b>no measurable change</b>: it is within the noise of taking two photos.",
        "When two photos were taken under different light, without a colour reference card, or could not be "
        "aligned, the colour measures are marked <b>not comparable</b> instead of printing a verdict. Redness "
        "within about three months of a session may still include healing pinkness.",
    ]
    return [KeepTogether([Paragraph("How to read this report", st["h2"])] +
                         [Paragraph(t, st["base"]) for t in text])]


def render_report(series: TreatmentSeries, pairs: list[ProgressPair], images: dict[str, bytes],
                  charts: list[ChartSeries], *, clinic_name: str, export_id: str, prepared_by: str,
                  unmeasured_views: list[str] | None = None) -> bytes:
    """The report as PDF bytes."""
    _fonts()
    st = _styles()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=17 * mm, rightMargin=17 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"Treatment progress report: {series.patient.full_name}",
                            author=clinic_name, subject=series.title, creator="tracker")

    def footer(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont("Body", 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(17 * mm, 10 * mm, f"{clinic_name} · {series.patient.full_name} · confidential health "
                                             "information")
        canvas.drawRightString(A4[0] - 17 * mm, 10 * mm, f"Export {export_id} · page {document.page}")
        canvas.restoreState()

    story: list[Any] = _header(series, st, clinic_name, prepared_by)
    story += [Paragraph("Summary", st["h2"])]
    story += [Paragraph(line, st["base"]) for line in _summary_lines(pairs)] or [
        Paragraph("No photos have been measured yet.", st["base"])]
    for label in unmeasured_views or []:
        story.append(Paragraph(f"<b>{_esc(label)}</b>: no photo of this view could be used as the baseline "
                               "(each was refused by the quality check), so it is not compared.", st["base"]))
    story += _sessions(series, st)
    story += [Spacer(1, 4 * mm)] + _about(st)
    for pair in pairs:
        story += _view_section(pair, images.get(pair.key), charts, st)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def comparison_images(storage: Storage, pairs: list[ProgressPair], clinic_name: str, fmt: str = "JPEG",
                      ) -> dict[str, bytes]:
    """Each pair's comparison picture; a pair whose stored images cannot be read is left out
    (its section says so) rather than failing the whole export."""
    out = {}
    for p in pairs:
        if p.later is None:
            continue
        try:
            out[p.key] = encode(comparison_picture(storage, p, clinic_name=clinic_name), fmt)
        except (DomainError, StorageError, OSError, ValueError) as e:
            log.warning("export: no comparison image for %s: %s", p.key, e)
    return out


def export_report(session: Session, storage: Storage, actor: User, series_id: str,
                  chosen: Mapping[str, str] | None = None) -> ExportFile:
    """The PDF report; ``chosen`` (view key -> later photo id) picks pairs other than the latest comparable."""
    require_export(session, actor)
    series = get_series(session, actor, series_id)
    pairs = progress_pairs(session, series, chosen)
    images = comparison_images(storage, pairs, actor.clinic.name)
    export_id = new_id()
    data = render_report(series, pairs, images, chart_points(session, actor, series, pairs), clinic_name=actor.clinic.name,
                         export_id=export_id, prepared_by=actor.full_name,
                         unmeasured_views=views_without_baseline(session, series))
    name = report_filename(series, dt.date.today())
    originals: dict[str, str] = {}
    for p in pairs:
        if p.later is not None:
            originals.update(originals_of(p))
    row = record_export(session, actor, series, kind=EXPORT_REPORT, filename=name, data=data, export_id=export_id,
                        files={name: sha256(data)}, originals=originals)
    return ExportFile(name, "application/pdf", data, row)
