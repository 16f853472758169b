"""The close-up skin scene: chromophore maps, pigment spots and surface relief.

A :class:`SkinScene` is a patch of facial skin at a known scale (default 0.05 mm
per pixel) described physically, per pixel:

- ``melanin_od`` (OD at 500 nm) = skin-type base x low-frequency mottling
  + pigment spots + optional post-inflammatory hyperpigmentation;
- ``haemoglobin_od`` (OD at 577 nm) = base x mottling + diffuse redness patches
  + fine vessels + optional treatment erythema (with fractional micro-dots);
- ``height_mm`` = - fine lines - pores - micro-relief furrows + roughness, which
  gives ``shading``: an achromatic factor (Lambert + cavity occlusion).

Every random layout is drawn from its own stream of ``seed``, so changing an
amplitude (redness, darkness, line depth) between visits keeps the layout.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage
from scipy.special import erfc

from tracker.simulate import fields as _f

#: Base melanin OD (at 500 nm) per Fitzpatrick skin type I-VI.
SKIN_TYPE_MELANIN_OD: dict[int, float] = {1: 0.08, 2: 0.18, 3: 0.35, 4: 0.65, 5: 1.2, 6: 2.0}


@dataclass(frozen=True)
class Spot:
    """A pigment spot (lentigo, sun spot): melanin OD added with a flat top and soft edge.

    Parameters
    ----------
    centre_mm : tuple of float
        (x, y) of the centre in scene millimetres from the top-left corner.
    diameter_mm : float
        Nominal diameter, mm: where the added OD falls to half the spot's peak.
    darkness : float
        Peak added melanin OD (at 500 nm), e.g. 0.2 faint to 0.8 dark.
    irregularity : float
        Relative radius modulation (low angular harmonics), 0 = circle, <= 0.3.
    """

    centre_mm: tuple[float, float]
    diameter_mm: float
    darkness: float
    irregularity: float = 0.0

    def __post_init__(self) -> None:
        if len(self.centre_mm) != 2 or not all(math.isfinite(float(c)) for c in self.centre_mm):
            raise ValueError(f"centre_mm must be two finite numbers, got {self.centre_mm!r}")
        if not self.diameter_mm > 0:
            raise ValueError(f"diameter_mm must be > 0, got {self.diameter_mm!r}")
        if not 0 <= self.darkness <= 3:
            raise ValueError(f"darkness must be in [0, 3] OD, got {self.darkness!r}")
        if not 0 <= self.irregularity <= 0.3:
            raise ValueError(f"irregularity must be in [0, 0.3], got {self.irregularity!r}")

    @property
    def edge_sigma_mm(self) -> float:
        """Softness of the edge (Gaussian sigma), mm."""
        return min(0.12 * self.diameter_mm, 0.25)


@dataclass(frozen=True)
class SkinSceneParams:
    """Everything :func:`make_skin_scene` was called with; rebuilding from it is exact."""

    seed: int
    shape_px: tuple[int, int] = (1024, 1024)
    mm_per_px: float = 0.05
    skin_type: int = 2
    melanin_od: float | None = None
    haemoglobin_od: float = 0.3
    mottling: float = 0.12
    redness: float = 0.35
    redness_patches: int = 3
    vessels: int = 2
    diffuse_redness: float = 0.0
    spots: tuple[Spot, ...] | None = None
    n_spots: int = 6
    spot_darkness: float = 0.35
    line_depth_mm: float = 0.08
    n_lines: int = 5
    line_angle_deg: float = 20.0
    pore_density_per_cm2: float = 60.0
    pore_depth_mm: float = 0.04
    roughness_mm: float = 0.006
    treatment_erythema: float = 0.0
    pih: float = 0.0
    light_azimuth_deg: float = 225.0
    light_zenith_deg: float = 45.0


@dataclass(frozen=True, eq=False)
class SkinScene:
    """A spectral skin scene. Arrays are (H, W) float32 unless noted.

    Attributes
    ----------
    melanin_od, haemoglobin_od : numpy.ndarray
        Optical densities (>= 0) at 500 nm and 577 nm.
    shading : numpy.ndarray
        Achromatic relief shading factor, ~1 on flat skin.
    height_mm : numpy.ndarray
        Surface height, mm (grooves negative).
    spot_mask : numpy.ndarray
        bool: pixels where some spot's added OD >= half that spot's peak.
    skin_mask : numpy.ndarray
        bool: pixels showing skin (all of a close-up).
    mm_per_px : float
        Scale, mm per scene pixel.
    spots : tuple of Spot
        The spots drawn (in scene mm).
    line_depth_mm : float
        Nominal depth of the fine lines, mm (each line's depth is this x a fixed factor).
    params : SkinSceneParams
        The generator's arguments.
    """

    melanin_od: np.ndarray
    haemoglobin_od: np.ndarray
    shading: np.ndarray
    height_mm: np.ndarray
    spot_mask: np.ndarray
    skin_mask: np.ndarray
    mm_per_px: float
    spots: tuple[Spot, ...]
    line_depth_mm: float
    params: SkinSceneParams = field(repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W) in pixels."""
        return self.melanin_od.shape  # type: ignore[return-value]


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def random_spots(
    *, seed: int, field_mm: tuple[float, float], n_spots: int, darkness: float = 0.35,
    diameter_range_mm: tuple[float, float] = (1.0, 4.0), margin_mm: float = 3.0,
) -> tuple[Spot, ...]:
    """Non-overlapping random spots inside a field (width, height) in mm, deterministic per seed."""
    rng = _rng(seed, 7)
    spots: list[Spot] = []
    w, h = field_mm
    margin_mm = min(margin_mm, 0.1 * min(w, h))
    for _ in range(n_spots * 50):
        if len(spots) == n_spots:
            break
        d = float(rng.uniform(*diameter_range_mm))
        if d + 2 * margin_mm >= min(w, h):
            continue
        c = (float(rng.uniform(margin_mm + d / 2, w - margin_mm - d / 2)), float(rng.uniform(margin_mm + d / 2, h - margin_mm - d / 2)))
        if any(math.dist(c, s.centre_mm) < (d + s.diameter_mm) / 2 + 1.5 for s in spots):
            continue
        dark = float(np.clip(darkness * rng.uniform(0.6, 1.4), 0.02, 3.0))
        spots.append(Spot(centre_mm=c, diameter_mm=d, darkness=dark, irregularity=float(rng.uniform(0.0, 0.15))))
    return tuple(spots)


def render_spots(
    spots: tuple[Spot, ...], shape: tuple[int, int], mm_per_px: float, *, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Added melanin OD of the spots and the truth spot mask, both (H, W)."""
    od = np.zeros(shape, np.float32)
    mask = np.zeros(shape, bool)
    for index, spot in enumerate(spots):
        radius = spot.diameter_mm / 2
        edge = spot.edge_sigma_mm
        reach = radius * (1 + spot.irregularity) + 4 * edge
        cx, cy = (c / mm_per_px for c in spot.centre_mm)
        x0, x1 = max(0, int(cx - reach / mm_per_px) - 1), min(shape[1], int(cx + reach / mm_per_px) + 2)
        y0, y1 = max(0, int(cy - reach / mm_per_px) - 1), min(shape[0], int(cy + reach / mm_per_px) + 2)
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dx = (xx - cx) * mm_per_px
        dy = (yy - cy) * mm_per_px
        r = np.hypot(dx, dy)
        rim = np.full_like(r, radius)
        if spot.irregularity > 0:
            rng = _rng(seed, 1000 + index)
            theta = np.arctan2(dy, dx)
            wobble = np.zeros_like(r)
            amps = rng.uniform(0.3, 1.0, 3) / np.arange(2, 5)
            amps /= amps.sum()
            for k, amp, phase in zip(range(2, 5), amps, rng.uniform(0, 2 * np.pi, 3)):
                wobble += amp * np.cos(k * theta + phase)
            rim = radius * (1 + spot.irregularity * wobble)
        # Scale the distance so that the half-peak contour is exactly the (wobbly) rim.
        rho = r * (radius / rim)
        profile = 0.5 * erfc((rho - radius) / (math.sqrt(2) * edge))
        peak = 0.5 * erfc(-radius / (math.sqrt(2) * edge))
        od[y0:y1, x0:x1] += (spot.darkness * profile).astype(np.float32)
        mask[y0:y1, x0:x1] |= profile >= 0.5 * peak
    return od, mask


def _redness_patches(rng: np.random.Generator, shape: tuple[int, int], mm_per_px: float, count: int) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.zeros(shape, np.float32)
    for _ in range(count):
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        sx, sy = (rng.uniform(4.0, 11.0, 2) / mm_per_px).astype(np.float32)
        angle = rng.uniform(0, np.pi)
        ca, sa = np.float32(np.cos(angle)), np.float32(np.sin(angle))
        u = (xx - cx) * ca + (yy - cy) * sa
        v = -(xx - cx) * sa + (yy - cy) * ca
        out += np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2)) * np.float32(rng.uniform(0.6, 1.0))
    # Patches are irregular, not Gaussian blobs: modulate by a medium-scale field.
    return out * np.clip(1.0 + 0.35 * _f.smooth_noise(rng, shape, 1.5 / mm_per_px), 0.2, 2.0)


def _vessels(rng: np.random.Generator, shape: tuple[int, int], mm_per_px: float, count: int) -> np.ndarray:
    h, w = shape
    out = np.zeros(shape, np.float32)
    for _ in range(count):
        start = np.array([rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h])
        for _branch in range(int(rng.integers(2, 5))):
            angle = rng.uniform(0, 2 * np.pi)
            length = rng.uniform(2.0, 7.0) / mm_per_px
            end = start + length * np.array([np.cos(angle), np.sin(angle)])
            pts, t = _f.curve_points(start, end, float(rng.uniform(-0.15, 0.15)))
            taper = (1.0 - 0.7 * t).astype(np.float32)
            out += _f.line_profile(shape, pts, taper, 0.04 / mm_per_px)
            start = end if rng.uniform() < 0.5 else start
    return np.minimum(out, 1.5)


def _lines(rng: np.random.Generator, shape: tuple[int, int], mm_per_px: float, count: int, angle_deg: float) -> np.ndarray:
    """Depth (>= 0) of the fine lines per unit nominal depth."""
    h, w = shape
    out = np.zeros(shape, np.float32)
    size = min(h, w)
    for _ in range(count):
        angle = np.deg2rad(angle_deg + rng.uniform(-15.0, 15.0))
        length = rng.uniform(0.4, 1.0) * size
        centre = np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.1, 0.9) * h])
        half = 0.5 * length * np.array([np.cos(angle), np.sin(angle)])
        pts, t = _f.curve_points(centre - half, centre + half, float(rng.uniform(-0.06, 0.06)))
        taper = (np.sin(np.pi * t) ** 0.5).astype(np.float32) * np.float32(rng.uniform(0.75, 1.25))
        sigma_px = rng.uniform(0.15, 0.3) / mm_per_px
        out += _f.line_profile(shape, pts, taper, sigma_px)
    return out


def _pores(rng: np.random.Generator, shape: tuple[int, int], mm_per_px: float, density_per_cm2: float) -> np.ndarray:
    """Depth (>= 0) of pores per unit nominal depth: Gaussian pits, two size classes."""
    h, w = shape
    area_cm2 = h * w * (mm_per_px / 10.0) ** 2
    out = np.zeros(shape, np.float32)
    for sigma_mm, share in ((0.04, 0.6), (0.07, 0.4)):
        n = int(rng.poisson(density_per_cm2 * area_cm2 * share))
        canvas = np.zeros(shape, np.float32)
        xy = np.column_stack([rng.uniform(0, w - 1, n), rng.uniform(0, h - 1, n)])
        sigma_px = max(sigma_mm / mm_per_px, 0.7)
        # Weight so that each pit's peak depth is ~1 after the blur.
        _f.splat(canvas, xy, rng.uniform(0.5, 1.5, n).astype(np.float32) * np.float32(2 * np.pi * sigma_px**2))
        out += _f.gaussian_blur(canvas, sigma_px)
    return out


def _furrows(rng: np.random.Generator, shape: tuple[int, int], mm_per_px: float) -> np.ndarray:
    """The skin's micro-relief: a network of shallow furrows around ~0.8 mm polygons (0..1)."""
    h, w = shape
    n = int(h * w * mm_per_px**2 / 0.6)
    seeds = np.zeros(shape, bool)
    seeds[rng.integers(0, h, n), rng.integers(0, w, n)] = True
    _, (iy, ix) = ndimage.distance_transform_edt(~seeds, return_indices=True)
    label = iy.astype(np.int64) * w + ix
    edges = np.zeros(shape, np.float32)
    edges[:, 1:] += label[:, 1:] != label[:, :-1]
    edges[1:, :] += label[1:, :] != label[:-1, :]
    return np.minimum(_f.gaussian_blur(np.minimum(edges, 1.0), max(0.04 / mm_per_px, 0.7)) * 2.5, 1.0)


def shading_from_height(
    height_mm: np.ndarray, mm_per_px: float, *, azimuth_deg: float, zenith_deg: float
) -> np.ndarray:
    """Achromatic shading of a height map: Lambert relative to flat skin x cavity occlusion.

    The light comes from ``azimuth_deg`` (image coordinates, y down) at ``zenith_deg``
    from the surface normal. Grooves are also darkened by occlusion (exp(-4 x depth
    below the 0.5 mm local mean in mm)), which is why deeper lines look darker even
    under flat light.
    """
    gy, gx = np.gradient(height_mm.astype(np.float32), mm_per_px)
    az, zen = np.deg2rad(azimuth_deg), np.deg2rad(zenith_deg)
    light = np.array([np.sin(zen) * np.cos(az), np.sin(zen) * np.sin(az), np.cos(zen)], np.float32)
    lambert = (-gx * light[0] - gy * light[1] + light[2]) / np.sqrt(1.0 + gx * gx + gy * gy) / light[2]
    cavity = np.maximum(_f.gaussian_blur(height_mm, 0.5 / mm_per_px) - height_mm, 0.0)
    return (np.clip(lambert, 0.15, 2.0) * np.exp(-4.0 * cavity)).astype(np.float32)


def make_skin_scene(
    *,
    seed: int,
    shape_px: tuple[int, int] = (1024, 1024),
    mm_per_px: float = 0.05,
    skin_type: int = 2,
    melanin_od: float | None = None,
    haemoglobin_od: float = 0.3,
    mottling: float = 0.12,
    redness: float = 0.35,
    redness_patches: int = 3,
    vessels: int = 2,
    diffuse_redness: float = 0.0,
    spots: tuple[Spot, ...] | None = None,
    n_spots: int = 6,
    spot_darkness: float = 0.35,
    line_depth_mm: float = 0.08,
    n_lines: int = 5,
    line_angle_deg: float = 20.0,
    pore_density_per_cm2: float = 60.0,
    pore_depth_mm: float = 0.04,
    roughness_mm: float = 0.006,
    treatment_erythema: float = 0.0,
    pih: float = 0.0,
    light_azimuth_deg: float = 225.0,
    light_zenith_deg: float = 45.0,
) -> SkinScene:
    """Generate a close-up skin scene with known chromophores, spots and relief.

    Parameters
    ----------
    seed : int
        Layout seed; the same arguments always give the same scene.
    shape_px : (int, int)
        (H, W) in pixels, each 16-8192.
    mm_per_px : float
        Scale, mm per pixel (0.05 = 20 px/mm).
    skin_type : int
        Fitzpatrick type 1-6, sets the base melanin OD (:data:`SKIN_TYPE_MELANIN_OD`).
    melanin_od : float, optional
        Base melanin OD at 500 nm, overriding ``skin_type``.
    haemoglobin_od : float
        Base haemoglobin OD at 577 nm (0.3 typical).
    mottling : float
        Relative standard deviation of the low-frequency chromophore mottling, 0-0.5.
    redness : float
        Peak haemoglobin OD added by the diffuse redness patches (and 0.8x for vessels).
    redness_patches, vessels : int
        How many diffuse redness patches and fine-vessel clusters.
    diffuse_redness : float
        Haemoglobin OD added over the whole field (mottled), e.g. rosacea-like background
        redness; with ``redness`` it is the "haemoglobin excess" a treatment fades.
    spots : tuple of Spot, optional
        Pigment spots; None draws ``n_spots`` random ones (1-4 mm) of mean ``spot_darkness``.
    line_depth_mm : float
        Nominal fine-line depth, mm (0-0.5).
    n_lines : int
        Number of fine lines, oriented near ``line_angle_deg`` (image coordinates).
    pore_density_per_cm2, pore_depth_mm, roughness_mm : float
        Pores (per cm2, mean depth mm) and the rms of fine roughness, mm.
    treatment_erythema : float
        Haemoglobin OD added over the whole field after a laser session, with
        fractional micro-thermal dots (0 = none, 0.5 strong).
    pih : float
        Post-inflammatory hyperpigmentation: melanin OD added in diffuse patches.
    light_azimuth_deg, light_zenith_deg : float
        Direction of the light that shades the relief.

    Returns
    -------
    SkinScene
    """
    if not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if len(shape_px) != 2 or not all(16 <= int(s) <= 8192 for s in shape_px):
        raise ValueError(f"shape_px must be (H, W) with each in [16, 8192], got {shape_px!r}")
    if not 0.005 <= mm_per_px <= 5.0:
        raise ValueError(f"mm_per_px must be in [0.005, 5], got {mm_per_px!r}")
    if skin_type not in SKIN_TYPE_MELANIN_OD:
        raise ValueError(f"skin_type must be 1-6, got {skin_type!r}")
    for name, value, hi in (
        ("haemoglobin_od", haemoglobin_od, 2.0), ("mottling", mottling, 0.5), ("redness", redness, 2.0),
        ("diffuse_redness", diffuse_redness, 2.0),
        ("line_depth_mm", line_depth_mm, 0.5), ("pore_depth_mm", pore_depth_mm, 0.3),
        ("roughness_mm", roughness_mm, 0.1), ("treatment_erythema", treatment_erythema, 2.0), ("pih", pih, 2.0),
        ("spot_darkness", spot_darkness, 3.0), ("pore_density_per_cm2", pore_density_per_cm2, 500.0),
    ):
        if not 0 <= value <= hi:
            raise ValueError(f"{name} must be in [0, {hi}], got {value!r}")
    if melanin_od is not None and not 0 <= melanin_od <= 2.5:
        raise ValueError(f"melanin_od must be in [0, 2.5], got {melanin_od!r}")
    if spots is not None and not all(isinstance(s, Spot) for s in spots):
        raise TypeError("spots must be a tuple of Spot")

    params = SkinSceneParams(
        seed=int(seed), shape_px=(int(shape_px[0]), int(shape_px[1])), mm_per_px=float(mm_per_px),
        skin_type=skin_type, melanin_od=melanin_od, haemoglobin_od=haemoglobin_od, mottling=mottling,
        redness=redness, redness_patches=redness_patches, vessels=vessels, diffuse_redness=diffuse_redness,
        spots=None if spots is None else tuple(spots), n_spots=n_spots, spot_darkness=spot_darkness,
        line_depth_mm=line_depth_mm, n_lines=n_lines, line_angle_deg=line_angle_deg,
        pore_density_per_cm2=pore_density_per_cm2, pore_depth_mm=pore_depth_mm, roughness_mm=roughness_mm,
        treatment_erythema=treatment_erythema, pih=pih,
        light_azimuth_deg=light_azimuth_deg, light_zenith_deg=light_zenith_deg,
    )
    shape = params.shape_px
    h, w = shape
    px = float(mm_per_px)

    # Chromophores.
    base_m = SKIN_TYPE_MELANIN_OD[skin_type] if melanin_od is None else melanin_od
    rng = _rng(seed, 1)
    mel = base_m * (1.0 + mottling * _f.smooth_noise(rng, shape, 3.0 / px)) * (1.0 + 0.5 * mottling * _f.smooth_noise(rng, shape, 0.6 / px))
    if spots is None:
        spots = random_spots(seed=seed, field_mm=(w * px, h * px), n_spots=n_spots, darkness=spot_darkness)
    spot_od, spot_mask = render_spots(tuple(spots), shape, px, seed=seed)
    mel = mel + spot_od
    if pih > 0:
        rng_pih = _rng(seed, 2)
        blotch = np.clip(_f.smooth_noise(rng_pih, shape, 2.5 / px) * 0.6 + 0.3, 0.0, None)
        mel = mel + pih * blotch

    rng = _rng(seed, 3)
    hb = haemoglobin_od * (1.0 + 0.5 * mottling * _f.smooth_noise(rng, shape, 2.0 / px))
    hb = hb + redness * _redness_patches(_rng(seed, 4), shape, px, redness_patches)
    if diffuse_redness > 0:
        hb = hb + diffuse_redness * np.clip(1.0 + 0.3 * _f.smooth_noise(_rng(seed, 12), shape, 5.0 / px), 0.2, 2.0)
    if vessels:
        hb = hb + 0.8 * redness * _vessels(_rng(seed, 5), shape, px, vessels)
    if treatment_erythema > 0:
        rng_t = _rng(seed, 6)
        diffuse = 0.8 + 0.2 * _f.smooth_noise(rng_t, shape, 4.0 / px)
        # Fractional micro-thermal zones: a jittered ~0.8 mm grid of ~0.15 mm dots.
        pitch = 0.8 / px
        gy, gx = np.mgrid[pitch / 2 : h : pitch, pitch / 2 : w : pitch]
        xy = np.column_stack([gx.ravel(), gy.ravel()]) + rng_t.normal(0, 0.12 * pitch, (gx.size, 2))
        dots = np.zeros(shape, np.float32)
        sigma = max(0.07 / px, 0.7)
        _f.splat(dots, xy, np.full(len(xy), 2 * np.pi * sigma**2, np.float32))
        hb = hb + treatment_erythema * (diffuse + 1.5 * _f.gaussian_blur(dots, sigma))

    # Relief: grooves and pits are negative heights.
    height = -line_depth_mm * _lines(_rng(seed, 8), shape, px, n_lines, line_angle_deg)
    height -= pore_depth_mm * _pores(_rng(seed, 9), shape, px, pore_density_per_cm2)
    height -= 0.006 * _furrows(_rng(seed, 10), shape, px)
    height += roughness_mm * _f.smooth_noise(_rng(seed, 11), shape, max(0.08 / px, 0.7))
    shading = shading_from_height(height, px, azimuth_deg=light_azimuth_deg, zenith_deg=light_zenith_deg)

    return SkinScene(
        melanin_od=np.clip(mel, 0.0, None).astype(np.float32),
        haemoglobin_od=np.clip(hb, 0.0, None).astype(np.float32),
        shading=shading,
        height_mm=height.astype(np.float32),
        spot_mask=spot_mask,
        skin_mask=np.ones(shape, bool),
        mm_per_px=px,
        spots=tuple(spots),
        line_depth_mm=float(line_depth_mm),
        params=params,
    )


def rebuild_scene(params: SkinSceneParams) -> SkinScene:
    """Regenerate the scene described by ``params`` (exactly the same arrays)."""
    kwargs = {name: getattr(params, name) for name in asdict(params)}
    return make_skin_scene(**kwargs)
