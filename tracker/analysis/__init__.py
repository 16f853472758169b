"""Pure image science: decode, quality, alignment, colour calibration and skin measures.

Imports numpy, OpenCV and scikit-image only; never Flask, SQLAlchemy or storage.
The public entry point is :func:`analyze_photo` (see ``pipeline.py``).
"""
