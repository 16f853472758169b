"""Find a 24-patch ColorChecker in a photo and fit a colour correction to it.

A photo whose colours could not make a chart (a close-up of skin) is not searched
(:mod:`.presence`). Detection uses OpenCV 5's ``cv2.mcc`` detector on a reduced copy of the photo
(it is slow and sometimes wrong at full resolution), then refines the patch
grid on the full-resolution image, works out the chart's orientation from the
patch colours, and samples each patch's inner area in linear light. A chart is
accepted only when its patches fit the reference colours well after
correction: a false chart fits badly.

The correction is fitted in linear RGB against :data:`chart_reference.REFERENCE_SRGB`
(decoded to linear light) with a planar illumination term, because a light
gradient across the frame also falls across the chart::

    (1 + a*u + b*v) * reference = M @ f(camera)

where ``f`` is the identity ("linear") or the degree-2 root-polynomial
expansion (Finlayson et al. 2015) and ``u, v`` are the normalised image
coordinates of each patch. The equation is linear in ``M``, ``a`` and ``b``,
so it is one least-squares solve. Camera values first pass through a shared,
fitted linearising tone curve (two parameters, variable projection): phone and
machine-vision JPEGs are not sRGB-linear, and without it one real photo fitted
at 9 CIEDE2000 instead of 1.7.

Modules: ``patches`` (reference colours, a detection's sampled patches, patch coordinates),
``detection`` (finding the chart and sampling it), ``correction`` (the registry of fit
methods and the fitted colour correction).
"""

from .correction import (
    DEFAULT_FIT_MODEL,
    DEFAULT_TONE_MODEL,
    FIT_METHODS,
    FIT_MODELS,
    OBJECTIVES,
    TONE_METHODS,
    TONE_MODELS,
    ColourCorrection,
    FitMethod,
    ToneModel,
    fit_colour_correction,
    validate_method,
)
from .detection import MAX_ACCEPTED_DELTA_E, detect_chart
from .patches import REFERENCE_LAB, REFERENCE_LINEAR, ChartDetection, normalised_coordinates

__all__ = [
    "ChartDetection",
    "ColourCorrection",
    "FIT_METHODS",
    "FIT_MODELS",
    "FitMethod",
    "DEFAULT_FIT_MODEL",
    "OBJECTIVES",
    "TONE_METHODS",
    "TONE_MODELS",
    "ToneModel",
    "DEFAULT_TONE_MODEL",
    "REFERENCE_LINEAR",
    "REFERENCE_LAB",
    "MAX_ACCEPTED_DELTA_E",
    "detect_chart",
    "fit_colour_correction",
    "normalised_coordinates",
    "validate_method",
]
