"""The fast medians give np.median's result bit for bit: spot outlines and thresholds depend on them."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.analysis.order_stats import median


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_is_numpys_to_the_bit_for_small_and_large_arrays(dtype):
    rng = np.random.default_rng(5)
    cases = [rng.normal(size=n) for n in (1, 2, 3, 8, 9, 255, 256, 4001)]
    cases += [np.round(rng.normal(size=n), 1) for n in (6, 7, 300)]  # ties, and -0.0 beside +0.0
    cases += [np.zeros(4), -np.zeros(5), np.array([-0.0, 0.0]), rng.normal(size=200_001) * 1e6]
    for values in cases:
        values = values.astype(dtype)
        got, want = median(values), np.median(values)
        assert got.dtype == want.dtype and got.tobytes() == np.asarray(want).tobytes(), (values.size, got, want)
