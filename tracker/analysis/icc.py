"""An embedded RGB ICC profile's pixels converted to sRGB (littleCMS through Pillow)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageCms

from tracker.analysis.image_metadata import ImageDecodeError


def _is_srgb_description(description: str) -> bool:
    return "srgb" in description.lower().replace(" ", "")


def convert_icc_to_srgb(rgb: np.ndarray, icc_bytes: bytes, bit_depth: int) -> tuple[np.ndarray, str | None, bool]:
    """Convert from an embedded RGB ICC profile to sRGB; sRGB and non-RGB profiles pass through.

    Returns the pixels, the profile's description and whether they were converted.
    """
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc_bytes))
    except (OSError, TypeError, ValueError) as exc:
        raise ImageDecodeError(f"the embedded ICC colour profile is corrupt: {exc}") from exc
    description = (ImageCms.getProfileDescription(profile) or "").strip()
    if profile.profile.xcolor_space.strip() != "RGB" or _is_srgb_description(description):
        return rgb, description or None, False
    transform = ImageCms.buildTransform(
        profile, ImageCms.createProfile("sRGB"), "RGB", "RGB",
        renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC,
    )
    if bit_depth == 8:
        as_u8 = Image.fromarray(np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8), "RGB")
        out = ImageCms.applyTransform(as_u8, transform)
        return np.asarray(out, dtype=np.float32) * np.float32(1.0 / 255.0), description, True
    # littleCMS through Pillow has no 16-bit RGB mode: sample the transform on a
    # 33^3 lattice and interpolate trilinearly, which keeps the 16-bit input smooth.
    return _apply_lattice(rgb, transform), description, True


def _apply_lattice(rgb: np.ndarray, transform: ImageCms.ImageCmsTransform) -> np.ndarray:
    from scipy.ndimage import map_coordinates

    n = 33
    axis = np.linspace(0.0, 255.0, n)
    grid = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(1, -1, 3)
    lattice_in = Image.fromarray(np.rint(grid).astype(np.uint8), "RGB")
    lattice = np.asarray(ImageCms.applyTransform(lattice_in, transform), dtype=np.float32).reshape(n, n, n, 3) / 255.0
    coords = (rgb.reshape(-1, 3).T * (n - 1)).astype(np.float32)
    out = np.stack([map_coordinates(lattice[..., c], coords, order=1, mode="nearest") for c in range(3)], axis=-1)
    return out.reshape(rgb.shape).astype(np.float32)


