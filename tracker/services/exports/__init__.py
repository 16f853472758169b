"""Exports: comparison images, the PDF report, the verifiable ZIP bundle, marketing images.

Photos leave the system only through here. Every export is checked (clinic admin, or a
technician where the clinic allows it; marketing only with the patient's marketing
consent), recorded with the SHA-256 of what was handed out, and audited. Exported
images are made fresh from pixels: they carry no EXIF, GPS or device metadata. Original
photos leave only as copies without their metadata (``original_copy``).

``verify_bundle`` checks a ZIP bundle against the stored originals and against the
server's own record of that export: a file whose bytes differ from what the server
produced is reported even when the bundle's manifest was edited to match it.

Modules: ``policy`` (who may export), ``content`` (the pairs compared, measures as rows, chart
numbers), ``naming`` (labels and file names), ``composition`` (comparison and marketing
images), ``records`` (what was handed out, recorded and audited), ``bundle`` (the ZIP bundle
and its verification), ``original_copy`` (an original photo without its metadata), ``pdf`` (the
PDF progress report).
"""

from .bundle import (
    MANIFEST,
    MANIFEST_FORMAT,
    VerifyReport,
    export_bundle,
    verify_bundle,
)
from .composition import (
    Panel,
    aligned_image,
    baseline_image,
    comparison_picture,
    compose,
    encode,
    export_comparison,
    export_marketing,
    treated_region_box,
)
from .content import (
    CSV_COLUMNS,
    MEASURE_LABELS,
    MEASURES,
    ChartPoint,
    ChartSeries,
    ProgressPair,
    chart_points,
    find_pair,
    fmt_measure,
    measure_rows,
    measures_csv,
    progress_pairs,
    views_without_baseline,
)
from .naming import (
    aligned_filename,
    bundle_filename,
    comparison_filename,
    marketing_filename,
    photo_caption,
    report_filename,
    sessions_before,
    stage_label,
    view_slug,
)
from .original_copy import OriginalCopy, export_copy
from .pdf import (
    ACCENT,
    BAND,
    INK,
    LINE,
    MUTED,
    VERDICT_COLOURS,
    VERDICT_WORDS,
    chart_drawing,
    export_report,
    render_report,
)
from .policy import (
    can_export,
    require_export,
    set_technicians_may_export,
    settings_for,
)
from .records import (
    ExportFile,
    exports_for_series,
    list_exports,
    originals_of,
    record_export,
    sha256,
)

__all__ = [
    "ACCENT",
    "BAND",
    "CSV_COLUMNS",
    "ChartPoint",
    "ChartSeries",
    "ExportFile",
    "INK",
    "LINE",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "MEASURES",
    "MEASURE_LABELS",
    "MUTED",
    "OriginalCopy",
    "Panel",
    "ProgressPair",
    "VERDICT_COLOURS",
    "VERDICT_WORDS",
    "VerifyReport",
    "aligned_filename",
    "aligned_image",
    "baseline_image",
    "bundle_filename",
    "can_export",
    "chart_drawing",
    "chart_points",
    "comparison_filename",
    "comparison_picture",
    "compose",
    "encode",
    "export_bundle",
    "export_comparison",
    "export_copy",
    "export_marketing",
    "export_report",
    "exports_for_series",
    "find_pair",
    "fmt_measure",
    "list_exports",
    "marketing_filename",
    "measure_rows",
    "measures_csv",
    "originals_of",
    "photo_caption",
    "progress_pairs",
    "record_export",
    "render_report",
    "report_filename",
    "require_export",
    "sessions_before",
    "set_technicians_may_export",
    "settings_for",
    "sha256",
    "stage_label",
    "treated_region_box",
    "verify_bundle",
    "view_slug",
    "views_without_baseline",
]
