"""The one colour-maths module: CIEDE2000 against the published test pairs, one XYZ matrix."""

from __future__ import annotations

import numpy as np
import pytest

from tracker.analysis.colour import (
    WHITE_D65_XYZ,
    XYZ_FROM_LINEAR,
    delta_e_2000,
    linear_to_lab,
    linear_to_lab_unclipped,
)

#: Sharma, Wu & Dalal (2005), "The CIEDE2000 color-difference formula: implementation notes,
#: supplementary test data, and mathematical observations", Color Res. Appl. 30(1), Table 1:
#: (L1, a1, b1, L2, a2, b2, CIEDE2000). The pairs probe the hue-angle and chroma edge cases.
SHARMA_PAIRS = np.array([
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
])


def test_ciede2000_matches_the_34_published_pairs_to_four_decimals():
    de = delta_e_2000(SHARMA_PAIRS[:, 0:3], SHARMA_PAIRS[:, 3:6])
    assert np.round(de, 4) == pytest.approx(SHARMA_PAIRS[:, 6], abs=1e-12)


def test_ciede2000_is_symmetric_on_the_published_pairs():
    forward = delta_e_2000(SHARMA_PAIRS[:, 0:3], SHARMA_PAIRS[:, 3:6])
    backward = delta_e_2000(SHARMA_PAIRS[:, 3:6], SHARMA_PAIRS[:, 0:3])
    assert backward == pytest.approx(forward, abs=1e-9)


def test_white_is_lab_100_0_0_and_its_xyz_is_d65():
    assert WHITE_D65_XYZ == pytest.approx([0.950456, 1.0, 1.088754], abs=1e-6)  # D65, Y = 1
    assert linear_to_lab_unclipped(np.ones(3)) == pytest.approx([100.0, 0.0, 0.0], abs=1e-9)


def test_the_unclipped_lab_agrees_with_the_display_path_inside_the_gamut():
    rng = np.random.default_rng(3)
    linear = rng.uniform(0.01, 0.99, size=(200, 3))
    assert linear_to_lab_unclipped(linear) == pytest.approx(linear_to_lab(linear[:, None, :])[:, 0, :], abs=0.02)


def test_the_unclipped_lab_keeps_going_beyond_white_where_the_display_path_stops():
    bright = np.array([1.3, 1.3, 1.3])
    assert linear_to_lab_unclipped(bright)[0] > 105.0
    assert float(linear_to_lab(bright[None, None, :])[0, 0, 0]) == pytest.approx(100.0, abs=0.01)


def test_one_xyz_matrix_maps_the_primaries_to_their_iec_chromaticities():
    # Each column is a primary; its chromaticity x, y per IEC 61966-2-1 (ITU-R BT.709).
    for column, (x, y) in zip(XYZ_FROM_LINEAR.T, ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06))):
        assert column[:2] / column.sum() == pytest.approx([x, y], abs=5e-4)
