"""Numbers in measure tables read the way people expect."""

from __future__ import annotations

import pytest

from tracker.web.filters import measure


@pytest.mark.parametrize(
    "value, shown",
    [(12.345, "12.35"), (0.000372, "0.000372"), (-0.0136, "-0.0136"), (-0.0, "0.00"), (0.0, "0.00"), (None, "–")],
)
def test_small_measures_keep_their_digits_instead_of_reading_zero(value, shown):
    # Line density lives around 0.001: "0.00 -> 0.00, improved" told a patient nothing.
    assert measure(value) == shown
