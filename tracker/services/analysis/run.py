"""Running the analysis of one stored photo and storing what it measured.

The queue's ``analyze_photo`` job calls :func:`run_analysis`. It reads the original
bytes (never a derivative), the view's baseline, runs
:func:`tracker.analysis.analyze_photo`, and stores the JSON result and overlay
PNGs with the analysis version. A quality-failed photo ends "refused" with its
reasons (the technician is asked for a retake); an unreadable file ends "refused"
too; anything unexpected is raised for the caller to record as "failed".
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import Session

from tracker.analysis import ANALYSIS_VERSION
from tracker.models import Analysis, Photo
from tracker.storage import Storage

from . import states
from .leases import Claim, LeaseLost, LeasePolicy, claim_analysis, renew
from .overlays import overlay_key

log = logging.getLogger(__name__)


#: Prepared baselines kept per worker process: a visit brings several photos of a view.
_BASELINE_CACHE_SIZE = 4
_baseline_cache: OrderedDict[tuple[str, int, str | None, str], Any] = OrderedDict()
_baseline_lock = threading.Lock()


def _prepared_baseline(storage: Storage, baseline: Photo, roi_revision: int, region: Any = None) -> Any:
    """The baseline decoded and indexed once per worker, keyed by photo and region revision.

    ``region`` (a :class:`tracker.models.RegionRevision`) brings the technician's mask and chart corners.
    """
    from tracker.analysis import prepare_baseline

    from ..regions import corners_of, load_mask

    key = (baseline.sha256, roi_revision, region.id if region is not None else None, baseline.view)
    with _baseline_lock:
        if key in _baseline_cache:
            _baseline_cache.move_to_end(key)
            return _baseline_cache[key]
    prepared = prepare_baseline(storage.read(baseline.original_key),
                                roi=load_mask(storage, region) if region is not None else None,
                                chart_corners=corners_of(region), view=baseline.view)
    with _baseline_lock:
        _baseline_cache[key] = prepared
        while len(_baseline_cache) > _BASELINE_CACHE_SIZE:
            _baseline_cache.popitem(last=False)
    return prepared


def _hold(session: Session, claim: Claim | None, policy: LeasePolicy) -> None:
    """Lock the row for the result write if our lease still holds; else :class:`LeaseLost`."""
    if claim is not None and not renew(session, claim, policy, commit=False):
        raise LeaseLost(f"analysis {claim.analysis_id}: attempt {claim.attempt} lost its lease")


def run_analysis(session: Session, storage: Storage, analysis_id: str, *, claim: Claim | None = None,
                 policy: LeasePolicy | None = None) -> Analysis | None:
    """Analyse the photo of one ``analyses`` row and store the outcome on the row.

    Returns the row, or None when it no longer exists. Rows already finished are
    left alone; a row of another analysis version is refused as stale, so that
    figures of two versions are never mixed. The job runner passes its ``claim``
    (see :mod:`tracker.services.analysis.leases`); without one the row is claimed
    here. Only the claim's holder writes the outcome (else :class:`LeaseLost`).
    """
    from tracker.analysis import analyze_photo
    from tracker.analysis.decode import ImageDecodeError
    from tracker.analysis.outputs import overlay_images, region_mask_pngs

    from ..regions import load_mask, revision_for

    row = session.get(Analysis, analysis_id)
    if row is None or row.state in states.FINISHED:
        return row
    policy = policy or LeasePolicy()
    if row.analysis_version != ANALYSIS_VERSION:
        _hold(session, claim, policy)
        states.refuse(row, f"stale: made for analysis version {row.analysis_version}, this worker runs {ANALYSIS_VERSION}")
        session.commit()
        return row
    if claim is None:
        claim = claim_analysis(session, row.id, policy)
        if claim is None:  # another worker holds it, or it is out of attempts
            return row

    photo = session.get(Photo, row.photo_id)
    if photo is None:
        return None
    baseline = session.get(Photo, row.baseline_photo_id) if row.baseline_photo_id else None
    corners = json.loads(row.chart_corners) if row.chart_corners else None
    try:
        region = revision_for(session, (baseline or photo).id, row.roi_revision)
        prepared = _prepared_baseline(storage, baseline, row.roi_revision, region) if baseline is not None else None
        own_roi = load_mask(storage, region) if region is not None and baseline is None else None
        analysis = analyze_photo(storage.read(photo.original_key), baseline=prepared, chart_corners=corners,
                                 roi=own_roi, view=photo.view)
    except ImageDecodeError as e:
        _hold(session, claim, policy)
        states.refuse(row, f"The photo could not be read: {e}")
        session.commit()
        return row

    result = analysis.to_dict()
    keys, hashes = {}, {}
    # The anatomical regions measured belong to this analysis: stored with its overlays.
    for name, data in {**overlay_images(analysis), **region_mask_pngs(analysis)}.items():
        key = overlay_key(row.id, name, claim.attempt)
        storage.put_bytes(key, data)
        keys[name.rpartition(".")[0]] = key  # "redness.jpg" -> "redness"
        hashes[key] = hashlib.sha256(data).hexdigest()

    _hold(session, claim, policy)
    session.refresh(row)
    states.finish(row, result, keys, hashes)
    session.commit()
    log.info("analysis %s of photo %s: %s", row.id, photo.id, row.state)
    return row
