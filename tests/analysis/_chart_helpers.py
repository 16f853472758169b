"""Shared by the chart tests: which copies the chart search (cv2.mcc) is run on."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.analysis.chart import detection as detection_module


def record_chart_searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The long side, px, of every copy ``cv2.mcc`` searches from now on (the search still runs)."""
    searched: list[int] = []
    real_search = detection_module._mcc_at

    def recording_search(rgb: np.ndarray, side: int) -> list[np.ndarray]:
        searched.append(side)
        return real_search(rgb, side)

    monkeypatch.setattr(detection_module, "_mcc_at", recording_search)
    return searched
