"""The chromophore maps of a pipeline frame: from its chart, into the baseline's frame.

Glue between the pipeline and the inversion: the camera's own linear values (not
the chart-corrected ones) divided by the chart fit's illumination plane, the
chart's raw patch values on the same scale, the maps computed over the skin's
bounding box only, and warped into the baseline's frame for a comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

from tracker.analysis import alignment as _alignment
from tracker.analysis.calibration import Calibration
from tracker.analysis.chart import normalised_coordinates
from tracker.analysis.chromophores.maps import ChromophoreMaps, chromophore_maps
from tracker.analysis.chromophores.response import fit_response, light_check
from tracker.analysis.colour import srgb_to_linear

#: A chart whose patches the spectral fit reproduces worse than this (RMS relative
#: residual) does not match its published spectra closely enough to carry skin colour
#: across lights. Spectral harness: the published chart 0.3-0.7 %; a chart measured by
#: another lab (Ohta, 0.8 CIEDE2000 away) 2.4-4.1 %, where light alone then moved melanin
#: by up to 4 %; the in-house simulator's smoothest-metamer chart 2.2-2.6 %.
MAX_CHART_RESIDUAL = 0.012
#: The maps are computed on a box-averaged copy of at most this many pixels and resampled
#: to the working scale: 1 MP still resolves 1 mm on a close-up, the averaging lowers the
#: 8-bit and JPEG chroma noise, and it keeps the maps' cost near a JPEG decode.
MAX_MAP_PIXELS = 1_000_000
#: Rows per band of :func:`_camera_linear`.
_BAND_ROWS = 64


def _maps(
    linear: np.ndarray, region: np.ndarray | None, shape: tuple[int, int], box: tuple[slice, slice], **chart: np.ndarray
) -> ChromophoreMaps:
    """The maps of the ``box`` of a frame of ``shape`` (``linear`` and ``region`` are the box's)."""
    h, w = linear.shape[:2]
    factor = int(np.ceil(np.sqrt(h * w / MAX_MAP_PIXELS)))
    if factor <= 1:
        maps = chromophore_maps(linear, region=region, **chart)
        return _embed(maps, shape, box)
    size = (max(1, w // factor), max(1, h // factor))
    small = cv2.resize(linear.astype(np.float32, copy=False), size, interpolation=cv2.INTER_AREA)
    small_region = None
    if region is not None:
        small_region = cv2.resize(region.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        small_region = small_region if small_region.any() else None
    maps = chromophore_maps(small, region=small_region, **chart)

    def grow(values: np.ndarray) -> np.ndarray:
        return cv2.resize(values, (w, h), interpolation=cv2.INTER_LINEAR)  # NaN spreads: stays unmeasured

    def grow_mask(mask: np.ndarray) -> np.ndarray:
        # Nearest neighbours of 0/1 bytes are 0/1 bytes: read back as bool without a copy.
        return cv2.resize(mask.view(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST).view(bool)

    melanin, blood = grow(maps.melanin_pct), grow(maps.blood_pct)
    # Full-size masks are few and reused: each fresh one is page-faulted in (~2 ms at 3 MP).
    valid = grow_mask(maps.valid)
    scratch = np.isfinite(melanin)
    valid &= scratch
    valid &= np.isfinite(blood, out=scratch)
    invalid = np.logical_not(valid, out=scratch)
    np.copyto(melanin, np.float32(np.nan), where=invalid)
    np.copyto(blood, np.float32(np.nan), where=invalid)
    grown = replace(maps, melanin_pct=melanin, blood_pct=blood, valid=valid, specular=grow_mask(maps.specular))
    return _embed(grown, shape, box)


def _embed(maps: ChromophoreMaps, shape: tuple[int, int], box: tuple[slice, slice]) -> ChromophoreMaps:
    """The box's maps placed in the whole frame (unmeasured outside the box)."""
    if maps.valid.shape == tuple(shape):
        return maps

    def full(arr: np.ndarray, fill: float | bool) -> np.ndarray:
        out = np.full(shape, fill, dtype=arr.dtype)
        out[box] = arr
        return out

    return replace(
        maps,
        melanin_pct=full(maps.melanin_pct, np.nan),
        blood_pct=full(maps.blood_pct, np.nan),
        valid=full(maps.valid, False),
        specular=full(maps.specular, False),
    )


def _camera_linear(srgb: np.ndarray, row_term: np.ndarray, column_term: np.ndarray) -> np.ndarray:
    """Linear camera values of ``srgb`` (float, or integer codes) divided by the illumination plane ``row_term + column_term``.

    ``row_term`` (W,) is the plane along a row, ``column_term`` (H,) its offset per row. Done
    in bands of rows that stay in the CPU cache: on a 3 MP image about half the time of
    whole-image passes.
    """
    out = np.empty(srgb.shape, dtype=np.float32)
    for top in range(0, srgb.shape[0], _BAND_ROWS):
        band = slice(top, top + _BAND_ROWS)
        plane = (row_term[None, :] + column_term[band, None]).astype(np.float32)
        np.divide(srgb_to_linear(srgb[band]), np.maximum(plane, 0.05)[..., None], out=out[band])
    return out


def frame_maps(
    srgb: np.ndarray,
    calibration: Calibration,
    skin: np.ndarray,
    *,
    force_corrected: bool = False,
    codes: np.ndarray | None = None,
) -> ChromophoreMaps:
    """Chromophore maps of a decoded photo, over its skin's bounding box (NaN elsewhere).

    Parameters
    ----------
    srgb : numpy.ndarray
        (H, W, 3) float, the photo as decoded (display-encoded, not corrected).
    calibration : Calibration
        The photo's calibration. With a chart that matches its published spectra
        (fit residual <= :data:`MAX_CHART_RESIDUAL`), the inversion is calibrated from
        the chart's raw patch values ("spectral"); with another chart it reads the
        chart-corrected image through the colorimetric D65 response ("corrected");
        without a chart, the exposure-corrected image (``calibrated=False``).
    skin : numpy.ndarray
        (H, W) bool, the skin to map.
    force_corrected : bool
        Use the "corrected" mode even for a chart that would allow "spectral" (so that
        both photos of a pair are measured the same way).
    codes : numpy.ndarray, optional
        (H, W, 3) uint8 or uint16, the same pixels as ``srgb`` as integer code values
        (``DecodedImage.codes``), as the chart's calibration reads them: decoded to linear
        through a lookup table, several times faster than the float decoding curve.

    Returns
    -------
    ChromophoreMaps
        Of shape (H, W).
    """
    shape = skin.shape
    rows, cols = np.flatnonzero(skin.any(axis=1)), np.flatnonzero(skin.any(axis=0))
    if rows.size == 0:
        rows, cols = np.arange(shape[0]), np.arange(shape[1])
    box = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
    region = skin[box] if skin[box].any() else None
    chart = calibration.chart
    if chart is None:
        return _maps(calibration.linear[box], region, shape, box)
    a, b = calibration.illumination
    u, v = normalised_coordinates(shape)
    centres = np.asarray(chart.patch_centres, dtype=np.float64)
    cu = np.interp(centres[:, 0], np.arange(shape[1]), u)
    cv = np.interp(centres[:, 1], np.arange(shape[0]), v)
    patches = chart.patch_linear / np.maximum(1.0 + a * cu + b * cv, 0.05)[:, None]
    usable = ~np.asarray(chart.patch_clipped)
    try:
        residual = fit_response(patches, usable=usable).residual_rms
    except ValueError:  # too few usable patches for the spectral fit
        residual = float("inf")
    if residual > MAX_CHART_RESIDUAL or force_corrected:
        maps = _maps(calibration.linear[box], region, shape, box)
        light = light_check(patches, usable=usable)
        return replace(maps, calibrated=True, mode="corrected", light=light, chart_residual=residual)
    encoded = srgb[box] if codes is None else codes[box]
    linear = _camera_linear(encoded, 1.0 + a * u[box[1]], b * v[box[0]])
    return _maps(linear, region, shape, box, patch_linear=patches, patch_usable=usable)


def warp_maps(
    maps: ChromophoreMaps, matrix: np.ndarray, reference_shape: tuple[int, int], *, inside: np.ndarray
) -> ChromophoreMaps:
    """The maps resampled into the reference (baseline) frame; pixels near invalid ones become invalid.

    ``inside``: where a bilinear warp by ``matrix`` of an image of the maps' shape stays inside
    it (the mask :func:`tracker.analysis.alignment.warp_to_reference` gives with the photo's warp).
    """
    return resample_maps(maps, lambda image: _alignment.warp_image(image, matrix, reference_shape), inside=inside)


def resample_maps(
    maps: ChromophoreMaps, resample: Callable[[np.ndarray], np.ndarray], *, inside: np.ndarray | None = None
) -> ChromophoreMaps:
    """The maps through ``resample`` (bilinear for float images, nearest for bool ones: a warp or a
    dense remap into another frame); pixels near invalid ones, or outside ``inside``, become invalid.
    """
    # NaN is not measured: carried as 0 with a validity plane, which a pixel resampled from
    # anywhere near an unmeasured one no longer reads as 1. (The maps hold no infinities.)
    stack = cv2.merge([maps.melanin_pct.astype(np.float32, copy=False), maps.blood_pct.astype(np.float32, copy=False),
                       maps.valid.view(np.uint8).astype(np.float32)])
    cv2.patchNaNs(stack, 0.0)
    melanin, blood, measured = cv2.split(resample(stack))
    valid = measured > 0.999
    if inside is not None:
        valid &= inside
    invalid = np.logical_not(valid)
    nan = np.float32(np.nan)
    np.copyto(melanin, nan, where=invalid)
    np.copyto(blood, nan, where=invalid)
    return replace(maps, melanin_pct=melanin, blood_pct=blood, valid=valid, specular=resample(maps.specular))


def spectral_pair(*maps: ChromophoreMaps) -> bool:
    """True when every photo was measured in the spectral mode (figures carry across lights)."""
    return all(m.mode == "spectral" for m in maps)


def light_reason(*maps: ChromophoreMaps) -> str | None:
    """The first refusal of the light among the photos' maps ("light: ..."), or None."""
    for m in maps:
        if not m.light.ok:
            return m.light.reason
    return None
