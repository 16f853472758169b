"""Melanin and haemoglobin maps by spectral inversion, calibrated from the chart in the frame.

The chart's 24 known reflectance spectra give each channel's camera x light response
(:mod:`response`); a two-layer skin model (:mod:`skin_model`) rendered through it is
inverted per pixel by table lookup (:mod:`inversion`). Unlike a colour-corrected
redness index, the result does not depend on which light (daylight, LED,
incandescent) or which white balance the photo was taken with; spiky fluorescent
light is recognised from the chart and refused.
"""

from tracker.analysis.chromophores.maps import (
    BLOOD_SATURATION,
    ChromophoreMaps,
    ChromophoreMeasure,
    chromophore_maps,
    measure_chromophores,
)
from tracker.analysis.chromophores.response import (
    CameraResponse,
    LightCheck,
    fit_response,
    light_check,
)

__all__ = [
    "BLOOD_SATURATION",
    "CameraResponse",
    "ChromophoreMaps",
    "ChromophoreMeasure",
    "LightCheck",
    "chromophore_maps",
    "fit_response",
    "light_check",
    "measure_chromophores",
]
