"""tracker: before/after photo progress tracking for laser skin-resurfacing clinics.

Only the version lives here, so that ``import tracker.analysis`` stays free of
Flask and SQLAlchemy.
"""

__version__ = "0.1.0"
