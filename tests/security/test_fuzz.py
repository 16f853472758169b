"""Bounded fuzzing of the decode and analysis entry points (hypothesis, derandomised so CI
is repeatable; seconds, not minutes). Damaged files may only ever raise the documented
error; whatever decodes comes out in the analysis convention."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from tests.services.factories import heic_bytes, jpeg_bytes, png_bytes
from tracker.analysis import analyze_photo
from tracker.analysis.decode import ImageDecodeError, decode_image
from tracker.services.errors import UploadRefused
from tracker.services.imaging import ImageInfo, embedded_markup, inspect_image_in_process, sniff_content_type

BOUNDED = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SEEDS = {"jpeg": jpeg_bytes(96, 72, seed=401), "png": png_bytes(96, 72, seed=402),
         "heic": heic_bytes(96, 72, seed=403)}


@st.composite
def damaged_files(draw) -> bytes:
    """A real small JPEG/PNG/HEIC with a few flipped bytes, a cut, or inserted junk."""
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(data) - 1))
        data[i] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(max_size=64))
    return bytes(data)


def _check_decoded(img) -> None:
    h, w, c = img.srgb.shape
    assert c == 3 and h >= 1 and w >= 1 and img.srgb.dtype == np.float32
    assert np.isfinite(img.srgb).all() and img.srgb.min() >= 0.0 and img.srgb.max() <= 1.0


@BOUNDED
@given(damaged_files())
def test_decode_image_on_damaged_files_decodes_or_raises_its_own_error(data):
    try:
        img = decode_image(data, max_pixels=4_000_000)
    except ImageDecodeError:
        return
    _check_decoded(img)


@BOUNDED
@given(st.binary(max_size=2048))
def test_decode_image_on_arbitrary_bytes(data):
    try:
        img = decode_image(data, max_pixels=4_000_000)
    except ImageDecodeError:
        return
    _check_decoded(img)


@BOUNDED
@given(damaged_files())
def test_the_upload_check_on_damaged_files_accepts_or_refuses_with_a_reason(data):
    try:
        info = inspect_image_in_process(data, max_pixels=4_000_000)
    except UploadRefused as e:
        assert e.message and e.message[0].isupper() and e.message.endswith(".")
        return
    assert isinstance(info, ImageInfo) and info.width >= 16 and info.height >= 16
    assert sniff_content_type(data) == info.content_type


@BOUNDED
@given(st.binary(max_size=4096), st.sampled_from(["image/jpeg", "image/png", "image/heic"]))
def test_the_byte_level_checks_never_fail_on_any_bytes(data, content_type):
    assert sniff_content_type(data) in (None, "image/jpeg", "image/png", "image/heic")
    assert embedded_markup(data, content_type) in (None, "<script", "<html", "<svg", "<iframe", "<body",
                                                   "<!doctype", "<object", "<embed", "javascript:")


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(arrays(np.uint8, st.tuples(st.integers(16, 96), st.integers(16, 96), st.just(3))),
       st.sampled_from(["PNG", "JPEG"]))
def test_the_analysis_entry_point_measures_or_refuses_any_small_image(pixels, fmt):
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, fmt)
    try:
        result = analyze_photo(buf.getvalue())
    except ImageDecodeError:
        pytest.fail("a valid small image was not decodable")
    data = result.to_dict()
    assert data["image"] == {"width": pixels.shape[1], "height": pixels.shape[0]}
    if not data["quality"]["ok"]:
        assert data["quality"]["reasons"], "a refusal must say why"
    for family in ("redness", "pigment", "texture"):
        for name, value in data[family].items():
            assert value is None or isinstance(value, (str, list, dict)) or math.isfinite(value), (family, name)
