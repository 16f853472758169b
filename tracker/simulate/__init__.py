"""Skin and photo simulator: known truths for testing the analysis, and demo photos.

Pure numpy / OpenCV / scikit-image / scipy; never Flask or SQLAlchemy.

- :func:`make_skin_scene` - a close-up of skin (chromophores, spots, relief), spectral.
- :func:`make_front_scene` - a real portrait with known skin detail added on the face.
- :func:`reference_render` - the truth: linear sRGB under D65; :func:`true_measures`.
- :func:`capture` - a photograph of a scene: light, exposure, gradient, geometry,
  ColorChecker, camera noise; :func:`encode_jpeg`, :func:`encode_png`.
- :func:`simulate_series` - a treatment series of photos with their truths.

Run ``python -m tracker.simulate OUT_DIR`` to write example images.
"""

from tracker.simulate.capture import Capture, CaptureParams, capture
from tracker.simulate.encode import encode_jpeg, encode_png
from tracker.simulate.front import FrontScene, FrontSceneParams, make_front_scene, rebuild_front_scene
from tracker.simulate.render import TrueMeasures, reference_render, true_measures
from tracker.simulate.scene import SkinScene, SkinSceneParams, Spot, make_skin_scene, rebuild_scene
from tracker.simulate.series import Series, SeriesPhoto, Visit, simulate_series

__all__ = [
    "Capture",
    "CaptureParams",
    "FrontScene",
    "FrontSceneParams",
    "Series",
    "SeriesPhoto",
    "SkinScene",
    "SkinSceneParams",
    "Spot",
    "TrueMeasures",
    "Visit",
    "capture",
    "encode_jpeg",
    "encode_png",
    "make_front_scene",
    "make_skin_scene",
    "rebuild_front_scene",
    "rebuild_scene",
    "reference_render",
    "simulate_series",
    "true_measures",
]
