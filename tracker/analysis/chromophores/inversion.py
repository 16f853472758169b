"""Per-pixel melanin and blood by inverting the skin model through the camera response.

For a pixel with linear values c_k, the model says c_k = s * F_k(m, b), with F_k the
skin reflectance (:mod:`skin_model`) rendered through the photo's camera x light
response (:mod:`response`), m the epidermal melanin and b the dermal blood
fraction, and s a brightness (shading, exposure). Two log-ratios
u = ln(c_R / c_G) and v = ln(c_B / c_G) cancel s and depend on (m, b) only. The
forward map (m, b) -> (u, v) is tabulated on a grid once per photo and inverted
into a regular (u, v) table; every pixel is then one bilinear lookup
(``cv2.remap``), about 20-30 ns per pixel instead of a per-pixel Gauss-Newton solve.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.ndimage import distance_transform_edt

from tracker.analysis.chromophores import skin_model
from tracker.analysis.chromophores.response import CameraResponse

#: Range of the forward grid, percent: melanosome fraction of the epidermis and blood
#: fraction of the dermis. Blood is log-spaced (relative precision matters at both ends).
#: Melanin is asinh-spaced and reaches below zero: skin bluer than the model's bloodless,
#: melanin-free dermis (the model's literature background absorbs a little more blue than
#: some skin, and than many cameras' rendering of it) reads as a small negative melanin
#: instead of being pinned at the gamut's edge, so that melanin differences (spots, a
#: change of tone) stay measurable there.
MELANIN_RANGE_PCT: tuple[float, float] = (-10.0, 60.0)
BLOOD_RANGE_PCT: tuple[float, float] = (0.02, 20.0)
_FORWARD_NODES = 72
#: Cells of the inverse (u, v) table per axis.
_INVERSE_CELLS = 256
#: Pixels farther than this from the skin gamut in (u, v) (natural-log ratio units) are
#: not skin the model describes: shine, hair, make-up, a clipped channel.
MAX_GAMUT_DISTANCE = 0.1


@dataclass(frozen=True)
class InverseTable:
    """(u, v) -> (melanin, ln blood, ln F_G, distance to the gamut) on a regular grid."""

    table: np.ndarray  # (cells, cells, 4) float32; rows v, columns u
    u_range: tuple[float, float]
    v_range: tuple[float, float]
    saturation: float


def _forward(response: CameraResponse, saturation: float, melanin: np.ndarray, blood: np.ndarray) -> np.ndarray:
    refl = skin_model.skin_reflectance(melanin, blood, saturation=saturation)
    return np.maximum(response.render(refl), 1e-9)


def _uv(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    log = np.log(rgb)
    return log[..., 0] - log[..., 1], log[..., 2] - log[..., 1]


def _bounds(a: np.ndarray, b: np.ndarray, c: float, lo: np.ndarray, hi: np.ndarray) -> None:
    """Narrow [lo, hi] (in place) to the x where a * x + b >= c; an unsatisfiable row gets lo > hi."""
    flat = a == 0
    bound = (c - b) / np.where(flat, 1.0, a)
    np.maximum(lo, np.where(a > 0, bound, -np.inf), out=lo)
    np.minimum(hi, np.where(a < 0, bound, np.inf), out=hi)
    lo[flat & (b < c)] = np.inf


def _rasterise(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, ...]:
    """The (triangle, cell) pairs whose cell centre lies inside the triangle, with barycentric weights.

    ``xs``, ``ys``: (T, 3) triangle corners in cell units. Returns (triangle, px, py, w1, w2)
    in the order triangle, row, column. Each triangle's rows of its bounding box are
    narrowed to the columns its three edges allow, and only the cells there take the exact
    inside test (about a quarter of the cells of the bounding boxes).
    """
    ax, ay = xs[:, 0], ys[:, 0]
    e1x, e1y, e2x, e2y = xs[:, 1] - ax, ys[:, 1] - ay, xs[:, 2] - ax, ys[:, 2] - ay
    det = e1x * e2y - e2x * e1y
    ok = np.abs(det) > 1e-12
    safe = np.where(ok, det, 1.0)
    x0, x1 = np.ceil(xs.min(axis=1)).astype(int), np.floor(xs.max(axis=1)).astype(int)
    y0, y1 = np.ceil(ys.min(axis=1)).astype(int), np.floor(ys.max(axis=1)).astype(int)
    n_rows = np.where(ok & (x1 >= x0), np.maximum(y1 - y0 + 1, 0), 0)
    row_tri = np.repeat(np.arange(len(xs)), n_rows)
    row_y = y0[row_tri] + np.arange(n_rows.sum()) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
    # Along a row the weights are affine in x: w1 = a1 x + b1, w2 = a2 x + b2.
    t, dy = row_tri, row_y - ay[row_tri]
    a1, b1 = e2y[t] / safe[t], (-ax[t] * e2y[t] - e2x[t] * dy) / safe[t]
    a2, b2 = -e1y[t] / safe[t], (e1x[t] * dy + ax[t] * e1y[t]) / safe[t]
    lo, hi = x0[t].astype(np.float64), x1[t].astype(np.float64)
    _bounds(a1, b1, -1e-6, lo, hi)
    _bounds(a2, b2, -1e-6, lo, hi)
    _bounds(-(a1 + a2), -(b1 + b2), -1.0 - 1e-6, lo, hi)
    # Slack against rounding: a cell for slivers (tiny det, ill-conditioned bounds), else 1e-6.
    slack = np.where(np.abs(det[t]) < 1e-3, 1.0, 1e-6)
    start = np.maximum(np.ceil(np.minimum(lo, 1e9) - slack), x0[t]).astype(int)
    end = np.minimum(np.floor(np.maximum(hi, -1e9) + slack), x1[t]).astype(int)
    n_cells = np.maximum(end - start + 1, 0)
    tri = np.repeat(t, n_cells)
    px = np.repeat(start, n_cells) + np.arange(n_cells.sum()) - np.repeat(np.cumsum(n_cells) - n_cells, n_cells)
    py = np.repeat(row_y, n_cells)
    # The exact test, on the candidates only.
    ax, ay = xs[tri, 0], ys[tri, 0]
    e1x, e1y, e2x, e2y = xs[tri, 1] - ax, ys[tri, 1] - ay, xs[tri, 2] - ax, ys[tri, 2] - ay
    safe = safe[tri]
    w1 = ((px - ax) * e2y - e2x * (py - ay)) / safe
    w2 = (e1x * (py - ay) - (px - ax) * e1y) / safe
    inside = (w1 >= -1e-9) & (w2 >= -1e-9) & (w1 + w2 <= 1 + 1e-9)
    return tri[inside], px[inside], py[inside], w1[inside], w2[inside]


def build_inverse_table(response: CameraResponse, *, saturation: float) -> InverseTable:
    """Tabulate the inverse of (m, b) -> (u, v) for one photo's response.

    Each cell of the (m, b) grid is split into two triangles, mapped to (u, v) and
    rasterised into the inverse table with barycentric interpolation of
    (m, ln b, ln F_G). Cells no triangle covers take the nearest covered cell's values and
    record their distance (in u, v units) to it, so that a pixel a little outside
    the skin gamut (noise) is still measured and one far outside (shine, hair,
    a non-skin colour) is not.

    Parameters
    ----------
    response : CameraResponse
        The photo's camera x light response.
    saturation : float
        Blood oxygen saturation assumed for this photo, in [0, 1].

    Returns
    -------
    InverseTable
    """
    n = _FORWARD_NODES
    m_low, m_high = (float(np.arcsinh(x)) for x in MELANIN_RANGE_PCT)
    m_nodes = np.sinh(np.linspace(m_low, m_high, n))
    b_nodes = np.geomspace(*BLOOD_RANGE_PCT, n)
    rgb = _forward(response, saturation, m_nodes[:, None], b_nodes[None, :])
    u, v = _uv(rgb)
    values = np.column_stack([np.repeat(m_nodes, n), np.tile(np.log(b_nodes), n), np.log(rgb[..., 1]).ravel()])
    u_range = (float(u.min()), float(u.max()))
    v_range = (float(v.min()), float(v.max()))

    # Rasterise the grid's triangles into the (u, v) cells: every (triangle, cell of its
    # bounding box) pair, kept where the cell centre lies inside the triangle.
    cu = (u - u_range[0]) * (_INVERSE_CELLS - 1) / (u_range[1] - u_range[0])
    cv = (v - v_range[0]) * (_INVERSE_CELLS - 1) / (v_range[1] - v_range[0])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel()
    corners = np.concatenate([np.column_stack([a, b, c]), np.column_stack([d, c, b])])
    xs, ys = cu.ravel()[corners], cv.ravel()[corners]
    # Past about 25 % melanin the surface reflection takes over and the map folds back
    # (darker skin turns greyer): keep the sheet that has the orientation of ordinary
    # skin, so that the lookup is one-to-one. Darker skin reads at the fold.
    orientation = (xs[:, 1] - xs[:, 0]) * (ys[:, 2] - ys[:, 0]) - (xs[:, 2] - xs[:, 0]) * (ys[:, 1] - ys[:, 0])
    keep = orientation * np.sign(np.median(orientation)) > 0
    corners, xs, ys = corners[keep], xs[keep], ys[keep]
    tri, px, py, w1, w2 = _rasterise(xs, ys)
    vals = values[corners[tri]]
    interpolated = (1 - w1 - w2)[:, None] * vals[:, 0] + w1[:, None] * vals[:, 1] + w2[:, None] * vals[:, 2]
    table = np.full((_INVERSE_CELLS * _INVERSE_CELLS, 4), np.nan)
    flat = py * _INVERSE_CELLS + px
    table[flat, :3] = interpolated
    table[flat, 3] = 0.0
    covered = np.isfinite(table[:, 3])
    grid = table.reshape(_INVERSE_CELLS, _INVERSE_CELLS, 4)
    if not covered.all():
        hole = ~covered.reshape(_INVERSE_CELLS, _INVERSE_CELLS)
        distance, (iy, ix) = distance_transform_edt(hole, return_indices=True)
        grid[hole, :3] = grid[iy[hole], ix[hole], :3]
        cell = max(u_range[1] - u_range[0], v_range[1] - v_range[0]) / (_INVERSE_CELLS - 1)
        grid[hole, 3] = distance[hole] * cell
    # The lookup replicates the border beyond the table: the border ring is out of gamut.
    grid[[0, -1], :, 3] = np.inf
    grid[:, [0, -1], 3] = np.inf
    return InverseTable(grid.astype(np.float32), u_range, v_range, float(saturation))


#: Rows per band of :func:`solve_pixels`: its temporaries stay small enough to be reused
#: from the heap instead of being mapped (and page-faulted) afresh for every photo.
_BAND_ROWS = 64


@dataclass(frozen=True)
class PixelSolution:
    """Per-pixel solution, maps of shape (H, W), float32.

    Attributes
    ----------
    melanin_pct, blood_pct : numpy.ndarray
        Epidermal melanin and dermal blood fractions, percent.
    brightness : numpy.ndarray or None
        Observed green over the model's green: shading x exposure relative to the chart
        (1 = lit like the chart); None unless asked for.
    in_gamut : numpy.ndarray
        bool: the pixel's colour lies within :data:`MAX_GAMUT_DISTANCE` of the skin model's gamut.
    log_blue_red : numpy.ndarray
        ln(B / R) of the linear values (each floored at 1e-5): how close to the light's own
        white a pixel is, for the shine test.
    """

    melanin_pct: np.ndarray
    blood_pct: np.ndarray
    brightness: np.ndarray | None
    in_gamut: np.ndarray
    log_blue_red: np.ndarray


def solve_pixels(linear: np.ndarray, inverse: InverseTable, *, with_brightness: bool = False) -> PixelSolution:
    """Look up melanin, blood and brightness for every pixel of a linear image.

    Parameters
    ----------
    linear : numpy.ndarray
        (H, W, 3) float, linear camera values (decoded, not colour-corrected).
    inverse : InverseTable
        From :func:`build_inverse_table`.
    with_brightness : bool
        Also compute the brightness map (None otherwise).

    Returns
    -------
    PixelSolution
        Maps of shape (H, W), float32.
    """
    linear = np.asarray(linear, dtype=np.float32)
    h, w = linear.shape[:2]
    su = (_INVERSE_CELLS - 1) / (inverse.u_range[1] - inverse.u_range[0])
    sv = (_INVERSE_CELLS - 1) / (inverse.v_range[1] - inverse.v_range[0])
    to_cells = np.array([[su, -su, 0.0, -inverse.u_range[0] * su], [0.0, -sv, sv, -inverse.v_range[0] * sv]])
    to_blue_red = np.array([[-1.0, 0.0, 1.0]])
    melanin, blood, blue_red = (np.empty((h, w), np.float32) for _ in range(3))
    in_gamut = np.empty((h, w), bool)
    brightness = np.empty((h, w), np.float32) if with_brightness else None
    # Band by band (each pixel is independent): OpenCV's vectorised log, one affine transform
    # to both table coordinates and the remap on the two-channel map, several times numpy's
    # speed, on temporaries that stay in the CPU cache.
    for top in range(0, h, _BAND_ROWS):
        band = slice(top, top + _BAND_ROWS)
        logs = cv2.log(np.maximum(np.ascontiguousarray(linear[band]), np.float32(1e-5)))
        cells = cv2.transform(logs, to_cells)
        # A two-channel float map needs no second map (the stubs ask for one all the same).
        looked = cv2.remap(  # type: ignore[call-overload]
            inverse.table, cells, None, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        melanin[band] = looked[..., 0]
        blood[band] = cv2.exp(np.ascontiguousarray(looked[..., 1]))
        np.less_equal(looked[..., 3], MAX_GAMUT_DISTANCE, out=in_gamut[band])
        blue_red[band] = cv2.transform(logs, to_blue_red)
        if brightness is not None:
            brightness[band] = np.exp(logs[..., 1] - looked[..., 2])
    return PixelSolution(melanin, blood, brightness, in_gamut, blue_red)
