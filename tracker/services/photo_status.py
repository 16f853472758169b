"""What state a photo is really in: queued, analysing, measured, retake needed, not comparable (why).

One answer for the series grid, the photo page, the live badges, the choice of the
progress pair and what patients may see. It reads the photo's current analysis
(against its view's current baseline) as typed results, never as nested dicts.

- **measured**: the quality check passed and the photo was measured; a later photo
  was aligned to its baseline (colour figures refused for the light still leave the
  others: ``note`` says so).
- **not comparable**: measured, but alignment to the baseline was refused.
- **retake needed**: the quality check refused the photo.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.analysis.measures import COLOUR_KEYS
from tracker.analysis.results import AnalysisResult
from tracker.models import Analysis, Baseline, Photo
from tracker.models.vocabulary import AnalysisState

from .analysis import analysis_against, quality_failed, quality_refusal, result_of

#: State -> what a person reads on the badge.
LABELS = {AnalysisState.QUEUED: "queued", "analysing": "analysing", "measured": "measured", "retake": "retake needed",
          "not_comparable": "not comparable", AnalysisState.FAILED: "failed", "none": "not analysed"}
#: The light rule's refusals all end by asking for a retake under the right light
#: (the exposure note "depends on exposure and light" is not one).
_LIGHT_REFUSAL = "retake under"
#: States that end with no more work to do.
FINISHED = frozenset({"measured", "retake", "not_comparable", "failed"})


@dataclass(frozen=True)
class PhotoStatus:
    """A photo's analysis state as the clinic reads it.

    ``reason`` (staff only) says why a retake is needed or why it is not comparable;
    ``note`` says what was left out of a measured photo (colour figures refused for the light).
    """

    state: str
    reason: str | None = None
    note: str | None = None
    analysis: Analysis | None = None
    result: AnalysisResult | None = None
    is_baseline: bool = False

    @property
    def label(self) -> str:
        text = LABELS.get(self.state, self.state)
        return f"{text} ({self.reason})" if self.state == "not_comparable" and self.reason else text

    @property
    def comparable(self) -> bool:
        """Passed quality and (a baseline, or aligned to its baseline): counts for progress."""
        return self.state == "measured"

    @property
    def attempts(self) -> int:
        """How many times a worker has claimed this photo's analysis (0 before the first)."""
        return self.analysis.attempts if self.analysis is not None else 0

    @property
    def busy(self) -> bool:
        return self.state in (AnalysisState.QUEUED, "analysing")

    def to_json(self) -> dict[str, object]:
        return {"state": self.state, "label": LABELS.get(self.state, self.state), "reason": self.reason,
                "note": self.note, "attempts": self.attempts}


_PARSED: OrderedDict[tuple[str, object, int], AnalysisResult | None] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_SIZE = 2048


def _parsed_result(row: Analysis) -> AnalysisResult | None:
    """The row's typed result; a finished result never changes, so it is parsed once per
    process (the live badges ask for every photo of a series every 2 s)."""
    # The text's hash too: a row written again (a re-run, a restored backup) is parsed again.
    key = (row.id, row.finished_at, hash(row.result_json))
    with _PARSED_LOCK:
        if key in _PARSED:
            _PARSED.move_to_end(key)
            return _PARSED[key]
    raw = result_of(row)
    result = AnalysisResult.from_dict(raw) if raw else None
    with _PARSED_LOCK:
        _PARSED[key] = result
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return result


def status_of_row(row: Analysis | None, *, is_baseline: bool) -> PhotoStatus:
    """Classify one analysis row (the photo's current one)."""
    if row is None:
        return PhotoStatus("none", is_baseline=is_baseline)
    if row.state in (AnalysisState.QUEUED, AnalysisState.RUNNING):
        return PhotoStatus(AnalysisState.QUEUED if row.state == AnalysisState.QUEUED else "analysing",
                           analysis=row, is_baseline=is_baseline)
    if row.state == AnalysisState.FAILED:
        return PhotoStatus(AnalysisState.FAILED, reason=row.error, analysis=row, is_baseline=is_baseline)
    result = _parsed_result(row)
    if row.state == AnalysisState.REFUSED or (result is not None and not result.quality.ok):
        return PhotoStatus("retake", reason=row.error or "the photo failed the quality check", analysis=row,
                           result=result, is_baseline=is_baseline)
    if result is None:
        return PhotoStatus(AnalysisState.FAILED, reason="no stored result", analysis=row, is_baseline=is_baseline)
    if row.baseline_photo_id is None:
        return PhotoStatus("measured", analysis=row, result=result, is_baseline=is_baseline)
    if result.alignment is not None and not result.alignment.ok or result.comparison is None:
        reason = result.alignment.reason if result.alignment is not None else None
        return PhotoStatus("not_comparable", reason=reason or "not aligned to the baseline", analysis=row,
                           result=result, is_baseline=is_baseline)
    refused = [c for c in result.comparison.changes if c.measure in COLOUR_KEYS and c.verdict == "not comparable"
               and c.note and _LIGHT_REFUSAL in c.note]
    note = f"colour figures not compared: {refused[0].note}" if refused else None
    return PhotoStatus("measured", note=note, analysis=row, result=result, is_baseline=is_baseline)


def photo_status(session: Session, photo: Photo) -> PhotoStatus:
    """The state of ``photo``'s current analysis (against its view's current baseline)."""
    from .baselines import current_baseline_photo_id, key_of

    baseline_id = current_baseline_photo_id(session, key_of(photo))
    is_baseline = baseline_id == photo.id
    row = analysis_against(session, photo, None if is_baseline else baseline_id)
    if row is None:
        row = quality_refusal(session, photo.id)  # unusable: not measured again against a new baseline
    return status_of_row(row, is_baseline=is_baseline)


def series_statuses(session: Session, series_id: str) -> dict[str, PhotoStatus]:
    """:func:`photo_status` of every photo of a series (the caller has checked access to it)."""
    photos = list(session.scalars(select(Photo).where(Photo.series_id == series_id).order_by(Photo.uploaded_at)))
    return statuses_of(session, photos)


def statuses_of(session: Session, photos: list[Photo]) -> dict[str, PhotoStatus]:
    """:func:`photo_status` of each photo, in two queries whatever their number (the live
    badges poll a series every 2 s; a patient's gallery checks every photo)."""
    if not photos:
        return {}
    series_ids = {p.series_id for p in photos}
    baselines = {(b.series_id, b.view, b.region): b.photo_id
                 for b in session.scalars(select(Baseline).where(Baseline.series_id.in_(series_ids)))}
    rows: dict[str, list[Analysis]] = {p.id: [] for p in photos}
    for analysis in session.scalars(select(Analysis).where(Analysis.photo_id.in_(list(rows)))
                                    .order_by(Analysis.created_at)):
        rows[analysis.photo_id].append(analysis)
    out = {}
    for photo in photos:
        baseline_id = baselines.get((photo.series_id, photo.view, photo.region or ""))
        is_baseline = baseline_id == photo.id
        against = None if is_baseline else baseline_id
        current = [r for r in rows[photo.id] if r.baseline_photo_id == against]
        row = current[-1] if current else None  # the newest against this baseline (analysis_against)
        if row is None:  # quality_refusal: the latest finished one, if it found the photo unusable
            finished = sorted((r for r in rows[photo.id] if r.state in (AnalysisState.DONE, AnalysisState.REFUSED)),
                              key=lambda r: (r.finished_at or r.created_at, r.created_at))
            row = finished[-1] if finished and quality_failed(finished[-1]) else None
        out[photo.id] = status_of_row(row, is_baseline=is_baseline)
    return out
