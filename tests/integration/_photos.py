"""Small simulated close-ups: one capture re-encoded at different JPEG qualities, so every
upload has its own hash but all show the same skin (they align to the baseline)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=2)
def _capture_srgb(shape: tuple[int, int]):  # type: ignore[no-untyped-def]
    from tracker.simulate import capture, make_skin_scene

    scene = make_skin_scene(seed=11, shape_px=(int(shape[0] * 1.15), int(shape[1] * 1.15)), mm_per_px=0.05)
    return capture(scene, seed=3, out_shape=shape).srgb


def closeup_jpegs(n: int, *, shape: tuple[int, int] = (600, 800)) -> list[bytes]:
    from tracker.simulate import encode_jpeg

    srgb = _capture_srgb(shape)
    # 4:4:4 from quality 70 up passes the quality gate (tracker.analysis.quality).
    if n > 30:
        raise ValueError("at most 30 distinct qualities (70-99)")
    return [encode_jpeg(srgb, quality=70 + i, subsampling="4:4:4") for i in range(n)]
